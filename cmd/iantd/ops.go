package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/health"
)

// healthConfig is the health: section: how often the node's checks run.
type healthConfig struct {
	// Interval is a duration, e.g. "10s"; empty means the default (10s).
	Interval string `yaml:"interval"`
}

// diskConfig is the disk: section: the free space the node keeps on the
// filesystems it writes (data_dir, the leaf's and the embedded
// backbone's stores).
type diskConfig struct {
	// MinFree is a size, e.g. "256MiB" (the default) or "2GB": below it
	// the node refuses posts, its disk check fails and an embedded
	// backbone refuses new messages.
	MinFree string `yaml:"min_free"`
}

// validateOps checks the metrics:, health: and disk: sections.
func (c config) validateOps() error {
	if err := c.Metrics.Validate(); err != nil {
		return err
	}
	if _, err := c.Health.interval(); err != nil {
		return err
	}
	_, err := c.Disk.minFree()
	return err
}

func (h healthConfig) interval() (time.Duration, error) {
	if h.Interval == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(h.Interval)
	if err != nil || d < 100*time.Millisecond {
		return 0, fmt.Errorf("health.interval %q: want a duration of at least 100ms, e.g. 10s", h.Interval)
	}
	return d, nil
}

// minFree parses disk.min_free; 0 means the default.
func (d diskConfig) minFree() (uint64, error) {
	if d.MinFree == "" {
		return 0, nil
	}
	n, err := health.ParseBytes(d.MinFree)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("disk.min_free %q: want a size above zero, e.g. 256MiB or 2GB", d.MinFree)
	}
	return n, nil
}

// serveMetrics serves the daemon's registry as the metrics: section says,
// with the node's health at /healthz.
func (d *daemon) serveMetrics(c config, reg prometheus.Gatherer, log *slog.Logger) error {
	srv, err := c.Metrics.Serve(reg, d.health, log)
	if err != nil || srv == nil {
		return err
	}
	d.metrics = srv
	d.closers = append([]func() error{srv.Close}, d.closers...)
	return nil
}

// health is the daemon's /healthz: its node's checks, and its embedded
// backbone's.
func (d *daemon) health() error {
	var errs []error
	if d.state != nil {
		errs = append(errs, d.state.Health())
	}
	if d.sec != nil {
		errs = append(errs, d.sec.Health())
	}
	if d.backbone != nil {
		errs = append(errs, d.backbone.Health())
	}
	return errors.Join(errs...)
}
