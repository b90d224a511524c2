package hostile_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRecipientCannotLearnAudience: MX warns US, CA and BR with a
// confidential audience, and a small one to US alone. US, compromised,
// studies what it holds: its copy carries no other recipient's code, KEM
// key id or wrapped-key hash; its own salt opens no other entry for any
// member state; its copy of the three-state bulletin is exactly as large
// as that of the one-state bulletin; an opening claiming another state
// fails; and the secretariat does not show it the delivery report.
func TestRecipientCannotLearnAudience(t *testing.T) {
	t.Parallel()
	states := []string{"MX", "US", "CA", "BR", "PE"}
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: states}))
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(to ...string) string {
		d := nettest.Draft("Neighbour under investigation", to...)
		d.ConfidentialAudience = true
		return nettest.Post(t, mx, d).GetBulletin().GetId()
	}
	wide, narrow := post("US", "CA", "BR"), post("US")
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, wide)
	nettest.WaitStored(t, us, narrow)

	c := inboxCopy(t, nw, "US", "MX", wide)
	raw, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"CA", "BR", "PE"} {
		if kid := nettest.NodeKeys(t, nw, other).Public().KEMKeyID; bytes.Contains(raw, []byte(kid)) {
			t.Errorf("US's copy carries %s's KEM key id", other)
		}
	}
	if len(c.Keys) != 1 || c.Keys[0].Recipient != "US" || len(c.Audience) != seal.AudienceSize {
		t.Fatalf("US's copy: %d keys, %d audience entries; want its own key and %d entries", len(c.Keys), len(c.Audience), seal.AudienceSize)
	}
	own := c.Keys[0]
	if !hasEntry(c.Audience, audienceEntry(own.Salt, "US", own.KEMKeyID, sha256Of(own.Enc))) {
		t.Fatal("US's own entry, computed as pkg/seal documents it, is not in its copy's audience")
	}
	for _, other := range states {
		guess := seal.WrappedKey{Recipient: other, KEMKeyID: nettest.NodeKeys(t, nw, other).Public().KEMKeyID, Enc: own.Enc, Salt: own.Salt}
		if other != "US" && c.Header.Addresses(guess) {
			t.Errorf("US's own salt opens an entry for %s", other)
		}
		if other != "US" && hasEntry(c.Audience, audienceEntry(own.Salt, other, guess.KEMKeyID, sha256Of(own.Enc))) {
			t.Errorf("an entry for %s under US's salt", other)
		}
	}
	// Apart from the ciphertext, whose length is the content's (which
	// names no recipient: its timestamps' encodings vary by a byte), a
	// copy is as large whatever the audience.
	sc := inboxCopy(t, nw, "US", "MX", narrow)
	small, err := sc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := len(raw)-len(c.Ciphertext), len(small)-len(sc.Ciphertext); a != b {
		t.Errorf("US's copies are %d bytes beside the ciphertext (audience of 3) and %d (audience of 1): the size tells the audience", a, b)
	}
	claim := *c
	claim.Keys = []seal.WrappedKey{own}
	claim.Keys[0].Recipient, claim.Recipients = "CA", []string{"CA"}
	if a, err := claim.Attest(); err == nil {
		if err := a.Verify(func(state, keyID string) (seal.SignerKey, error) {
			return seal.SignerKey{Public: ed25519.PublicKey(nettest.NodeKeys(t, nw, state).Public().SignPublic)}, nil
		}, seal.Policy{}); err == nil {
			t.Error("an attestation claiming CA from US's opening verifies")
		}
	}
	_, err = nettest.AuditClient(t, nw, testenv.FocalPoint("US")).GetBulletinReport(t.Context(),
		&iantv1.GetBulletinReportRequest{Id: wide, Origin: "MX"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("US asks the secretariat for MX's report: %v, want PermissionDenied", err)
	}
}

