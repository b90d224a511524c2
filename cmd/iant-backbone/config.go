package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/dirlock"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/logconfig"
	"github.com/oas-cicte/iant/pkg/metrics"
	"github.com/oas-cicte/iant/pkg/yamlfile"
)

// config is one backbone server's YAML configuration file.
type config struct {
	TrustDomain string                `yaml:"trust_domain"`
	Name        string                `yaml:"name"`
	SVID        identity.SourceConfig `yaml:"svid"`
	// Listen is the client port nodes connect to (TLS), host:port.
	Listen   string         `yaml:"listen"`
	StoreDir string         `yaml:"store_dir"`
	Cluster  *clusterConfig `yaml:"cluster"`
	// LeafNodes is the port state leaf nodes connect to (TLS).
	LeafNodes *listenConfig `yaml:"leafnodes"`
	// Nodes are the SPIFFE IDs of the nodes allowed to connect.
	Nodes []string         `yaml:"nodes"`
	Log   logconfig.Config `yaml:"log"`
	// Membership names the secretariat's membership verifier key: with it
	// the server applies the signed membership table and deny list (see
	// backbone.ServerConfig.MembershipKey); without, Nodes alone decide.
	Membership struct {
		VerifierKeyFile string `yaml:"verifier_key_file"`
	} `yaml:"membership"`
	// Metrics serves /metrics and /healthz (docs/operations.md); off
	// when absent.
	Metrics metrics.Config `yaml:"metrics"`
	// Disk is the free space the server keeps on store_dir's filesystem.
	Disk diskConfig `yaml:"disk"`
}

// diskConfig is the disk: section.
type diskConfig struct {
	// MinFree is a size, e.g. "256MiB" (the default) or "2GB": below it
	// JetStream refuses new messages until space returns.
	MinFree string `yaml:"min_free"`
}

type clusterConfig struct {
	Name   string   `yaml:"name"`
	Listen string   `yaml:"listen"`
	Routes []string `yaml:"routes"`
	Peers  []string `yaml:"peers"`
}

type listenConfig struct {
	Listen string `yaml:"listen"`
}

// loadConfig reads and checks the file at path; relative paths in it are
// relative to the file.
func loadConfig(path string) (config, error) {
	var c config
	if err := yamlfile.Decode(path, &c); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	base := filepath.Dir(path)
	c.SVID.Resolve(base)
	if c.StoreDir != "" && !filepath.IsAbs(c.StoreDir) {
		c.StoreDir = filepath.Join(base, c.StoreDir)
	}
	if f := c.Membership.VerifierKeyFile; f != "" && !filepath.IsAbs(f) {
		c.Membership.VerifierKeyFile = filepath.Join(base, f)
	}
	if _, err := c.serverConfig(); err != nil {
		return config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// serverConfig translates c into the backbone's server config (without
// the SVID sources) and checks it.
func (c config) serverConfig() (backbone.ServerConfig, error) {
	var sc backbone.ServerConfig
	if c.TrustDomain == "" {
		return sc, errors.New("trust_domain is required")
	}
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return sc, fmt.Errorf("trust_domain: %w", err)
	}
	if c.StoreDir == "" {
		return sc, errors.New("store_dir is required")
	}
	if err := c.SVID.Validate(); err != nil {
		return sc, err
	}
	sc = backbone.ServerConfig{Name: c.Name, StoreDir: c.StoreDir, TrustDomain: td}
	if err := c.Metrics.Validate(); err != nil {
		return sc, err
	}
	if c.Disk.MinFree != "" {
		if sc.MinFreeDisk, err = health.ParseBytes(c.Disk.MinFree); err != nil || sc.MinFreeDisk == 0 {
			return sc, fmt.Errorf("disk.min_free %q: want a size above zero, e.g. 256MiB or 2GB", c.Disk.MinFree)
		}
	}
	if sc.Host, sc.Port, err = hostPort("listen", c.Listen); err != nil {
		return sc, err
	}
	if sc.Nodes, err = ids("nodes", c.Nodes); err != nil {
		return sc, err
	}
	if cl := c.Cluster; cl != nil {
		sc.Cluster = &backbone.ClusterConfig{Name: cl.Name, Routes: cl.Routes}
		if sc.Cluster.Host, sc.Cluster.Port, err = hostPort("cluster.listen", cl.Listen); err != nil {
			return sc, err
		}
		if sc.Cluster.Peers, err = ids("cluster.peers", cl.Peers); err != nil {
			return sc, err
		}
		if c.Name == "" {
			return sc, errors.New("name is required in a cluster (unique per server, e.g. hub-1)")
		}
	}
	if l := c.LeafNodes; l != nil {
		sc.LeafNodes = &backbone.ListenConfig{}
		if sc.LeafNodes.Host, sc.LeafNodes.Port, err = hostPort("leafnodes.listen", l.Listen); err != nil {
			return sc, err
		}
	}
	// The SVID sources are opened only at start.
	if err := sc.ValidateSettings(); err != nil {
		return sc, err
	}
	return sc, nil
}

// hostPort splits "host:port"; "" means the default (0).
func hostPort(field, s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%s %q: want host:port, e.g. 127.0.0.1:4222", field, s)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%s %q: port must be 1 to 65535", field, s)
	}
	return host, port, nil
}

