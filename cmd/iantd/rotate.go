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
// With -compromised-key KEYID it rotates nothing: it marks that retired
// key compromised, for a break-in found after a normal rotation (the
// node publishes the mark when it starts): any signing key the key file
// ever retired, even one rotated out of the directory entry's retired
// list since (the entry then names it beyond that list). It refuses an unknown key ID
// and the current key (use -compromised); a key already marked is
// reported and left as it is (exit status 0).
//
//	iantd rotate-sign-key -config /etc/iant/mx.yaml -compromised
//	iantd rotate-sign-key -config /etc/iant/mx.yaml -compromised-key KEYID
func rotateSignKey(ctx context.Context, args []string, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("iantd rotate-sign-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the stopped node's configuration file (YAML)")
	compromised := fs.Bool("compromised", false, "retire the current signing key as compromised")
	markKey := fs.String("compromised-key", "", "mark this retired signing key (key ID, any the key file ever retired) compromised; rotates nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" || fs.NArg() > 0 {
		return errors.New("rotate-sign-key: -config is required, and takes no arguments")
	}
	if *compromised && *markKey != "" {
		return errors.New("rotate-sign-key: -compromised and -compromised-key exclude each other")
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
	if *markKey != "" {
		return markCompromised(ks, *markKey, stdout)
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

// markCompromised marks the retired signing key keyID of ks compromised.
func markCompromised(ks *keystore.Store, keyID string, stdout io.Writer) error {
	err := ks.MarkCompromised(keyID)
	switch {
	case errors.Is(err, keystore.ErrAlreadyCompromised):
		fmt.Fprintf(stdout, "signing key %s is already marked compromised; nothing changed\n", keyID)
		return nil
	case errors.Is(err, keystore.ErrCurrentSignKey):
		return fmt.Errorf("rotate-sign-key: -compromised-key %s is the current signing key: use -compromised to rotate it", keyID)
	case errors.Is(err, keystore.ErrUnknownSignKey):
		return fmt.Errorf("rotate-sign-key: -compromised-key: %q is not a retired signing key of this node", keyID)
	case err != nil:
		return fmt.Errorf("rotate-sign-key: %w", err)
	}
	fmt.Fprintf(stdout, "retired signing key %s marked compromised: start the node to publish its directory entry\n", keyID)
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