// TestForgedTranslations: MX posts to BR and US. BR, compromised, sends
// translation messages it should not: one saying it is US's, one to CA
// (not released the bulletin), one with an escape sequence in its title,
// one larger than a body may be; PE, not released the bulletin, sends US
// a translation of it. Each is refused by its receiver by rule, and
// none is shown.
func TestForgedTranslations(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "BR", "US", "CA", "PE"}})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Traslado de armas", "BR", "US")
	parent := nettest.Post(t, mx, draft).GetBulletin()
	us, ca := nettest.Dial(t, nw, testenv.Analyst("US")), nettest.Dial(t, nw, testenv.Analyst("CA"))
	nettest.WaitStored(t, us, parent.GetId())
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())

	for _, tt := range []struct {
		name, from, to, rule string
		edit                 func(tr *iantv1.Translation)
	}{
		{"as another state", "BR", "US", "receive.validate", func(tr *iantv1.Translation) { tr.By = "US" }},
		{"to a state not released", "BR", "CA", "receive.translation", nil},
		{"escape in title", "BR", "US", "receive.validate", func(tr *iantv1.Translation) { tr.Title = "a\x1b]0;owned\x07b" }},
		{"oversized body", "BR", "US", "receive.validate", func(tr *iantv1.Translation) { tr.Body = strings.Repeat("x", 256<<10+1) }},
		{"from a state not released", "PE", "US", "receive.translation", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newAttacker(t, nw, tt.from)
			msg := translationMessage(parent, tt.from, tt.to)
			if tt.edit != nil {
				tt.edit(msg.Translated.Translation)
			}
			data, err := sealTranslation(t, nw, a.keys, msg, tt.to).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			a.publish(t, tt.to, msg.GetId(), data)
			waitRefusals(t, auditor, tt.from, msg.GetId(), tt.rule)
		})
	}
	for _, c := range []iantv1.BulletinServiceClient{us, ca} {
		if r, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: parent.GetId(), Origin: "MX"}); err == nil &&
			len(r.GetBulletin().GetBulletin().GetTranslations()) != 0 {
			t.Errorf("a forged translation is shown: %v", r.GetBulletin().GetBulletin().GetTranslations())
		}
	}
	notShown(t, ca, "MX", parent.GetId())
}

// translationMessage is from's translation message of parent into
// Portuguese, addressed to to, as a node would make it.
func translationMessage(parent *iantv1.Bulletin, from, to string) *iantv1.Bulletin {
	now := time.Now().UTC().Truncate(time.Millisecond)
	b := bulletinOf(&iantv1.Bulletin{Precedence: parent.GetPrecedence(), Category: parent.GetCategory(),
		Marking: parent.GetMarking(), Language: iantv1.Language_LANGUAGE_PT,
		Releasability: &iantv1.Releasability{States: []string{to}}}, ulid.Make().String(), from, now, to)
	b.Revision = 1
	b.Translated = &iantv1.Translated{Of: &iantv1.BulletinRef{Origin: parent.GetOrigin(), Id: parent.GetId()}, Revision: 1,
		Translation: &iantv1.Translation{Language: iantv1.Language_LANGUAGE_PT, Title: "Armas", Body: "Dois sistemas.",
			By: from, AddTime: timestamppb.New(now)}}
	return b
}

// sealTranslation seals translation message b with keys for the states
// to, its kind and the bulletin it names in the signed header.
func sealTranslation(t *testing.T, nw *testenv.Network, keys *seal.NodeKeys, b *iantv1.Bulletin, to ...string) *seal.Sealed {
	t.Helper()
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var pubs []seal.PublicKeys
	for _, cc := range to {
		pubs = append(pubs, nettest.NodeKeys(t, nw, cc).Public())
	}
	of := b.GetTranslated().GetOf()
	s, err := seal.Seal(seal.Header{ID: b.GetId(), Origin: b.GetOrigin(), Signer: testenv.NodePrincipal(b.GetOrigin()).ID(nw.TD).String(),
		Precedence: int32(b.GetPrecedence()), Marking: int32(b.GetMarking()), Recipients: to, CreatedAt: b.GetCreateTime().AsTime(),
		Kind: seal.KindTranslation, Ref: seal.Ref{Origin: of.GetOrigin(), ID: of.GetId()}}, pt, pubs, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// audienceEntry computes an audience entry as pkg/seal documents it.
func audienceEntry(salt [32]byte, state, kemKeyID string, encHash [32]byte) [32]byte {
	b := append([]byte("iant/audience-entry/v1\x00"), salt[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(state)))
	b = append(b, state...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(kemKeyID)))
	b = append(b, kemKeyID...)
	return sha256.Sum256(append(b, encHash[:]...))
}

func hasEntry(audience [][32]byte, e [32]byte) bool {
	for _, x := range audience {
		if x == e {
			return true
		}
	}
	return false
}
