package health

import (
	"errors"
	"time"
)

// Defaults of [Config].
const (
	// DefaultInterval is how often the health checks run.
	DefaultInterval = 10 * time.Second
	// DefaultMinFreeDisk is the free disk space below which a node
	// refuses new work and its disk check fails.
	DefaultMinFreeDisk = 256 << 20
)

// Config configures a node's health checks, the same for a state node
// and the secretariat's. Zero values mean the documented defaults.
type Config struct {
	// Interval is how often the checks run; default [DefaultInterval].
	Interval time.Duration
	// MinFreeDisk is the free space, in bytes, the node's data
	// filesystems must keep: below it the disk check fails and new work
	// is refused (Unavailable, naming the disk). Default
	// [DefaultMinFreeDisk].
	MinFreeDisk uint64
}

// Validate reports a bad field of c, named as in a node's config
// ("Health.Interval").
func (c Config) Validate() error {
	if c.Interval < 0 {
		return errors.New("Health.Interval is negative")
	}
	return nil
}

// Every is how often the checks run: Interval or its default.
func (c Config) Every() time.Duration {
	if c.Interval == 0 {
		return DefaultInterval
	}
	return c.Interval
}

// MinFree is the free disk space to keep: MinFreeDisk or its default.
func (c Config) MinFree() uint64 {
	if c.MinFreeDisk == 0 {
		return DefaultMinFreeDisk
	}
	return c.MinFreeDisk
}
