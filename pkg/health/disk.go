package health

import (
	"context"
	"errors"
	"fmt"

	"github.com/dustin/go-humanize"
)

// ErrLowDisk is returned (wrapped) by [Room] and [Disk.Check] when a
// filesystem has less free space than the minimum.
var ErrLowDisk = errors.New("disk space low")

// Dir is a directory a process writes, named for people ("data",
// "leaf", "store").
type Dir struct {
	Name, Path string
}

// Room returns nil when the filesystem of d has at least min bytes free
// for an unprivileged writer, and otherwise an error wrapping
// [ErrLowDisk] that names d, what is free and the minimum.
func Room(d Dir, min uint64) error {
	free, err := FreeBytes(d.Path)
	if err != nil {
		return fmt.Errorf("%s dir %s: %w", d.Name, d.Path, err)
	}
	return room(d, free, min)
}

func room(d Dir, free, min uint64) error {
	if free < min {
		return fmt.Errorf("%w: %s dir %s has %s free, below the minimum %s", ErrLowDisk, d.Name, d.Path, Bytes(free), Bytes(min))
	}
	return nil
}

// Bytes formats n bytes for people, in powers of 1024 (e.g. "256 MiB").
func Bytes(n uint64) string { return humanize.IBytes(n) }

// ParseBytes reads a size such as "256MiB", "1 GB" or "1048576".
func ParseBytes(s string) (uint64, error) { return humanize.ParseBytes(s) }

// Disk checks the free space of directories.
type Disk struct {
	Dirs []Dir
	// Min is the free space each filesystem must keep, in bytes.
	Min uint64
	// Record, if set, is told the free bytes of each directory measured.
	Record func(d Dir, free uint64)
}

// Check measures every directory and fails, naming each, when one is
// below Min or cannot be measured.
func (k Disk) Check(context.Context) error {
	var errs []error
	for _, d := range k.Dirs {
		free, err := FreeBytes(d.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s dir %s: %w", d.Name, d.Path, err))
			continue
		}
		if k.Record != nil {
			k.Record(d, free)
		}
		if err := room(d, free, k.Min); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
