package seal_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

// sealConfidential seals body from MX to recipients with a confidential
// audience (version 5).
func (n *network) sealConfidential(tb testing.TB, to ...string) *seal.Sealed {
	tb.Helper()
	h := n.header("MX")
	h.Version = seal.Version5
	s, err := seal.Seal(h, body, n.public(to...), n.keys["MX"])
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConfidentialAudienceCopies(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA", "PE")
	s := n.sealConfidential(t, "BR", "US", "CA")
	if !s.IsConfidential() || len(s.Audience) != seal.AudienceSize {
		t.Fatalf("Seal: confidential %v, %d audience entries, want true, %d", s.IsConfidential(), len(s.Audience), seal.AudienceSize)
	}
	copies, err := s.Copies()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	for i, self := range []string{"BR", "US", "CA"} {
		b, err := copies[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		// The raw copy names its own recipient and no other: the others'
		// codes as the format writes a string (a u16 length, then the
		// bytes: two bare letters turn up in random bytes by chance) and
		// their KEM key IDs appear nowhere in its bytes.
		for _, other := range []string{"BR", "US", "CA"} {
			if other == self {
				continue
			}
			if bytes.Contains(b, append([]byte{0, byte(len(other))}, other...)) || bytes.Contains(b, []byte(n.dir[other].KEMKeyID)) {
				t.Errorf("%s's copy contains %s or its KEM key ID", self, other)
			}
		}
		if size != 0 && len(b) != size {
			t.Errorf("%s's copy is %d bytes, another is %d: sizes must not differ", self, len(b), size)
		}
		size = len(b)
		c, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Recipients, ","); got != self {
			t.Errorf("%s's copy names recipients %q, want only %s", self, got, self)
		}
		pt, err := n.open(c, self)
		if err != nil || !bytes.Equal(pt, body) {
			t.Errorf("Open(%s's copy) = %q, %v", self, pt, err)
		}
		if _, err := n.open(c, "PE"); !errors.Is(err, seal.ErrNotRecipient) {
			t.Errorf("Open(%s's copy) at PE = %v, want %v", self, err, seal.ErrNotRecipient)
		}
	}
}

// TestConfidentialSizeHidesAudience: a copy's size does not depend on
// how many states the bulletin went to.
func TestConfidentialSizeHidesAudience(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA", "PE", "CL")
	size := func(to ...string) int {
		c, err := n.sealConfidential(t, to...).For("BR")
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	one, five := size("BR"), size("BR", "US", "CA", "PE", "CL")
	if one != five {
		t.Errorf("copy sizes: %d for an audience of 1, %d for 5; want equal", one, five)
	}
}

// TestConfidentialForgedOpening: a recipient cannot make its copy claim
// another recipient (or itself under another salt or key) without the
// origin's commitment, nor drop the commitment's entries.
func TestConfidentialForgedOpening(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	s := n.sealConfidential(t, "BR", "US")
	for _, tt := range []struct {
		name string
		edit func(c *seal.Sealed)
		at   string
		want error
	}{
		{"salt changed", func(c *seal.Sealed) { c.Keys[0].Salt[0] ^= 1 }, "BR", seal.ErrAudience},
		{"claims US", func(c *seal.Sealed) { c.Keys[0].Recipient, c.Recipients[0] = "US", "US" }, "US", seal.ErrAudience},
		{"wrapped key swapped", func(c *seal.Sealed) { c.Keys[0].Enc[5] ^= 1 }, "BR", seal.ErrAudience},
		{"entry replaced", func(c *seal.Sealed) {
			c.Audience[len(c.Audience)-1] = [32]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}, "BR", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.For("BR")
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(c)
			_, err = seal.Open(c, tt.at, n.keys[tt.at], n.lookup, n.policy(), created.Add(time.Hour))
			switch {
			case err == nil:
				t.Fatal("Open of an altered copy succeeded")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestConfidentialAttestations(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA")
	s := n.sealConfidential(t, "BR", "US", "CA")
	full, err := s.Attest()
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Verify(n.lookup, n.policy()); err != nil {
		t.Fatalf("origin's attestation: %v", err)
	}
	if got := strings.Join(full.Header.Recipients, ","); got != "BR,US,CA" {
		t.Errorf("origin's attestation names %q, want BR,US,CA", got)
	}
	c, err := s.For("US")
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Attest()
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := seal.UnmarshalAttestation(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(n.lookup, n.policy()); err != nil {
		t.Fatalf("US's attestation: %v", err)
	}
	if got := strings.Join(back.Header.Recipients, ","); got != "US" || back.Header.Hash() != full.Header.Hash() {
		t.Errorf("US's attestation names %q (same signed header: %v), want US and the origin's header", got, back.Header.Hash() == full.Header.Hash())
	}
	back.Keys[0].Recipient, back.Header.Recipients[0] = "CA", "CA"
	if err := back.Verify(n.lookup, n.policy()); !errors.Is(err, seal.ErrAudience) {
		t.Errorf("US's attestation claiming CA: Verify = %v, want %v", err, seal.ErrAudience)
	}
}

func TestConfidentialNotForwarded(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "PE")
	c, err := n.sealConfidential(t, "BR").For("BR")
	if err != nil {
		t.Fatal(err)
	}
	st := seal.ForwardStatement{Signer: n.nodeID("BR"), Reason: "share", At: created.Add(time.Hour)}
	if _, err := seal.Forward(c, "BR", n.keys["BR"], n.dir["PE"].PublicKeys(), st, n.keys["BR"]); !errors.Is(err, seal.ErrVersionRefused) {
		t.Errorf("Forward(confidential) = %v, want %v", err, seal.ErrVersionRefused)
	}
}

func TestConfidentialEveryByteFlipRejected(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	c, err := n.sealConfidential(t, "US", "BR").For("BR")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := range b {
		m := append([]byte(nil), b...)
		m[i] ^= 1 << (i % 8)
		s, err := seal.Unmarshal(m)
		if err == nil {
			_, err = n.open(s, "BR")
		}
		if err == nil {
			t.Fatalf("flipping bit %d of byte %d still opens", i%8, i)
		}
		counts[sentinel(err)]++
	}
	t.Logf("%d bytes, refusals: %v", len(b), counts)
}

func TestBindConfidential(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	c, err := n.sealConfidential(t, "BR", "US").For("BR")
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header
	match := func() bulletin.Bulletin {
		return bulletin.Bulletin{ID: h.ID, Origin: "MX", Precedence: bulletin.Precedence(h.Precedence), Marking: bulletin.Marking(h.Marking),
			CreatedAt: h.CreatedAt, ExpiresAt: h.ExpiresAt, ConfidentialAudience: true}
	}
	for _, tt := range []struct {
		name   string
		mutate func(*bulletin.Bulletin)
		field  string
	}{
		{"content names no one", func(*bulletin.Bulletin) {}, ""},
		{"content names the recipients", func(b *bulletin.Bulletin) { b.Recipients = []string{"BR", "US"} }, "recipients"},
		{"content carries the releasability", func(b *bulletin.Bulletin) { b.Releasability.States = []string{"US"} }, "recipients"},
		{"content not marked confidential", func(b *bulletin.Bulletin) { b.ConfidentialAudience = false }, "confidential audience"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := match()
			tt.mutate(&b)
			err := h.Bind(&b)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Bind = %v, want nil", err)
			case tt.field != "" && (!errors.Is(err, seal.ErrBinding) || !strings.Contains(err.Error(), tt.field+" differs")):
				t.Errorf("Bind = %v, want %v naming %q", err, seal.ErrBinding, tt.field)
			}
		})
	}
	open := n.seal(t, "MX", body, "BR").Header
	b := bulletin.Bulletin{ID: open.ID, Origin: "MX", Precedence: bulletin.Precedence(open.Precedence), Marking: bulletin.Marking(open.Marking),
		CreatedAt: open.CreatedAt, ExpiresAt: open.ExpiresAt, Recipients: []string{"BR"}, ConfidentialAudience: true}
	if err := open.Bind(&b); !errors.Is(err, seal.ErrBinding) {
		t.Errorf("Bind(confidential content, version 4 header) = %v, want %v", err, seal.ErrBinding)
	}
}
