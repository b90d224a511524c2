package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/audit"
)

// signerCheck re-verifies, offline, who said each log entry: the trust
// bundle and trust domain receipts are checked against.
type signerCheck struct {
	bundle *x509bundle.Bundle
	td     spiffeid.TrustDomain
}

// signerCheck loads the trust bundle of your context (--context or
// IANT_CONTEXT).
func (g *globals) signerCheck() (*signerCheck, error) {
	path := g.contextFile
	if path == "" {
		path = os.Getenv("IANT_CONTEXT")
	}
	if path == "" {
		return nil, usagef("no context: pass --context FILE or set IANT_CONTEXT")
	}
	c, err := g.loadContext(path)
	if err != nil {
		return nil, err
	}
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("context %s: trust_domain: %w", path, err)
	}
	file := c.Bundle
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(path), file)
	}
	b, err := x509bundle.Load(td, file)
	if err != nil {
		return nil, fmt.Errorf("trust bundle: %w", err)
	}
	return &signerCheck{bundle: b, td: td}, nil
}

// saidBy verifies who said the entry leaf: for a signed receipt (leaf
// format 2), its certificate chain against the bundle (when the
// certificate was issued: SVIDs are short-lived, the entry is not), its
// signature over event and evidence, and that the signer may report the
// event — a state's node about its own state, the secretariat's node its
// refusals and escalations. It returns the signer's SPIFFE ID, or "" for
// an entry of format 1, which carries no signature.
func (s *signerCheck) saidBy(leaf audit.Leaf) (string, error) {
	if leaf.Receipt == nil {
		return "", nil
	}
	c := leaf.Receipt.LeafCertificate()
	if c == nil {
		return "", errors.New("the receipt carries no certificate")
	}
	id, err := leaf.Receipt.Verify(s.bundle, s.td, c.NotBefore)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
