package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Constant labels that tell the registrants of one registry apart.
const (
	// LabelNode names a node: its state code, or "secretariat".
	LabelNode = "node"
	// LabelServer names a backbone server (its configured name).
	LabelServer = "server"
)

// ErrRemote is returned by [CheckAddr] for an address beyond loopback
// when remote scraping was not allowed.
var ErrRemote = errors.New("metrics: not a loopback address")

// Register registers c with reg, every series of it carrying the
// constant label label=value, and returns the function that unregisters
// it. A nil reg registers nothing.
func Register(reg prometheus.Registerer, label, value string, c prometheus.Collector) (unregister func(), err error) {
	if reg == nil {
		return func() {}, nil
	}
	w := prometheus.WrapRegistererWith(prometheus.Labels{label: value}, reg)
	if err := w.Register(c); err != nil {
		return nil, fmt.Errorf("metrics: register %s=%s: %w", label, value, err)
	}
	return func() { w.Unregister(c) }, nil
}

// NewRegistry returns a registry holding the Go runtime's and the
// process's collectors (go_*, process_*): a daemon's or a demo's, to
// which its nodes and backbone server add theirs.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// CheckAddr checks a listen address (host:port). Metrics tell anyone who
// can connect how much each state sends and receives and how its node
// fares, so an address that is not loopback is refused with [ErrRemote]
// unless allowRemote; "localhost" counts as loopback, an empty host (all
// interfaces) does not.
func CheckAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port, e.g. 127.0.0.1:9464", addr)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrRemote, addr)
	}
	return nil
}

// ServerConfig configures a [Server].
type ServerConfig struct {
	// Addr is the listen address, host:port; port 0 picks a free port.
	// Required, and refused beyond loopback unless AllowRemote (see
	// [CheckAddr]).
	Addr        string
	AllowRemote bool
	// Gatherer is what /metrics serves. Required.
	Gatherer prometheus.Gatherer
	// Health, if set, answers /healthz: 200 "ok" when it returns nil, 503
	// with the error's text otherwise.
	Health func() error
	// Logger receives errors of the HTTP server; nil discards them.
	Logger *slog.Logger
}

// Server serves /metrics (and /healthz) over plain HTTP.
type Server struct {
	lis       net.Listener
	srv       *http.Server
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Listen checks cfg, listens and serves on a goroutine the Server owns.
func Listen(cfg ServerConfig) (*Server, error) {
	if cfg.Gatherer == nil {
		return nil, errors.New("metrics: Gatherer is required")
	}
	if err := CheckAddr(cfg.Addr, cfg.AllowRemote); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	if cfg.Health != nil {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := cfg.Health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, err)
				return
			}
			fmt.Fprintln(w, "ok")
		})
	}
	s := &Server{lis: lis, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	if cfg.Logger != nil {
		s.srv.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	}
	s.wg.Go(func() { _ = s.srv.Serve(lis) })
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL returns the URL of the metrics, http://ADDR/metrics.
func (s *Server) URL() string { return "http://" + s.Addr() + "/metrics" }

// Close stops the server, letting scrapes in flight finish for a few
// seconds, and waits for it. It is idempotent.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err = s.srv.Shutdown(ctx); err != nil {
			err = s.srv.Close()
		}
		s.wg.Wait()
	})
	return err
}
