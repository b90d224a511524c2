package seal_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

// otherID is the id of the bulletin the test replies and consents name.
const otherID = "01JBULLETIN0009"

// lifecycleHeaders are a header of each message kind of version 4, from
// MX (the origin of 01JBULLETIN0001) or, for a reply and a consent
// request, from BR about it.
func lifecycleHeaders(n *network) map[string]seal.Header {
	rev := n.header("MX")
	rev.Kind, rev.Revision = seal.KindRevision, 2
	revoke := n.header("MX")
	revoke.Kind, revoke.Revision, revoke.ExpiresAt = seal.KindRevocation, 2, time.Time{}
	reply := n.header("BR")
	reply.ID = otherID
	reply.Kind, reply.Subkind, reply.Ref = seal.KindReply, seal.ReplyRFI, seal.Ref{Origin: "MX", ID: "01JBULLETIN0001"}
	ask := reply
	ask.Kind, ask.Subkind = seal.KindConsentRequest, 0
	grant := n.header("MX")
	grant.ID = "01JBULLETIN0010"
	grant.Kind, grant.Subkind, grant.Ref = seal.KindConsentDecision, seal.ConsentGranted, seal.Ref{Origin: "MX", ID: "01JBULLETIN0001"}
	tr := reply
	tr.ID = "01JBULLETIN0011"
	tr.Kind, tr.Subkind = seal.KindTranslation, 0
	return map[string]seal.Header{"revision": rev, "revocation": revoke, "reply": reply, "consent request": ask,
		"consent decision": grant, "translation": tr}
}

// TestKindsRoundTrip: every message kind seals, round-trips through the
// wire and opens, its message fields as signed.
func TestKindsRoundTrip(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	for name, hdr := range lifecycleHeaders(n) {
		t.Run(name, func(t *testing.T) {
			to := "US"
			if hdr.Origin == "US" {
				to = "BR"
			}
			s, err := seal.Seal(hdr, body, n.public(to), n.keys[hdr.Origin])
			if err != nil {
				t.Fatal(err)
			}
			got := clone(t, s)
			if got.Kind != hdr.Kind || got.Revision != max(hdr.Revision, 1) || got.Subkind != hdr.Subkind || got.Ref != hdr.Ref {
				t.Errorf("round trip: kind %s revision %d subkind %d ref %v, want %s %d %d %v",
					got.Kind, got.Revision, got.Subkind, got.Ref, hdr.Kind, hdr.Revision, hdr.Subkind, hdr.Ref)
			}
			pt, err := n.open(got, to)
			if err != nil || !bytes.Equal(pt, body) {
				t.Errorf("Open = %q, %v", pt, err)
			}
		})
	}
}

