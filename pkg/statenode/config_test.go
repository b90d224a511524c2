package statenode_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/statenode"
)

const day = 24 * time.Hour

// TestConfigValidateKeysAndRetention: bad key and retention settings are
// refused before anything starts, naming the field.
func TestConfigValidateKeysAndRetention(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	_, vkey, err := note.GenerateKey(rand.Reader, "audit")
	if err != nil {
		t.Fatal(err)
	}
	_, mkey, err := membership.LoadOrCreateKey(t.TempDir(), ca.TD.Name())
	if err != nil {
		t.Fatal(err)
	}
	good := statenode.Config{
		TrustDomain: ca.TD, SVID: ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"}),
		Bundle: ca.Bundle(), DataDir: t.TempDir(), BackboneURLs: []string{"tls://127.0.0.1:1"},
		Audit: statenode.AuditConfig{VerifierKey: vkey}, MembershipKey: mkey,
	}
	if min := statenode.MinSignKeyRotation(0); min != (97*day+7)/8 {
		t.Errorf("MinSignKeyRotation(default) = %s, want (90 days + 7 days) / 8", min)
	}
	tests := []struct {
		name   string
		change func(*statenode.Config)
		want   string // "" when valid
	}{
		{"defaults", func(*statenode.Config) {}, ""},
		{"key file elsewhere", func(c *statenode.Config) { c.KeyFile = "/var/lib/iant-keys/mx/node.keys" }, ""},
		{"relative key file", func(c *statenode.Config) { c.KeyFile = "keys/node.keys" }, `KeyFile "keys/node.keys" is relative`},
		{"negative inbox retention", func(c *statenode.Config) { c.InboxRetention = -day }, "InboxRetention -24h0m0s is negative"},
		{"inbox retention within the de-duplication window", func(c *statenode.Config) { c.InboxRetention = time.Hour }, "InboxRetention 1h0m0s is shorter than 24h0m0s"},
		{"outbox retention of a minute", func(c *statenode.Config) { c.OutboxRetention = time.Minute }, "OutboxRetention 1m0s is shorter than 24h0m0s"},
		{"negative key rotation", func(c *statenode.Config) { c.KeyRotation = -time.Hour }, "KeyRotation -1h0m0s is negative"},
		{"negative sign key rotation", func(c *statenode.Config) { c.SignKeyRotation = -time.Hour }, "SignKeyRotation -1h0m0s is negative"},
		{"negative admission lag", func(c *statenode.Config) { c.Admission.Lag = -time.Second }, "Admission.Lag is negative"},
		{"negative admission posts", func(c *statenode.Config) { c.Admission.MaxPosts = -1 }, "Admission.MaxPosts is negative"},
		{"daily sign key rotation", func(c *statenode.Config) { c.SignKeyRotation = day }, "SignKeyRotation 24h0m0s is shorter than"},
		{"sign key rotation at the bound", func(c *statenode.Config) { c.SignKeyRotation = statenode.MinSignKeyRotation(0) }, ""},
		{"sign key rotation for a shorter inbox", func(c *statenode.Config) {
			c.InboxRetention, c.SignKeyRotation = 9*day, 2*day // 16 days of retired keys for 16 days of copies
		}, ""},
		{"sign key rotation too short for a longer inbox", func(c *statenode.Config) {
			c.InboxRetention, c.SignKeyRotation = 365*day, 30*day
		}, "SignKeyRotation 720h0m0s is shorter than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if tt.want != "" {
				if _, err := statenode.Start(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Start() = %v, want an error containing %q", err, tt.want)
				}
			}
		})
	}
}
