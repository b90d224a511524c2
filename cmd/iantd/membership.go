package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/membership"
)

// membershipConfig is the "membership:" section of a state node: the
// secretariat's membership verifier key, with which the node checks the
// membership table and the deny list.
//
//	membership:
//	  verifier_key_file: membership.vkey  # state node, required: the secretariat's data_dir/membership.vkey
//
// The secretariat's node needs no section: it keeps its signing key in
// its data_dir (membership.key, membership.vkey beside it) and configures
// an embedded backbone with it.
type membershipConfig struct {
	VerifierKeyFile string `yaml:"verifier_key_file"`
}

// stateKey reads the verifier key a state node requires; errors name the
// bad key.
func (m membershipConfig) stateKey(td spiffeid.TrustDomain) (string, error) {
	if m.VerifierKeyFile == "" {
		return "", errors.New("membership.verifier_key_file is required at a state node: the secretariat's membership verifier key (the secretariat writes it to its data_dir/membership.vkey)")
	}
	b, err := os.ReadFile(m.VerifierKeyFile)
	if err != nil {
		return "", fmt.Errorf("membership.verifier_key_file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if _, err := membership.NewVerifier(td.Name(), key); err != nil {
		return "", fmt.Errorf("membership.verifier_key_file %s: %w", m.VerifierKeyFile, err)
	}
	return key, nil
}
