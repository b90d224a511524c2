package seal_test

import (
	"bytes"
	"crypto/hpke"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
)

var body = []byte(`{"title":"phishing wave","body":"indicators inside"}`)

func TestSealOpenRoundTrip(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	s := n.seal(t, "MX", body, "BR", "US")

	want := n.header("MX")
	want.Version = seal.Version4
	want.Kind, want.Revision = seal.KindBulletin, 1
	want.Suite = seal.SuiteV1
	want.KeyCommitment = s.KeyCommitment
	want.SignKeyID = n.dir["MX"].SignKeyID
	want.Recipients = []string{"BR", "US"}
	want.CiphertextHash = sha256.Sum256(s.Ciphertext)
	if diff := cmp.Diff(want, s.Header); diff != "" {
		t.Errorf("Seal header mismatch (-want +got):\n%s", diff)
	}
	if bytes.Contains(s.Ciphertext, []byte("phishing")) {
		t.Error("ciphertext contains plaintext")
	}
	for _, self := range []string{"BR", "US"} {
		got, err := n.open(clone(t, s), self)
		if err != nil {
			t.Fatalf("Open(%s) = %v", self, err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("Open(%s) = %q, want %q", self, got, body)
		}
	}
	for i, k := range s.Keys {
		if len(k.Enc) != 1168 {
			t.Errorf("len(Keys[%d].Enc) = %d, want 1168", i, len(k.Enc))
		}
	}
}

func TestSealEmptyPlaintext(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	got, err := n.open(n.seal(t, "MX", nil, "BR"), "BR")
	if err != nil || len(got) != 0 {
		t.Fatalf("Open = %q, %v, want empty, nil", got, err)
	}
}

func TestThirdStateCannotOpen(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA")
	s := n.seal(t, "MX", body, "BR", "US")

	if _, err := n.open(s, "CA"); !errors.Is(err, seal.ErrNotRecipient) {
		t.Errorf("Open by CA = %v, want ErrNotRecipient", err)
	}
	// CA's key ring cannot open BR's copy either.
	_, err := seal.Open(s, "BR", n.keys["CA"], n.lookup, seal.Policy{}, created)
	if !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("Open as BR with CA's keys = %v, want ErrUnknownKey", err)
	}

	// CA gets a key wrapped for itself under the same bulletin ID (from
	// another bulletin MX sent it) and swaps it in for US's.
	other := n.seal(t, "MX", []byte("other"), "CA")
	forged := clone(t, s)
	forged.Recipients[1] = "CA"
	forged.Keys[1] = other.Keys[0]
	if _, err := n.open(forged, "CA"); !errors.Is(err, seal.ErrSignature) {
		t.Errorf("Open of swapped-in key = %v, want ErrSignature", err)
	}
	// Moving BR's wrapped key from another bulletin breaks the signature too.
	moved := clone(t, s)
	moved.Keys[0] = n.seal(t, "MX", []byte("other"), "BR").Keys[0]
	if _, err := n.open(moved, "BR"); !errors.Is(err, seal.ErrSignature) {
		t.Errorf("Open of moved key = %v, want ErrSignature", err)
	}
}

func TestForgedOrigin(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	tests := []struct {
		name   string
		mutate func(*seal.Sealed)
	}{
		{"origin says US, signer is MX's node", func(s *seal.Sealed) { s.Origin = "US" }},
		{"origin and signer say US, MX's key signed", func(s *seal.Sealed) { s.Origin, s.Signer = "US", n.nodeID("US") }},
		{"signer is an analyst of MX", func(s *seal.Sealed) { s.Signer = "spiffe://iant.test/state/MX/analyst/ana" }},
		{"signer in another trust domain", func(s *seal.Sealed) { s.Signer = "spiffe://evil.test/state/MX/node/main" }},
		{"signer not a SPIFFE ID", func(s *seal.Sealed) { s.Signer = "mx-node" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(t, n.seal(t, "MX", body, "BR"))
			tt.mutate(s)
			if _, err := n.open(s, "BR"); !errors.Is(err, seal.ErrSigner) {
				t.Errorf("Open = %v, want ErrSigner", err)
			}
		})
	}
}

