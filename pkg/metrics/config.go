package metrics

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is a daemon's "metrics:" section (iantd, iant-backbone). The
// zero value serves no metrics.
type Config struct {
	// Listen is where /metrics and /healthz are served, host:port, over
	// plain HTTP; empty serves none. A loopback address unless
	// AllowRemote.
	Listen string `yaml:"listen"`
	// AllowRemote allows Listen beyond loopback: the figures tell anyone
	// who can connect how much each state exchanges and how its node
	// fares, so put the port behind a firewall or a TLS proxy first.
	AllowRemote bool `yaml:"allow_remote"`
}

// Validate names the bad field of the section.
func (c Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	err := CheckAddr(c.Listen, c.AllowRemote)
	if errors.Is(err, ErrRemote) {
		return fmt.Errorf("metrics.listen %q is not a loopback address: the metrics tell anyone who can connect "+
			"how much each state exchanges; serve them beyond this host only behind a firewall or a TLS proxy, "+
			"and say so with metrics.allow_remote: true", c.Listen)
	}
	if err != nil {
		return fmt.Errorf("metrics.listen: %w", err)
	}
	return nil
}

// Serve serves g (and health at /healthz) as the section says; nil when
// it asks for no metrics.
func (c Config) Serve(g prometheus.Gatherer, health func() error, log *slog.Logger) (*Server, error) {
	if c.Listen == "" {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	srv, err := Listen(ServerConfig{Addr: c.Listen, AllowRemote: c.AllowRemote, Gatherer: g, Health: health, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w", c.Listen, err)
	}
	log.Info("metrics served", "url", srv.URL())
	return srv, nil
}
