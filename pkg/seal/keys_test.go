package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/seal"
)

func mustTD(tb testing.TB, name string) spiffeid.TrustDomain {
	tb.Helper()
	td, err := spiffeid.TrustDomainFromString(name)
	if err != nil {
		tb.Fatal(err)
	}
	return td
}

func TestGenerateNodeKeys(t *testing.T) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	p := k.Public()
	if len(p.KEMPublic) != 1216 || len(p.SignPublic) != 32 {
		t.Errorf("public key sizes = %d, %d, want 1216, 32", len(p.KEMPublic), len(p.SignPublic))
	}
	if p.KEMKeyID != seal.KeyID("MLKEM768-X25519", p.KEMPublic) || p.SignKeyID != seal.KeyID("Ed25519", p.SignPublic) || len(p.KEMKeyID) != 32 {
		t.Errorf("key IDs %s, %s do not match keys", p.KEMKeyID, p.SignKeyID)
	}
	if _, err := seal.GenerateNodeKeys("XX"); !errors.Is(err, seal.ErrMalformed) {
		t.Errorf("GenerateNodeKeys(XX) = %v, want ErrMalformed", err)
	}
}

func TestPrivateKeysRoundTrip(t *testing.T) {
	k, err := seal.GenerateNodeKeys("BR")
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := seal.ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k.Public(), k2.Public()); diff != "" {
		t.Errorf("ParsePrivate(MarshalPrivate) public keys differ (-want +got):\n%s", diff)
	}
	b2, _ := k2.MarshalPrivate()
	if !bytes.Equal(b, b2) {
		t.Error("MarshalPrivate not canonical")
	}

	// The parsed keys open what the original keys were sent.
	n := newNetwork(t, "MX")
	hdr := n.header("MX")
	s, err := seal.Seal(hdr, body, []seal.PublicKeys{k.Public()}, n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(s, "BR", k2, n.lookup, seal.Policy{}, created); err != nil {
		t.Errorf("Open with parsed keys = %v", err)
	}

	bad := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, seal.ErrMalformed},
		{"bad magic", bad(func(b []byte) []byte { b[0] = 'X'; return b }), seal.ErrMalformed},
		{"version 5", bad(func(b []byte) []byte { b[8] = 5; return b }), seal.ErrVersion},
		{"version 2 bytes as version 1", bad(func(b []byte) []byte { b[8] = 1; return b }), seal.ErrMalformed},
		{"truncated", b[:len(b)-1], seal.ErrMalformed},
		{"trailing byte", append(bytes.Clone(b), 0), seal.ErrMalformed},
		{"unknown state", bad(func(b []byte) []byte { b[11] = 'Z'; return b }), seal.ErrMalformed},
		{"unknown algorithm", bad(func(b []byte) []byte { return bytes.Replace(b, []byte("Ed25519"), []byte("Ed44800"), 1) }), seal.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.ParsePrivate(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("ParsePrivate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotateKEMKeepsSigningKey(t *testing.T) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.RotateKEM()
	if err != nil {
		t.Fatal(err)
	}
	old, cur := k.Public(), r.Public()
	if old.KEMKeyID == cur.KEMKeyID {
		t.Error("RotateKEM kept the KEM key")
	}
	if old.SignKeyID != cur.SignKeyID || r.State() != "MX" {
		t.Errorf("RotateKEM changed the signing key or state: %s/%s -> %s/%s", old.SignKeyID, k.State(), cur.SignKeyID, r.State())
	}
	if _, ok := (seal.Ring{r, k}).KEMPrivate(old.KEMKeyID); !ok {
		t.Error("ring of new and old keys lost the old KEM key")
	}
}
