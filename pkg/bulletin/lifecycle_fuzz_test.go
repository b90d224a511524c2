package bulletin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// lifecycleMessage is a message of the bulletin's life made of fuzzed
// parts: which (0 reply, 1 revocation, 2 consent request, 3 consent
// decision), the origin, the state referred to, the text, a subkind and
// a reference id.
func lifecycleMessage(which uint8, origin, refOrigin, text string, subkind int, refID string) bulletin.Bulletin {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	b := bulletin.Bulletin{ID: "01KAR1000000000000000000Z1", Origin: origin, Author: "spiffe://iant.test/state/" + origin + "/focal-point/focal",
		CreatedAt: at, Precedence: bulletin.Flash, Category: bulletin.Category(1), Language: bulletin.Language(1), Marking: bulletin.Amber,
		Releasability: bulletin.Releasability{States: []string{refOrigin}}, Recipients: []string{refOrigin}, Revision: 1}
	ref := bulletin.Ref{Origin: refOrigin, ID: refID}
	switch which % 4 {
	case 0:
		b.Body = text
		b.Reply = &bulletin.Reply{Kind: bulletin.ReplyKind(subkind), InReplyTo: ref, Audience: bulletin.AudienceOrigin}
		if b.Reply.Kind == bulletin.ReplySighting {
			b.Reply.Sighting = &bulletin.Sighting{Kind: bulletin.SightingKind(subkind % 5), SeenAt: at.Add(-time.Hour), Place: text}
		}
	case 1:
		b.ID, b.Revoked, b.Revision = refID, true, subkind
		b.Revocation = &bulletin.Revocation{Reason: text, By: b.Author, At: at}
	case 2:
		b.Consent = &bulletin.Consent{Bulletin: ref, Forwarder: origin, Target: "CO", Reason: text}
	default:
		b.Consent = &bulletin.Consent{Bulletin: ref, Forwarder: "US", Target: "CO", Reason: text,
			Decision: bulletin.ConsentDecision(subkind), Request: "01KAR1000000000000000000R1"}
	}
	return b
}

// FuzzValidateLifecycle: Validate of replies, revocations and consents
// never panics, refuses with a field named, and accepts only messages that
// keep the lifecycle's rules (a decision is the origin's, a revocation
// carries no content, a reply names what it answers).
func FuzzValidateLifecycle(f *testing.F) {
	f.Add(uint8(0), "US", "MX", "seen at the gate", 1, "01KAR1000000000000000000B1")
	f.Add(uint8(0), "US", "MX", "", 2, "01KAR1000000000000000000B1")
	f.Add(uint8(0), "US", "US", "x", 9, "")
	f.Add(uint8(1), "MX", "US", "source retracted", 2, "01KAR1000000000000000000B1")
	f.Add(uint8(1), "MX", "US", "", 0, "not-an-id")
	f.Add(uint8(2), "US", "MX", "joint operation", 0, "01KAR1000000000000000000B1")
	f.Add(uint8(3), "MX", "MX", "", 1, "01KAR1000000000000000000B1")
	f.Add(uint8(3), "CO", "MX", "forged", 1, "01KAR1000000000000000000B1")
	f.Add(uint8(3), "MX", "MX", "\x1b[2J", 7, "01KAR1000000000000000000B1")
	f.Fuzz(func(t *testing.T, which uint8, origin, refOrigin, text string, subkind int, refID string) {
		b := lifecycleMessage(which, origin, refOrigin, text, subkind, refID)
		err := b.Validate()
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field == "" {
				t.Fatalf("Validate() = %#v, want a *problem.Error of kind invalid naming a field", err)
			}
			return
		}
		switch {
		case b.Reply != nil && (!b.Reply.Kind.Valid() || b.Reply.InReplyTo.IsZero()):
			t.Errorf("Validate() accepted reply %+v", b.Reply)
		case b.Revocation != nil && (b.Title != "" || b.Body != "" || b.Revocation.Reason == ""):
			t.Errorf("Validate() accepted revocation %+v with title %q body %q", b.Revocation, b.Title, b.Body)
		case b.Consent != nil && b.Consent.Decision != bulletin.ConsentPending && b.Origin != b.Consent.Bulletin.Origin:
			t.Errorf("Validate() accepted a decision by %s about %s's bulletin", b.Origin, b.Consent.Bulletin.Origin)
		case b.Consent != nil && b.Consent.Decision == bulletin.ConsentPending && b.Origin != b.Consent.Forwarder:
			t.Errorf("Validate() accepted a request by %s for %s's forward", b.Origin, b.Consent.Forwarder)
		case !shownAsIs(text, b.Reply != nil && b.Reply.Kind != bulletin.ReplySighting):
			t.Errorf("Validate() accepted text %q: a terminal could act on it", text)
		}
	})
}
