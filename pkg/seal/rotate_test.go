package seal_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
)

// publish has state's node publish k in the directory, as after a
// rotation: a new entry signed with its SVID and verified.
func (n *network) publish(tb testing.TB, state string, k *seal.NodeKeys) {
	tb.Helper()
	now := time.Now()
	signed, err := seal.SignEntry(k.Entry(n.nodeID(state), now, now.Add(30*24*time.Hour), 2), n.svid(tb, state))
	if err != nil {
		tb.Fatal(err)
	}
	e, err := seal.VerifyEntry(signed, n.ca.Bundle(), n.ca.TD, now)
	if err != nil {
		tb.Fatal(err)
	}
	n.keys[state], n.dir[state] = k, e
}

// TestRetiredSigningKey: after MX rotates its signing key at T, what the
// old key signed for a time before T still verifies, and what it signs for
// T or later (a stolen or left-over key) does not.
func TestRetiredSigningKey(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["MX"]
	rotatedAt := created.Add(time.Hour)
	cur, err := old.RotateSign(rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	n.publish(t, "MX", cur)
	if n.dir["MX"].Version != seal.Version2 || len(n.dir["MX"].RetiredSign) != 1 {
		t.Fatalf("entry after rotation = version %d with %d retired keys, want version 2 with 1", n.dir["MX"].Version, len(n.dir["MX"].RetiredSign))
	}
	tests := []struct {
		name string
		keys *seal.NodeKeys
		at   time.Time
		want error
	}{
		{"old key before the rotation", old, rotatedAt.Add(-time.Nanosecond), nil},
		{"old key at the rotation", old, rotatedAt, seal.ErrKeyRetired},
		{"old key after the rotation", old, rotatedAt.Add(time.Hour), seal.ErrKeyRetired},
		{"new key after the rotation", cur, rotatedAt.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := n.header("MX")
			hdr.CreatedAt, hdr.ExpiresAt = tt.at, time.Time{}
			s, err := seal.Seal(hdr, body, n.public("BR"), tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.open(s, "BR"); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRetiredForwarderKey: a forward statement is checked at its own
// time against the forwarder's retired key.
func TestRetiredForwarderKey(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "PE")
	s := n.seal(t, "MX", body, "BR")
	old := n.keys["BR"]
	rotatedAt := forwardedAt.Add(time.Minute)
	cur, err := old.RotateSign(rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	n.publish(t, "BR", cur)
	for _, tt := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"before the rotation", rotatedAt.Add(-time.Second), nil},
		{"after the rotation", rotatedAt.Add(time.Second), seal.ErrKeyRetired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := n.statement("BR")
			st.At = tt.at
			f, err := seal.Forward(s, "BR", old, n.dir["PE"].PublicKeys(), st, old)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.openForwarded(f, "PE"); !errors.Is(err, tt.want) {
				t.Errorf("OpenForwarded = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotateSign(t *testing.T) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	first := k.Public()
	var ids []string
	at := created
	for range seal.MaxRetiredSignKeys + 2 {
		ids = append([]string{k.Public().SignKeyID}, ids...)
		at = at.Add(time.Hour)
		if k, err = k.RotateSign(at); err != nil {
			t.Fatal(err)
		}
	}
	if k.Public().KEMKeyID != first.KEMKeyID {
		t.Error("RotateSign changed the KEM key")
	}
	var got []string
	for _, r := range k.RetiredSignKeys() {
		got = append(got, r.KeyID)
	}
	if diff := cmp.Diff(ids[:seal.MaxRetiredSignKeys], got); diff != "" {
		t.Errorf("retired keys (-want newest first, +got):\n%s", diff)
	}
	if r := k.RetiredSignKeys()[0]; !r.RetiredAt.Equal(at) {
		t.Errorf("newest retirement at %v, want %v", r.RetiredAt, at)
	}
	r, err := k.RotateKEM()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k.RetiredSignKeys(), r.RetiredSignKeys()); diff != "" {
		t.Errorf("RotateKEM lost retired signing keys:\n%s", diff)
	}
	for _, bad := range []time.Time{{}, at, at.Add(-time.Hour)} {
		if _, err := k.RotateSign(bad); !errors.Is(err, seal.ErrMalformed) {
			t.Errorf("RotateSign(%v) = %v, want %v", bad, err, seal.ErrMalformed)
		}
	}
}

func TestPrivateKeysWithRetiredRoundTrip(t *testing.T) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if k, err = k.RotateSign(created.Add(time.Duration(i) * time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := seal.ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k.RetiredSignKeys(), k2.RetiredSignKeys()); diff != "" {
		t.Errorf("retired keys differ after a round trip (-want +got):\n%s", diff)
	}
	if b2, _ := k2.MarshalPrivate(); !bytes.Equal(b, b2) {
		t.Error("MarshalPrivate not canonical")
	}
	// The retired list ends the encoding: u8 n, then n × (u16 32, [32], i64).
	const item = 2 + 32 + 8
	tail := len(b) - 3*item
	swap := bytes.Clone(b)
	copy(swap[tail:], b[tail+item:tail+2*item])
	copy(swap[tail+item:], b[tail:tail+item])
	dup := bytes.Clone(b)
	copy(dup[tail+item:], b[tail:tail+item])
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"retired keys out of order", swap, seal.ErrMalformed},
		{"retired key repeated", dup, seal.ErrMalformed},
		{"retired key not Ed25519", append(append(bytes.Clone(b[:tail-1]), 1, 0, 31), make([]byte, 31+8)...), seal.ErrKey},
		{"retired count over the limit", append(bytes.Clone(b[:tail-1]), seal.MaxRetiredSignKeys+1), seal.ErrMalformed},
		{"retired count without keys", append(bytes.Clone(b[:tail-1]), 1), seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.ParsePrivate(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("ParsePrivate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKEMKey(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["BR"]
	s := n.seal(t, "MX", body, "BR")
	cur, err := old.RotateKEM()
	if err != nil {
		t.Fatal(err)
	}
	b, err := old.KEMKey().MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	kk, err := seal.ParseKEMPrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if kk.ID() != old.Public().KEMKeyID {
		t.Errorf("ParseKEMPrivate ID = %s, want %s", kk.ID(), old.Public().KEMKeyID)
	}
	if b2, _ := kk.MarshalPrivate(); !bytes.Equal(b, b2) {
		t.Error("KEMKey.MarshalPrivate not canonical")
	}
	if _, err := seal.Open(s, "BR", seal.Ring{cur, kk}, n.lookup, n.policy(), created); err != nil {
		t.Errorf("Open with the old generation as a KEMKey = %v", err)
	}
	if _, err := seal.Open(s, "BR", seal.Ring{cur, nil}, n.lookup, n.policy(), created); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("Open without the old generation = %v, want %v", err, seal.ErrUnknownKey)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, seal.ErrMalformed},
		{"node keys", mustPrivate(t, old), seal.ErrMalformed},
		{"version 2", append(append([]byte("IANTKEMK"), 2), b[9:]...), seal.ErrVersion},
		{"truncated", b[:len(b)-1], seal.ErrMalformed},
		{"trailing byte", append(bytes.Clone(b), 0), seal.ErrMalformed},
		{"unknown KEM", bytes.Replace(b, []byte("MLKEM768"), []byte("MLKEM512"), 1), seal.ErrKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.ParseKEMPrivate(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("ParseKEMPrivate = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustPrivate(tb testing.TB, k *seal.NodeKeys) []byte {
	tb.Helper()
	b, err := k.MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
