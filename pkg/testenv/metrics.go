package testenv

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/metrics"
)

// A network's metrics: one registry for the whole process, to which every
// node (node=<CC>, node=secretariat) and the embedded backbone server
// (server=<name>) register, as each iantd and iant-backbone does with
// its own. Served over HTTP when Options.MetricsAddr is set.

// metricsState is the network's registry and its HTTP server.
type metricsState struct {
	reg          *prometheus.Registry
	srv          *metrics.Server
	unregisterBB func()
}

// Registry returns the registry every node and the embedded backbone
// register their metrics with.
func (nw *Network) Registry() *prometheus.Registry { return nw.met.reg }

// MetricsURL returns the URL of the network's metrics,
// http://ADDR/metrics, or "" when Options.MetricsAddr was empty.
func (nw *Network) MetricsURL() string {
	if nw.met.srv == nil {
		return ""
	}
	return nw.met.srv.URL()
}

// serveMetrics makes the registry and, when addr is set, serves it; the
// /healthz of the demo's listener answers for the embedded backbone.
func (nw *Network) serveMetrics(addr string) error {
	nw.met.reg = metrics.NewRegistry()
	if addr == "" {
		return nil
	}
	srv, err := metrics.Listen(metrics.ServerConfig{Addr: addr, Gatherer: nw.met.reg, Health: nw.backboneHealth})
	if err != nil {
		return fmt.Errorf("testenv: metrics: %w", err)
	}
	nw.met.srv = srv
	return nil
}

// backboneHealth is the embedded backbone's health (none to report on an
// external one).
func (nw *Network) backboneHealth() error {
	if nw.Backbone == nil {
		return nil
	}
	return nw.Backbone.Health()
}

// registerBackbone registers the embedded server's collector, replacing
// one registered before (a restarted backbone).
func (nw *Network) registerBackbone(srv *backbone.Server) error {
	if nw.met.unregisterBB != nil {
		nw.met.unregisterBB()
	}
	un, err := metrics.Register(nw.met.reg, metrics.LabelServer, "iant-backbone", srv.Collector())
	if err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	nw.met.unregisterBB = un
	return nil
}

// closeMetrics stops the metrics server.
func (nw *Network) closeMetrics() error {
	if nw.met.srv == nil {
		return nil
	}
	return nw.met.srv.Close()
}

// minFreeDisk is the free space the network's nodes and backbone keep:
// the default, unless Options.MinFreeDisk sets one.
func (nw *Network) minFreeDisk() uint64 {
	if nw.opts.MinFreeDisk != 0 {
		return nw.opts.MinFreeDisk
	}
	return backbone.DefaultMinFreeDisk
}