// ids parses a list of SPIFFE IDs.
func ids(field string, ss []string) ([]spiffeid.ID, error) {
	out := make([]spiffeid.ID, 0, len(ss))
	for _, s := range ss {
		id, err := spiffeid.FromString(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", field, s, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// start locks the store dir (a second server on it is refused, naming the
// process that runs there), opens the SVID sources and starts the server.
// The returned function closes the sources and unlocks, after the server.
func start(ctx context.Context, c config, log *slog.Logger) (*backbone.Server, func() error, error) {
	sc, err := c.serverConfig()
	if err != nil {
		return nil, nil, err
	}
	td := sc.TrustDomain
	lock, err := dirlock.Lock(c.StoreDir)
	if le := (*dirlock.LockedError)(nil); errors.As(err, &le) {
		return nil, nil, fmt.Errorf("store_dir %s is in use by %s: is another iant-backbone running on it?", c.StoreDir, le.Holder())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store_dir: %w", err)
	}
	if sc.MembershipKey, err = c.membershipKey(); err != nil {
		return nil, nil, errors.Join(err, lock.Unlock())
	}
	svid, bundle, closeSrc, err := c.SVID.Open(ctx, td)
	if err != nil {
		return nil, nil, errors.Join(err, lock.Unlock())
	}
	sc.SVID, sc.Bundle, sc.Logger = svid, bundle, log
	srv, err := backbone.StartServer(ctx, sc)
	if err != nil {
		return nil, nil, errors.Join(err, closeSrc(), lock.Unlock())
	}
	ms, err := serveMetrics(c, srv, log)
	if err != nil {
		return nil, nil, errors.Join(err, srv.Close(), closeSrc(), lock.Unlock())
	}
	return srv, func() error { return errors.Join(ms(), closeSrc(), lock.Unlock()) }, nil
}

// serveMetrics serves the server's figures and health as the metrics:
// section says, and returns what stops it.
func serveMetrics(c config, srv *backbone.Server, log *slog.Logger) (func() error, error) {
	reg := metrics.NewRegistry()
	name := cmp.Or(c.Name, "iant-backbone")
	if _, err := metrics.Register(reg, metrics.LabelServer, name, srv.Collector()); err != nil {
		return nil, err
	}
	ms, err := c.Metrics.Serve(reg, srv.Health, log)
	if err != nil || ms == nil {
		return func() error { return nil }, err
	}
	return ms.Close, nil
}

// membershipKey reads membership.verifier_key_file, "" when none is named.
func (c config) membershipKey() (string, error) {
	f := c.Membership.VerifierKeyFile
	if f == "" {
		return "", nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("membership.verifier_key_file: %w (the secretariat writes it to its data_dir/membership.vkey; iant admin keygen makes it before the first start)", err)
	}
	return strings.TrimSpace(string(b)), nil
}
