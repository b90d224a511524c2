package identity

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// SourceConfig names where a daemon takes its SVID and trust bundle from:
// PEM files (reloaded when they change), or the SPIFFE Workload API of a
// SPIRE agent. It is the "svid:" section of the daemons' YAML files.
type SourceConfig struct {
	// Cert, Key and Bundle are the SVID chain, its PKCS#8 key and the
	// trust bundle, as written by "iant certs init".
	Cert   string `yaml:"cert"`
	Key    string `yaml:"key"`
	Bundle string `yaml:"bundle"`
	// WorkloadAPI is the agent's socket, e.g. "unix:///run/spire/agent.sock".
	WorkloadAPI string `yaml:"workload_api"`
}

// Validate reports a config that names neither files nor the Workload API,
// or both.
func (c SourceConfig) Validate() error {
	switch {
	case c.WorkloadAPI == "" && (c.Cert == "" || c.Key == "" || c.Bundle == ""):
		return errors.New("svid: give cert, key and bundle files, or workload_api")
	case c.WorkloadAPI != "" && (c.Cert != "" || c.Key != "" || c.Bundle != ""):
		return errors.New("svid: give either files or workload_api, not both")
	}
	return nil
}

// Resolve makes relative file names relative to dir (the directory of the
// configuration file that names them).
func (c *SourceConfig) Resolve(dir string) {
	for _, p := range []*string{&c.Cert, &c.Key, &c.Bundle} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Open opens the sources c names. The returned close function releases
// them (the Workload API connection); call it when done.
func (c SourceConfig) Open(ctx context.Context, td spiffeid.TrustDomain) (x509svid.Source, x509bundle.Source, func() error, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if c.WorkloadAPI != "" {
		src, err := WorkloadAPI(ctx, c.WorkloadAPI)
		if err != nil {
			return nil, nil, nil, err
		}
		return src, src, src.Close, nil
	}
	src, err := LoadFiles(td, c.Cert, c.Key, c.Bundle)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("svid: %w", err)
	}
	return src, src, func() error { return nil }, nil
}