func TestSealRefuses(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	badKey := n.dir["BR"].PublicKeys()
	badKey.KEMPublic[0] ^= 1
	many := make([]seal.PublicKeys, seal.MaxRecipients+1)
	for i := range many {
		many[i] = n.dir["BR"].PublicKeys()
	}
	tests := []struct {
		name     string
		hdr      func(*seal.Header)
		to       []seal.PublicKeys
		pt       []byte
		noSigner bool
		want     error
	}{
		{name: "origin not the signer's state", hdr: func(h *seal.Header) { h.Origin = "US" }, want: seal.ErrSigner},
		{name: "signer is US's node", hdr: func(h *seal.Header) { h.Signer = n.nodeID("US") }, want: seal.ErrSigner},
		{name: "unknown suite", hdr: func(h *seal.Header) {
			h.Suite = seal.Suite{KEM: "RSA", KDF: "HKDF-SHA256", AEAD: "AES-256-GCM", Sig: "Ed25519"}
		}, want: seal.ErrSuite},
		{name: "version 6", hdr: func(h *seal.Header) { h.Version = 6 }, want: seal.ErrVersion},
		{name: "key commitment in version 2", hdr: func(h *seal.Header) { h.Version, h.KeyCommitment[0] = 2, 1 }, want: seal.ErrMalformed},
		{name: "message kind in version 3", hdr: func(h *seal.Header) { h.Version, h.Kind = 3, seal.KindRevision }, want: seal.ErrMalformed},
		{name: "unknown message kind", hdr: func(h *seal.Header) { h.Kind = 9 }, want: seal.ErrVersion},
		{name: "revision of revision 1", hdr: func(h *seal.Header) { h.Kind, h.Revision = seal.KindRevision, 1 }, want: seal.ErrMalformed},
		{name: "bulletin of revision 2", hdr: func(h *seal.Header) { h.Revision = 2 }, want: seal.ErrMalformed},
		{name: "revocation that expires", hdr: func(h *seal.Header) { h.Kind = seal.KindRevocation }, want: seal.ErrMalformed},
		{name: "reply without reference", hdr: func(h *seal.Header) { h.Kind, h.Subkind = seal.KindReply, seal.ReplyRFI }, want: seal.ErrMalformed},
		{name: "reply of unknown kind", hdr: func(h *seal.Header) {
			h.Kind, h.Subkind, h.Ref = seal.KindReply, 9, seal.Ref{Origin: "BR", ID: "01JOTHER"}
		}, want: seal.ErrVersion},
		{name: "bulletin with a reference", hdr: func(h *seal.Header) { h.Ref = seal.Ref{Origin: "BR", ID: "01JOTHER"} }, want: seal.ErrMalformed},
		{name: "bulletin with a subkind", hdr: func(h *seal.Header) { h.Subkind = 1 }, want: seal.ErrMalformed},
		{name: "revocation of an unknown subkind", hdr: func(h *seal.Header) {
			h.Kind, h.Subkind, h.ExpiresAt = seal.KindRevocation, 2, time.Time{}
		}, want: seal.ErrVersion},
		{name: "consent decision undecided", hdr: func(h *seal.Header) {
			h.Kind, h.Ref = seal.KindConsentDecision, seal.Ref{Origin: "MX", ID: "01JOTHER"}
		}, want: seal.ErrVersion},
		{name: "no id", hdr: func(h *seal.Header) { h.ID = "" }, want: seal.ErrMalformed},
		{name: "id with newline", hdr: func(h *seal.Header) { h.ID = "a\nb" }, want: seal.ErrMalformed},
		{name: "no created time", hdr: func(h *seal.Header) { h.CreatedAt = time.Time{} }, want: seal.ErrMalformed},
		{name: "expires before created", hdr: func(h *seal.Header) { h.ExpiresAt = created.Add(-time.Hour) }, want: seal.ErrMalformed},
		{name: "header recipients differ", hdr: func(h *seal.Header) { h.Recipients = []string{"US"} }, want: seal.ErrMalformed},
		{name: "no recipients", to: []seal.PublicKeys{}, want: seal.ErrMalformed},
		{name: "duplicate recipient", to: n.public("BR", "BR"), want: seal.ErrMalformed},
		{name: "too many recipients", to: many, want: seal.ErrTooLarge},
		{name: "plaintext too large", pt: make([]byte, seal.MaxCiphertext-15), want: seal.ErrTooLarge},
		{name: "key ID not the key's", to: []seal.PublicKeys{badKey}, want: seal.ErrKey},
		{name: "no signer", noSigner: true, want: seal.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := n.header("MX")
			if tt.hdr != nil {
				tt.hdr(&hdr)
			}
			if tt.to == nil {
				tt.to = n.public("BR")
			}
			if tt.pt == nil {
				tt.pt = body
			}
			signer := n.keys["MX"]
			if tt.noSigner {
				signer = nil
			}
			_, err := seal.Seal(hdr, tt.pt, tt.to, signer)
			if !errors.Is(err, tt.want) {
				t.Errorf("Seal = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSuitePolicy(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	sha512 := seal.SuiteV1
	sha512.KDF = "HKDF-SHA512"
	hdr := n.header("MX")
	hdr.Suite = sha512
	s, err := seal.Seal(hdr, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	unknown := clone(t, s)
	unknown.Suite.AEAD = "ROT13"
	tests := []struct {
		name string
		s    *seal.Sealed
		pol  seal.Policy
		want error
	}{
		{"default policy refuses another suite", s, seal.Policy{}, seal.ErrSuite},
		{"policy allowing only V1 refuses", s, seal.Policy{Allowed: []seal.Suite{seal.SuiteV1}}, seal.ErrSuite},
		{"policy allowing it opens", s, seal.Policy{Allowed: []seal.Suite{seal.SuiteV1, sha512}}, nil},
		{"unknown suite even if allowed", unknown, seal.Policy{Allowed: []seal.Suite{unknown.Suite}}, seal.ErrSuite},
		{"policy of another trust domain", s, seal.Policy{Allowed: []seal.Suite{sha512}, TrustDomain: mustTD(t, "other.test")}, seal.ErrSigner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seal.Open(tt.s, "BR", n.keys["BR"], n.lookup, tt.pol, created)
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["BR"]
	s := n.seal(t, "MX", body, "BR") // sealed to BR's old key
	current := n.add(t, "BR")        // BR rotates and republishes

	tests := []struct {
		name string
		ring seal.KeyRing
		want error
	}{
		{"ring with old and new", seal.Ring{current, old}, nil},
		{"old key alone", old, nil},
		{"ring without old", seal.Ring{current}, seal.ErrUnknownKey},
		{"empty ring", seal.Ring{}, seal.ErrUnknownKey},
		{"nil ring", nil, seal.ErrUnknownKey},
		{"wrong key under the old ID", wrongRing{current}, seal.ErrUnwrap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seal.Open(s, "BR", tt.ring, n.lookup, seal.Policy{}, created)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if err == nil && !bytes.Equal(got, body) {
				t.Errorf("Open = %q, want %q", got, body)
			}
		})
	}
	// New bulletins go to the new key.
	if got := n.seal(t, "MX", body, "BR").Keys[0].KEMKeyID; got != current.Public().KEMKeyID {
		t.Errorf("KEMKeyID = %s, want the new key's %s", got, current.Public().KEMKeyID)
	}
}

// wrongRing answers every key ID with the same key.
type wrongRing struct{ k *seal.NodeKeys }

func (r wrongRing) KEMPrivate(string) (hpke.PrivateKey, bool) {
	return r.k.KEMPrivate(r.k.Public().KEMKeyID)
}

func TestExpiry(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	s := n.seal(t, "MX", body, "BR")
	for _, tt := range []struct {
		now  time.Time
		want error
	}{
		{s.ExpiresAt.Add(-time.Nanosecond), nil},
		{s.ExpiresAt, seal.ErrExpired},
		{s.ExpiresAt.Add(time.Hour), seal.ErrExpired},
	} {
		if _, err := seal.Open(s, "BR", n.keys["BR"], n.lookup, seal.Policy{}, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("Open at %s = %v, want %v", tt.now, err, tt.want)
		}
	}
}

func TestSignerLookupErrors(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	s := n.seal(t, "MX", body, "BR")
	other := newNetwork(t, "MX")
	tests := []struct {
		name   string
		lookup seal.SignerLookup
		want   error
	}{
		{"nil lookup", nil, seal.ErrSigner},
		{"lookup fails", func(string, string) (seal.SignerKey, error) { return seal.SignerKey{}, errors.New("unknown") }, seal.ErrSigner},
		{"lookup returns no key", func(string, string) (seal.SignerKey, error) { return seal.SignerKey{}, nil }, seal.ErrSigner},
		{"another MX key", other.lookupAny, seal.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.Open(s, "BR", n.keys["BR"], tt.lookup, seal.Policy{}, created); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// lookupAny returns the origin's key whatever the key ID.
func (n *network) lookupAny(origin, _ string) (seal.SignerKey, error) {
	return n.lookup(origin, n.dir[origin].SignKeyID)
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	s := clone(t, n.seal(t, "MX", body, "BR"))
	s.Ciphertext[0] ^= 1
	_, err := n.open(s, "BR")
	if !errors.Is(err, seal.ErrCiphertextHash) {
		t.Fatalf("Open = %v, want ErrCiphertextHash", err)
	}
	if strings.Contains(err.Error(), "phishing") || !strings.HasPrefix(err.Error(), "seal: ") || strings.Count(err.Error(), "seal:") > 2 {
		t.Errorf("error %q leaks or mis-prefixes", err)
	}
}

func TestCopyFor(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA")
	s := n.seal(t, "MX", body, "BR", "US", "CA")
	full, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, self := range []string{"BR", "US", "CA"} {
		c, err := s.For(self)
		if err != nil {
			t.Fatalf("For(%s) = %v", self, err)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal(For(%s)) = %v", self, err)
		}
		if len(b) >= len(full)-2*1000 {
			t.Errorf("copy for %s is %d bytes, the full bulletin %d", self, len(b), len(full))
		}
		got, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(For(%s)) = %v", self, err)
		}
		if again, _ := got.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("Marshal(Unmarshal(copy for %s)) differs", self)
		}
		pt, err := n.open(got, self)
		if err != nil || !bytes.Equal(pt, body) {
			t.Errorf("Open(copy for %s) = %q, %v, want %q", self, pt, err, body)
		}
		if _, err := got.For(self); err != nil {
			t.Errorf("For(%s) of its own copy = %v", self, err)
		}
		other := "BR"
		if self == "BR" {
			other = "US"
		}
		if _, err := got.For(other); !errors.Is(err, seal.ErrNotRecipient) {
			t.Errorf("For(%s) of the copy for %s = %v, want %v", other, self, err, seal.ErrNotRecipient)
		}
	}
	if _, err := s.For("AR"); !errors.Is(err, seal.ErrNotRecipient) {
		t.Errorf("For(AR) = %v, want %v", err, seal.ErrNotRecipient)
	}
	hdr := n.header("MX")
	hdr.Version = seal.Version1
	v1, err := seal.Seal(hdr, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.For("BR"); !errors.Is(err, seal.ErrVersion) {
		t.Errorf("For of a version 1 bulletin = %v, want %v", err, seal.ErrVersion)
	}
}

// TestCopies checks that Copies makes, for each recipient in order, the
// very copy For makes, and refuses what For refuses.
func TestCopies(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA")
	s := n.seal(t, "MX", body, "BR", "US", "CA")
	cs, err := s.Copies()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(s.Recipients) {
		t.Fatalf("Copies made %d copies for %d recipients", len(cs), len(s.Recipients))
	}
	for i, r := range s.Recipients {
		want, err := s.For(r)
		if err != nil {
			t.Fatal(err)
		}
		wb, _ := want.Marshal()
		gb, err := cs[i].Marshal()
		if err != nil || !bytes.Equal(gb, wb) {
			t.Errorf("Copies()[%d] (for %s) differs from For(%s): %v", i, r, r, err)
		}
	}
	if _, err := cs[0].Copies(); !errors.Is(err, seal.ErrNotRecipient) {
		t.Errorf("Copies of a copy = %v, want %v", err, seal.ErrNotRecipient)
	}
	hdr := n.header("MX")
	hdr.Version = seal.Version1
	v1, err := seal.Seal(hdr, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.Copies(); !errors.Is(err, seal.ErrVersion) {
		t.Errorf("Copies of a version 1 bulletin = %v, want %v", err, seal.ErrVersion)
	}
}
