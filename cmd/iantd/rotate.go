package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

// rotateSignKey is "iantd rotate-sign-key": it rotates a stopped state
// node's origin signing key in its key file (the running node rotates on
// SIGUSR2). With -compromised the retired key is marked compromised, for
// a node recovered after a break-in: once the node starts, its directory
// entry says so before it signs anything, and every node and the
// secretariat refuse whatever that key signed that they do not already
// hold (docs/operations.md, "A node's signing key is compromised").
//
//	iantd rotate-sign-key -config /etc/iant/mx.yaml -compromised
func rotateSignKey(ctx context.Context, args []string, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("iantd rotate-sign-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the stopped node's configuration file (YAML)")
	compromised := fs.Bool("compromised", false, "retire the current signing key as compromised")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" || fs.NArg() > 0 {
		return errors.New("rotate-sign-key: -config is required, and takes no arguments")
	}
	c, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	state, err := c.selfState(ctx)
	if err != nil {
		return fmt.Errorf("rotate-sign-key: %w", err)
	}
	unlocks, err := c.lockDirs() // the node must be stopped
	if err != nil {
		return fmt.Errorf("rotate-sign-key: %w", err)
	}
	defer func() {
		for _, u := range unlocks {
			u()
		}
	}()
	path := c.KeysFile
	if path == "" {
		path = filepath.Join(c.DataDir, "node.keys")
	}
	if _, err := os.Stat(path); err != nil { // Open would create fresh keys
		return fmt.Errorf("rotate-sign-key: key file: %w", err)
	}
	ks, err := keystore.Open(path, state, keystore.Options{})
	if err != nil {
		return fmt.Errorf("rotate-sign-key: %w", err)
	}
	old := ks.Current().Public().SignKeyID
	if err := ks.RotateSignWith(now, keystore.SignRotation{Compromised: *compromised}); err != nil {
		return fmt.Errorf("rotate-sign-key: %w", err)
	}
	how := "retired"
	if *compromised {
		how = "retired as compromised"
	}
	fmt.Fprintf(stdout, "signing key %s %s; new signing key %s: start the node to publish its directory entry\n",
		old, how, ks.Current().Public().SignKeyID)
	return nil
}

// selfState is the member state of the node whose SVID c names.
func (c config) selfState(ctx context.Context) (string, error) {
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return "", fmt.Errorf("trust_domain %q: %w", c.TrustDomain, err)
	}
	svid, _, closeSrc, err := c.SVID.Open(ctx, td)
	if err != nil {
		return "", err
	}
	defer closeSrc()
	self, err := identity.SelfFrom(svid, td)
	if err != nil {
		return "", err
	}
	if self.Role != identity.RoleNode {
		return "", fmt.Errorf("%s is not a state node: only state nodes hold signing keys", self)
	}
	return self.State, nil
}