// TestTamperKind: the message fields are signed; changing one is refused.
func TestTamperKind(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	h := lifecycleHeaders(n)
	reply, err := seal.Seal(h["reply"], body, n.public("MX", "US"), n.keys["BR"])
	if err != nil {
		t.Fatal(err)
	}
	rev, err := seal.Seal(h["revision"], body, n.public("BR", "US"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		orig   *seal.Sealed
		mutate func(*seal.Sealed)
		want   error
	}{
		{"reply as a note", reply, func(s *seal.Sealed) { s.Subkind = seal.ReplyNote }, seal.ErrSignature},
		{"reply to another bulletin", reply, func(s *seal.Sealed) { s.Ref.ID = "01JBULLETIN0002" }, seal.ErrSignature},
		{"reply to another origin", reply, func(s *seal.Sealed) { s.Ref.Origin = "CA" }, seal.ErrSignature},
		{"reply as a consent request", reply, func(s *seal.Sealed) { s.Kind, s.Subkind = seal.KindConsentRequest, 0 }, seal.ErrSignature},
		{"reply as a bulletin", reply, func(s *seal.Sealed) { s.Kind, s.Subkind, s.Ref = seal.KindBulletin, 0, seal.Ref{} }, seal.ErrSignature},
		{"revision renumbered", rev, func(s *seal.Sealed) { s.Revision = 3 }, seal.ErrSignature},
		{"revision as a first version", rev, func(s *seal.Sealed) { s.Kind, s.Revision = seal.KindBulletin, 1 }, seal.ErrSignature},
		{"revision as a revocation", rev, func(s *seal.Sealed) { s.Kind, s.ExpiresAt = seal.KindRevocation, time.Time{} }, seal.ErrSignature},
		{"revision as version 3", rev, func(s *seal.Sealed) { s.Version, s.Kind, s.Revision = seal.Version3, 0, 0 }, seal.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(t, tt.orig)
			tt.mutate(s)
			if _, err := n.open(s, "US"); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestEveryByteFlipRejectedV4 flips one bit of each byte of a revision's
// copy, a reply's copy and a revocation in turn: none opens.
func TestEveryByteFlipRejectedV4(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	h := lifecycleHeaders(n)
	for _, tt := range []struct{ name, from string }{{"revision", "MX"}, {"reply", "BR"}, {"revocation", "MX"}} {
		t.Run(tt.name, func(t *testing.T) {
			to := []string{"US", "BR"}
			if tt.from == "BR" {
				to = []string{"US", "MX"}
			}
			s, err := seal.Seal(h[tt.name], body, n.public(to...), n.keys[tt.from])
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.For("US")
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
					_, err = n.open(s, "US")
				}
				if err == nil {
					t.Fatalf("flipping bit %d of byte %d still opens", i%8, i)
				}
				counts[sentinel(err)]++
			}
			t.Logf("%d bytes, refusals: %v", len(b), counts)
		})
	}
}

// TestForwardRevocation: a state that forwarded a bulletin passes its
// origin's revocation on unchanged; the forward opens at the target with
// the origin's signed kind, and a state that did not receive the
// revocation cannot forward it.
func TestForwardRevocation(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	revoke, err := seal.Seal(lifecycleHeaders(n)["revocation"], body, n.public("BR", "US"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	f := n.forward(t, revoke, "BR", "PE")
	pt, err := seal.OpenForwarded(clone4(t, f), "PE", n.keys["PE"], n.lookup, n.policy(), created.Add(time.Hour))
	if err != nil || !bytes.Equal(pt, body) {
		t.Fatalf("OpenForwarded = %q, %v", pt, err)
	}
	if f.Sealed.MessageKind() != seal.KindRevocation || f.Sealed.MessageRevision() != 2 {
		t.Errorf("forwarded message is a %s of revision %d", f.Sealed.MessageKind(), f.Sealed.MessageRevision())
	}
	c, _ := revoke.For("BR")
	if _, err := seal.Forward(clone(t, c), "PE", n.keys["PE"], n.dir["CA"].PublicKeys(), n.statement("PE"), n.keys["PE"]); !errors.Is(err, seal.ErrNotRecipient) && !errors.Is(err, seal.ErrSigner) {
		t.Errorf("Forward by PE, not a recipient = %v", err)
	}
}

// clone4 deep-copies a forward through its wire form.
func clone4(tb testing.TB, f *seal.Forwarded) *seal.Forwarded {
	tb.Helper()
	b, err := f.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	g, err := seal.UnmarshalForwarded(b)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// TestBindKinds: a header binds only the message of its kind, revision,
// subkind and reference.
func TestBindKinds(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	h := lifecycleHeaders(n)
	reply, err := seal.Seal(h["reply"], body, n.public("MX"), n.keys["BR"])
	if err != nil {
		t.Fatal(err)
	}
	match := func() bulletin.Bulletin {
		return bulletin.Bulletin{ID: otherID, Origin: "BR", Precedence: 2, Marking: 3, CreatedAt: reply.CreatedAt,
			ExpiresAt: reply.ExpiresAt, Recipients: []string{"MX"},
			Reply: &bulletin.Reply{Kind: bulletin.ReplyRFI, InReplyTo: bulletin.Ref{Origin: "MX", ID: "01JBULLETIN0001"}}}
	}
	tests := []struct {
		name   string
		mutate func(*bulletin.Bulletin)
		field  string
	}{
		{"same", func(*bulletin.Bulletin) {}, ""},
		{"not a reply", func(b *bulletin.Bulletin) { b.Reply = nil }, "kind"},
		{"another reply kind", func(b *bulletin.Bulletin) { b.Reply.Kind = bulletin.ReplyNote }, "subkind"},
		{"another bulletin answered", func(b *bulletin.Bulletin) { b.Reply.InReplyTo.ID = "01JBULLETIN0002" }, "reference"},
		{"a revision number", func(b *bulletin.Bulletin) { b.Revision = 2 }, "revision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := match()
			tt.mutate(&b)
			err := reply.Header.Bind(&b)
			if tt.field == "" && err != nil || tt.field != "" && !errors.Is(err, seal.ErrBinding) {
				t.Errorf("Bind = %v, want a binding error naming %q", err, tt.field)
			}
		})
	}
}
