package seal_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
)

// forwardedAt is when test forwards are made.
var forwardedAt = created.Add(30 * time.Minute)

// statement is what a forwarding node of state passes to Forward.
func (n *network) statement(state string) seal.ForwardStatement {
	return seal.ForwardStatement{Signer: n.nodeID(state), Reason: "policy forward.onward: shared with a neighbour", At: forwardedAt}
}

// forward has state self forward its copy of s to state to.
func (n *network) forward(tb testing.TB, s *seal.Sealed, self, to string) *seal.Forwarded {
	tb.Helper()
	c, err := s.For(self)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := seal.Forward(clone(tb, c), self, n.keys[self], n.dir[to].PublicKeys(), n.statement(self), n.keys[self])
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (n *network) openForwarded(f *seal.Forwarded, self string) ([]byte, error) {
	return seal.OpenForwarded(f, self, n.keys[self], n.lookup, n.policy(), created.Add(time.Hour))
}

// cloneForwarded deep-copies f through its wire form.
func cloneForwarded(tb testing.TB, f *seal.Forwarded) *seal.Forwarded {
	tb.Helper()
	b, err := f.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := seal.UnmarshalForwarded(b)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestForwardRoundTrip(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	s := n.seal(t, "MX", body, "BR", "US")
	f := n.forward(t, s, "BR", "PE")

	want := seal.ForwardStatement{
		Origin: "MX", ID: s.ID, HeaderHash: s.Header.Hash(),
		Forwarder: "BR", Signer: n.nodeID("BR"), SignKeyID: n.dir["BR"].SignKeyID,
		Recipient: "PE", KEMKeyID: n.dir["PE"].KEMKeyID, KeyHash: f.Statement.KeyHash,
		Reason: n.statement("BR").Reason, At: forwardedAt,
	}
	if diff := cmp.Diff(want, f.Statement); diff != "" {
		t.Errorf("Forward statement mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(s.Header, f.Sealed.Header); diff != "" {
		t.Errorf("Forward changed the origin's header (-want +got):\n%s", diff)
	}
	if !bytes.Equal(f.Sealed.Signature, s.Signature) || !bytes.Equal(f.Sealed.Ciphertext, s.Ciphertext) {
		t.Error("Forward changed the origin's signature or ciphertext")
	}
	for i, k := range f.Sealed.Keys {
		if len(k.Enc) != 0 {
			t.Errorf("forward carries origin's wrapped key %d, want only its hash", i)
		}
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.UnmarshalForwarded(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("UnmarshalForwarded(Marshal(f)) differs (-want +got):\n%s", diff)
	}
	if again, _ := got.Marshal(); !bytes.Equal(again, b) {
		t.Error("Marshal(UnmarshalForwarded(b)) != b")
	}
	clear(b) // the result does not alias its input
	pt, err := n.openForwarded(got, "PE")
	if err != nil || !bytes.Equal(pt, body) {
		t.Fatalf("OpenForwarded = %q, %v, want %q", pt, err, body)
	}
	t.Logf("forwarded copy: %d bytes", len(mustMarshal(t, f)))
}

func mustMarshal(tb testing.TB, f *seal.Forwarded) []byte {
	tb.Helper()
	b, err := f.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestForwardRefuses: Forward makes no forward the receiver would refuse.
func TestForwardRefuses(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE", "CO")
	s := n.seal(t, "MX", body, "BR", "US")
	hdr := n.header("MX")
	hdr.Version = seal.Version2
	v2, err := seal.Seal(hdr, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	copyUS, err := s.For("US")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		c     *seal.Sealed
		self  string
		to    string
		st    func(*seal.ForwardStatement)
		keys  string // the forwarder's node keys; default self's
		ring  seal.KeyRing
		want  error
		noRng bool
	}{
		{name: "version 2 bulletin", c: v2, self: "BR", to: "PE", want: seal.ErrVersionRefused},
		{name: "origin forwards its own", self: "MX", to: "PE", want: seal.ErrOwnForward},
		{name: "forwarder never received it", self: "CO", to: "PE", want: seal.ErrNotRecipient},
		{name: "copy holding only the hash of its key", c: copyUS, self: "BR", to: "PE", want: seal.ErrNotRecipient},
		{name: "to a recipient of the origin", self: "BR", to: "US", want: seal.ErrAlreadyRecipient},
		{name: "back to the origin", self: "BR", to: "MX", want: seal.ErrAlreadyRecipient},
		{name: "keys of another state", self: "BR", to: "PE", keys: "US", want: seal.ErrSigner},
		{name: "signer of another state", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.Signer = n.nodeID("US") }, want: seal.ErrSigner},
		{name: "no reason", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.Reason = "" }, want: seal.ErrMalformed},
		{name: "reason with a newline", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.Reason = "ok\nforged log line" }, want: seal.ErrMalformed},
		{name: "no time", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.At = time.Time{} }, want: seal.ErrMalformed},
		{name: "before the bulletin was created", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.At = created.Add(-time.Second) }, want: seal.ErrStatement},
		{name: "at expiry", self: "BR", to: "PE", st: func(st *seal.ForwardStatement) { st.At = s.ExpiresAt }, want: seal.ErrExpired},
		{name: "ring without the forwarder's key", self: "BR", to: "PE", ring: n.keys["US"], want: seal.ErrUnknownKey},
		{name: "nil ring", self: "BR", to: "PE", noRng: true, want: seal.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if c == nil {
				c = s
			}
			st := n.statement(tt.self)
			if tt.st != nil {
				tt.st(&st)
			}
			keys := n.keys[tt.self]
			if tt.keys != "" {
				keys = n.keys[tt.keys]
			}
			ring := tt.ring
			if ring == nil && !tt.noRng {
				ring = n.keys[tt.self]
			}
			if _, err := seal.Forward(c, tt.self, ring, n.dir[tt.to].PublicKeys(), st, keys); !errors.Is(err, tt.want) {
				t.Errorf("Forward = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTamperForwarded changes one field of a forward at a time, as the
// backbone or a forwarder without re-signing could: each change is
// refused with its own sentinel.
func TestTamperForwarded(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE", "CO")
	orig := n.forward(t, n.seal(t, "MX", body, "BR", "US"), "BR", "PE")
	flip := func(b []byte, i int) { b[i] ^= 0x01 }
	tests := []struct {
		name   string
		mutate func(*seal.Forwarded)
		want   error
	}{
		{"origin header field", func(f *seal.Forwarded) { f.Sealed.Marking ^= 1 }, seal.ErrStatement},
		{"origin header and the statement's hash of it", func(f *seal.Forwarded) {
			f.Sealed.Marking ^= 1
			f.Statement.HeaderHash = f.Sealed.Header.Hash()
		}, seal.ErrSignature},
		{"origin key commitment", func(f *seal.Forwarded) { flip(f.Sealed.KeyCommitment[:], 0) }, seal.ErrStatement},
		{"origin signature", func(f *seal.Forwarded) { flip(f.Sealed.Signature, 3) }, seal.ErrSignature},
		{"origin's hash of a wrapped key", func(f *seal.Forwarded) { flip(f.Sealed.Keys[1].EncHash[:], 7) }, seal.ErrSignature},
		{"origin ciphertext", func(f *seal.Forwarded) { flip(f.Sealed.Ciphertext, 0) }, seal.ErrCiphertextHash},
		{"statement origin", func(f *seal.Forwarded) { f.Statement.Origin = "US" }, seal.ErrStatement},
		{"statement id", func(f *seal.Forwarded) { f.Statement.ID = "01JOTHER" }, seal.ErrStatement},
		{"statement key hash", func(f *seal.Forwarded) { flip(f.Statement.KeyHash[:], 0) }, seal.ErrStatement},
		{"wrapped key", func(f *seal.Forwarded) { flip(f.Key, 10) }, seal.ErrStatement},
		{"reason", func(f *seal.Forwarded) { f.Statement.Reason = "policy forward.anything" }, seal.ErrSignature},
		{"time", func(f *seal.Forwarded) { f.Statement.At = f.Statement.At.Add(time.Second) }, seal.ErrSignature},
		{"kem key id", func(f *seal.Forwarded) { f.Statement.KEMKeyID = otherHex(f.Statement.KEMKeyID) }, seal.ErrSignature},
		{"forwarder signature", func(f *seal.Forwarded) { flip(f.Signature, 0) }, seal.ErrSignature},
		{"forwarder renamed to another recipient", func(f *seal.Forwarded) { f.Statement.Forwarder = "US" }, seal.ErrSigner},
		{"forwarder and signer renamed", func(f *seal.Forwarded) {
			f.Statement.Forwarder, f.Statement.Signer = "US", n.nodeID("US")
		}, seal.ErrSigner},
		{"forwarder renamed to the origin", func(f *seal.Forwarded) { f.Statement.Forwarder = "MX" }, seal.ErrOwnForward},
		{"forwarder renamed to a non-recipient", func(f *seal.Forwarded) { f.Statement.Forwarder = "CO" }, seal.ErrNotHeld},
		{"recipient renamed", func(f *seal.Forwarded) { f.Statement.Recipient = "CO" }, seal.ErrSignature},
		{"no signature", func(f *seal.Forwarded) { f.Signature = nil }, seal.ErrMalformed},
		{"origin's own key left in", func(f *seal.Forwarded) { f.Sealed.Keys[0].Enc = bytes.Clone(f.Key) }, seal.ErrMalformed},
		{"origin as version 2", func(f *seal.Forwarded) { f.Sealed.Version, f.Sealed.KeyCommitment = seal.Version2, [32]byte{} }, seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cloneForwarded(t, orig)
			tt.mutate(f)
			if _, err := n.openForwarded(f, "PE"); !errors.Is(err, tt.want) {
				t.Errorf("OpenForwarded = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := n.openForwarded(orig, "PE"); err != nil {
		t.Fatalf("OpenForwarded(original) = %v after tampering with clones", err)
	}
}

// TestOpenForwardedRefuses opens a genuine forward where it must not open.
func TestOpenForwardedRefuses(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE", "CO")
	f := n.forward(t, n.seal(t, "MX", body, "BR", "US"), "BR", "PE")
	pol := n.policy()
	tests := []struct {
		name string
		self string
		ring seal.KeyRing
		look seal.SignerLookup
		pol  seal.Policy
		now  time.Time
		want error
	}{
		{name: "another state", self: "CO", want: seal.ErrNotRecipient},
		{name: "a recipient of the origin", self: "US", want: seal.ErrNotRecipient},
		{name: "expired", self: "PE", now: created.Add(72 * time.Hour), want: seal.ErrExpired},
		{name: "ring without the key", self: "PE", ring: n.keys["CO"], want: seal.ErrUnknownKey},
		{name: "wrong key under the ID", self: "PE", ring: wrongRing{n.keys["CO"]}, want: seal.ErrUnwrap},
		{name: "no signer lookup", self: "PE", look: func(string, string) (seal.SignerKey, error) { return seal.SignerKey{}, errors.New("none") }, want: seal.ErrSigner},
		{name: "policy of another trust domain", self: "PE", pol: seal.Policy{TrustDomain: mustTD(t, "other.test")}, want: seal.ErrSigner},
		{name: "suite not allowed", self: "PE", pol: seal.Policy{Allowed: []seal.Suite{{KEM: "X", KDF: "Y", AEAD: "Z", Sig: "W"}}}, want: seal.ErrSuite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, look, p, now := tt.ring, tt.look, tt.pol, tt.now
			if ring == nil {
				ring = n.keys[tt.self]
			}
			if look == nil {
				look = n.lookup
			}
			if p.TrustDomain.IsZero() && p.Allowed == nil {
				p = pol
			}
			if now.IsZero() {
				now = created.Add(time.Hour)
			}
			if _, err := seal.OpenForwarded(f, tt.self, ring, look, p, now); !errors.Is(err, tt.want) {
				t.Errorf("OpenForwarded = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestEveryByteFlipRejectedForwarded flips one bit of each byte of a
// marshaled forward in turn: none of the results opens.
func TestEveryByteFlipRejectedForwarded(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	f := n.forward(t, n.seal(t, "MX", body, "BR", "US"), "BR", "PE")
	b := mustMarshal(t, f)
	if _, err := n.openForwarded(f, "PE"); err != nil {
		t.Fatalf("OpenForwarded(untouched) = %v", err)
	}
	counts := map[string]int{}
	for i := range b {
		m := bytes.Clone(b)
		m[i] ^= 1 << (i % 8)
		g, err := seal.UnmarshalForwarded(m)
		if err == nil {
			_, err = n.openForwarded(g, "PE")
		}
		if err == nil {
			t.Fatalf("flipping bit %d of byte %d still opens", i%8, i)
		}
		counts[sentinel(err)]++
	}
	t.Logf("%d bytes, refusals: %v", len(b), counts)
}

func TestUnmarshalForwardedRejects(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	b := mustMarshal(t, n.forward(t, n.seal(t, "MX", body, "BR", "US"), "BR", "PE"))
	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, seal.ErrMalformed},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'J'; return b }), seal.ErrMalformed},
		{"version 2", edit(func(b []byte) []byte { b[8] = 2; return b }), seal.ErrVersion},
		{"origin of an unknown version", edit(func(b []byte) []byte { b[13+8] = 9; return b }), seal.ErrVersion},
		{"a sealed bulletin", mustMarshalSealed(t, n.seal(t, "MX", body, "BR")), seal.ErrMalformed},
		{"truncated", b[:len(b)-1], seal.ErrMalformed},
		{"trailing byte", append(bytes.Clone(b), 0), seal.ErrMalformed},
		{"reason with a control character", bytes.Replace(b, []byte("shared with"), []byte("shared\x1bwith"), 1), seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.UnmarshalForwarded(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("UnmarshalForwarded = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustMarshalSealed(tb testing.TB, s *seal.Sealed) []byte {
	tb.Helper()
	b, err := s.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// otherHex returns hex id with its first digit changed (never the same
// id, whatever id is).
func otherHex(id string) string {
	if id[0] == '0' {
		return "1" + id[1:]
	}
	return "0" + id[1:]
}
