package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

// TestRotateSignKeyCompromised: "iantd rotate-sign-key -compromised" on a
// stopped node's config retires the key file's signing key as
// compromised and makes a new one; without a key file it creates none
// and says so; an unknown flag is refused.
func TestRotateSignKeyCompromised(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX"}})
	if err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(pki.Dir, "svid", "mx-node-node")
	keys := filepath.Join(dir, "keys", "mx.keys")
	cfg := filepath.Join(dir, "mx.yaml")
	body := fmt.Sprintf("trust_domain: iant.test\ndata_dir: %s\nlisten: 127.0.0.1:0\nkeys_file: %s\nsvid: {cert: %s.pem, key: %s.key, bundle: %s}\n"+
		"backbone: {urls: [nats://127.0.0.1:1]}\n", filepath.Join(dir, "mx"), keys, stem, stem, pki.BundleFile)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rotate := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"rotate-sign-key", "-config", cfg}, args...), &out, io.Discard)
		return out.String(), err
	}
	if _, err := rotate("-compromised"); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("rotate-sign-key without a key file = %v, want an error naming the key file", err)
	}
	if _, err := os.Stat(keys); !os.IsNotExist(err) {
		t.Fatalf("rotate-sign-key without a key file created one: %v", err)
	}
	ks, err := keystore.Open(keys, "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := ks.Current().Public().SignKeyID
	out, err := rotate("-compromised")
	if err != nil || !strings.Contains(out, old+" retired as compromised") {
		t.Fatalf("rotate-sign-key -compromised = %q, %v", out, err)
	}
	ks, err = keystore.Open(keys, "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := ks.Current().RetiredSignKeys()
	if len(r) != 1 || r[0].KeyID != old || !r[0].Compromised || ks.Current().Public().SignKeyID == old {
		t.Errorf("after rotate-sign-key -compromised: retired %+v, current %s", r, ks.Current().Public().SignKeyID)
	}
	if _, err := rotate("-bogus"); err == nil {
		t.Error("rotate-sign-key -bogus succeeded")
	}
}

// TestRotateSignKeyCompromisedKey: after a normal rotation, "iantd
// rotate-sign-key -compromised-key OLD" marks the retired key OLD
// compromised without rotating; again, it says it already is and
// changes nothing; the current key, an unknown key ID, and both flags
// together are refused with a message saying why.
func TestRotateSignKeyCompromisedKey(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX"}})
	if err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(pki.Dir, "svid", "mx-node-node")
	keys := filepath.Join(dir, "keys", "mx.keys")
	cfg := filepath.Join(dir, "mx.yaml")
	body := fmt.Sprintf("trust_domain: iant.test\ndata_dir: %s\nlisten: 127.0.0.1:0\nkeys_file: %s\nsvid: {cert: %s.pem, key: %s.key, bundle: %s}\n"+
		"backbone: {urls: [nats://127.0.0.1:1]}\n", filepath.Join(dir, "mx"), keys, stem, stem, pki.BundleFile)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rotate := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"rotate-sign-key", "-config", cfg}, args...), &out, io.Discard)
		return out.String(), err
	}
	ks, err := keystore.Open(keys, "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := ks.Current().Public().SignKeyID
	if _, err := rotate(); err != nil {
		t.Fatal(err)
	}
	reopen := func() *keystore.Store {
		t.Helper()
		ks, err := keystore.Open(keys, "MX", keystore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	current := reopen().Current().Public().SignKeyID
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"current key", []string{"-compromised-key", current}, "use -compromised"},
		{"unknown key", []string{"-compromised-key", "nope"}, "not a retired signing key"},
		{"both flags", []string{"-compromised", "-compromised-key", old}, "exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := rotate(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("rotate-sign-key %v = %v, want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
	if r := reopen().Current().RetiredSignKeys(); len(r) != 1 || r[0].Compromised {
		t.Fatalf("refused commands changed the key file: retired %+v", r)
	}
	out, err := rotate("-compromised-key", old)
	if err != nil || !strings.Contains(out, old+" marked compromised") {
		t.Fatalf("rotate-sign-key -compromised-key = %q, %v", out, err)
	}
	ks = reopen()
	if r := ks.Current().RetiredSignKeys(); len(r) != 1 || r[0].KeyID != old || !r[0].Compromised || ks.Current().Public().SignKeyID != current {
		t.Errorf("after -compromised-key: retired %+v, current %s (want %s)", r, ks.Current().Public().SignKeyID, current)
	}
	out, err = rotate("-compromised-key", old)
	if err != nil || !strings.Contains(out, "already marked compromised") {
		t.Errorf("rotate-sign-key -compromised-key again = %q, %v", out, err)
	}
}
