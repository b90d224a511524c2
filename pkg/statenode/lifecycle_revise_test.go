package statenode_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestReviseRefusalsAndEvents: US's analyst follows a subscription while
// MX posts a bulletin to US, revises it, tries to revise it to an expiry
// in the past, revokes it and tries to revise it again. The subscription
// delivers the bulletin, then the revision (a revision event with the
// new title), then the revocation (a revocation event without content),
// and nothing for the two refused revisions: the next event after the
// revocation is a later, unrelated bulletin. The revision to a past
// expiry is InvalidArgument naming expire_time; the revision of the
// revoked bulletin is PermissionDenied naming the rule revise.revoked and
// saying it was revoked. Neither changed anything at MX or US: US holds
// revision 2 until the revocation, then the tombstone.
func TestReviseRefusalsAndEvents(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	us := nettest.Dial(t, nw, testenv.Analyst("US"))
	sub := nettest.Subscribe(t, t.Context(), us, &iantv1.SubscribeRequest{})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("First take", "US")
	draft.Marking = iantv1.Marking_MARKING_GREEN
	id := nettest.Post(t, mx, draft).GetBulletin().GetId()
	next := func(want iantv1.MessageKind) *iantv1.StoredBulletin {
		t.Helper()
		ev := sub.Next(t)
		if ev.GetBulletin().GetId() != id || ev.GetKind() != want {
			t.Fatalf("US's subscription delivered %s of %s, want %s of %s", ev.GetKind(), ev.GetBulletin().GetId(), want, id)
		}
		return ev
	}
	next(iantv1.MessageKind_MESSAGE_KIND_BULLETIN)

	nettest.Revise(t, mx, id, nettest.Redraft(draft, func(b *iantv1.Bulletin) { b.Title = "Second take" }))
	if ev := next(iantv1.MessageKind_MESSAGE_KIND_REVISION); ev.GetBulletin().GetRevision() != 2 || ev.GetBulletin().GetTitle() != "Second take" {
		t.Errorf("revision event = revision %d %q, want revision 2 \"Second take\"", ev.GetBulletin().GetRevision(), ev.GetBulletin().GetTitle())
	}
	nettest.WaitRevision(t, us, id, 2)

	past := nettest.Redraft(draft, func(b *iantv1.Bulletin) {
		b.Title = "Already over"
		b.ExpireTime = timestamppb.New(time.Now().Add(-time.Hour))
	})
	_, err := mx.ReviseBulletin(t.Context(), &iantv1.ReviseBulletinRequest{Id: id, Bulletin: past})
	if status.Code(err) != codes.InvalidArgument || nettest.ErrorField(err) != "expire_time" {
		t.Errorf("revise to an expiry in the past = %v (field %q), want InvalidArgument naming expire_time", err, nettest.ErrorField(err))
	}
	for who, c := range map[string]iantv1.BulletinServiceClient{"MX": mx, "US": us} {
		got, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
		if b := got.GetBulletin().GetBulletin(); err != nil || b.GetRevision() != 2 || b.GetTitle() != "Second take" || b.GetExpireTime() != nil {
			t.Errorf("%s holds %v, %v after the refused revision; want revision 2 unchanged", who, b, err)
		}
	}

	nettest.Revoke(t, mx, id, "wrong person named")
	if ev := next(iantv1.MessageKind_MESSAGE_KIND_REVOCATION); ev.GetState() != iantv1.BulletinState_BULLETIN_STATE_REVOKED ||
		ev.GetBulletin().GetTitle() != "" || ev.GetBulletin().GetRevocation().GetReason() != "wrong person named" {
		t.Errorf("revocation event = %v, want the tombstone with its reason and no content", ev)
	}
	nettest.WaitRevoked(t, us, id)

	_, err = mx.ReviseBulletin(t.Context(), &iantv1.ReviseBulletinRequest{Id: id,
		Bulletin: nettest.Redraft(draft, func(b *iantv1.Bulletin) { b.Title = "Back from the dead" })})
	if st, _ := status.FromError(err); st.Code() != codes.PermissionDenied || nettest.ErrorField(err) != "revise.revoked" ||
		!strings.Contains(st.Message(), "revoked") {
		t.Errorf("revise of the revoked bulletin = %v (rule %q), want PermissionDenied naming revise.revoked", err, nettest.ErrorField(err))
	}
	for who, c := range map[string]iantv1.BulletinServiceClient{"MX": mx, "US": us} {
		got, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
		if err != nil || got.GetBulletin().GetState() != iantv1.BulletinState_BULLETIN_STATE_REVOKED || got.GetBulletin().GetBulletin().GetTitle() != "" {
			t.Errorf("%s holds %v, %v after the refused revision; want the tombstone", who, got.GetBulletin(), err)
		}
	}
	// The node commits a post's copies in order: the refused revisions,
	// had they sent anything, would come before this bulletin.
	later := nettest.Post(t, mx, nettest.Draft("Unrelated", "US")).GetBulletin().GetId()
	if ev := sub.Next(t); ev.GetBulletin().GetId() != later {
		t.Errorf("after the revocation US's subscription delivered %s of %s (%q), want the later bulletin %s",
			ev.GetKind(), ev.GetBulletin().GetId(), ev.GetBulletin().GetTitle(), later)
	}
	nettest.WaitRevoked(t, us, id)
}
