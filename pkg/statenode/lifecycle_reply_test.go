package statenode_test

import (
	"slices"
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

// threadIDs are the ids of a Get answer's thread.
func threadIDs(r *iantv1.GetBulletinResponse) []string {
	var ids []string
	for _, s := range r.GetThread() {
		ids = append(ids, s.GetBulletin().GetId())
	}
	return ids
}

// TestRepliesThreaded: MX releases a bulletin to US and CA (JM has a
// node, not the bulletin). US's analyst reports a sighting to the origin;
// CA's focal point asks an RFI of every recipient. MX sees both in the
// thread and its subscription gets them as replies; US sees CA's RFI, CA
// does not see US's sighting; JM holds neither; the secretariat's report
// shows both replies and when, never what they say.
func TestRepliesThreaded(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CA", "JM")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	sub := nettest.Subscribe(t, t.Context(), mx, &iantv1.SubscribeRequest{})
	id := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US", "CA")).GetBulletin().GetId()
	us, ca := nettest.Dial(t, nw, testenv.FocalPoint("US")), nettest.Dial(t, nw, testenv.FocalPoint("CA"))
	nettest.WaitStored(t, us, id)
	nettest.WaitStored(t, ca, id)

	seen := timestamppb.New(time.Now().Add(-time.Hour).UTC().Truncate(time.Second))
	sighting := nettest.Reply(t, nettest.Dial(t, nw, testenv.Analyst("US")), &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX",
		Kind: iantv1.ReplyKind_REPLY_KIND_SIGHTING, Sighting: &iantv1.Sighting{Kind: iantv1.SightingKind_SIGHTING_KIND_SEEN, SeenTime: seen,
			Place: "MIA gate D4"}}).GetBulletin()
	rfi := nettest.Reply(t, ca, &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX", Kind: iantv1.ReplyKind_REPLY_KIND_RFI,
		Body: "Which vessel?", To: iantv1.ReplyAudience_REPLY_AUDIENCE_RECIPIENTS}).GetBulletin()
	if got := strings.Join(sighting.GetRecipients(), ","); got != "MX" {
		t.Errorf("the sighting went to %s, want the origin only", got)
	}
	if got := strings.Join(rfi.GetRecipients(), ","); got != "MX,US" {
		t.Errorf("the RFI went to %s, want MX,US", got)
	}

	nettest.WaitGet(t, mx, "MX", id, func(r *iantv1.GetBulletinResponse) bool {
		ids := threadIDs(r)
		return slices.Contains(ids, sighting.GetId()) && slices.Contains(ids, rfi.GetId())
	})
	nettest.WaitGet(t, us, "MX", id, func(r *iantv1.GetBulletinResponse) bool { return slices.Contains(threadIDs(r), rfi.GetId()) })
	if r, err := ca.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"}); err != nil ||
		slices.Contains(threadIDs(r), sighting.GetId()) {
		t.Errorf("CA's thread = %v, %v; want no US sighting (sent to the origin only)", threadIDs(r), err)
	}
	jm := nettest.Dial(t, nw, testenv.FocalPoint("JM"))
	for _, r := range []*iantv1.Bulletin{sighting, rfi} {
		if _, err := jm.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: r.GetId(), Origin: r.GetOrigin()}); status.Code(err) != codes.NotFound {
			t.Errorf("JM's Get of %s's reply = %v, want NotFound", r.GetOrigin(), err)
		}
	}
	replies := map[string]bool{}
	for len(replies) < 2 {
		ev := sub.Next(t)
		if ev.GetKind() == iantv1.MessageKind_MESSAGE_KIND_REPLY {
			replies[ev.GetBulletin().GetId()] = true
		}
	}
	if !replies[sighting.GetId()] || !replies[rfi.GetId()] {
		t.Errorf("MX's subscription delivered replies %v, want the sighting and the RFI", replies)
	}

	rep := nettest.WaitReport(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, func(r *iantv1.BulletinReport) bool { return len(r.GetThread()) == 2 })
	for _, it := range rep.GetThread() {
		if it.GetCreateTime() == nil || it.GetLatency() == nil || it.GetInReplyTo().GetId() != id {
			t.Errorf("report's thread item %v lacks its time, latency or bulletin", it)
		}
	}
}

// TestExpiredBulletinDisappears: a bulletin of MX's expires a few seconds
// after it is posted. Before, US lists, searches and gets it; after, it is
// neither listed, nor found, nor delivered to a new subscription, Get at
// US says it expired without content, and MX's focal point still reads it.
func TestExpiredBulletinDisappears(t *testing.T) {
	t.Parallel()
	const marker = "QZEXPIRYMARK"
	nw := nettest.StartStates(t, "MX", "US")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Short-lived "+marker, "US")
	expires := time.Now().Add(15 * time.Second)
	draft.ExpireTime = timestamppb.New(expires)
	id := nettest.Post(t, mx, draft).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	found := func() (listed, searched bool) {
		l, err := us.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		s, err := us.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: strings.ToLower(marker)})
		if err != nil {
			t.Fatal(err)
		}
		has := func(bs []*iantv1.StoredBulletin) bool {
			return slices.ContainsFunc(bs, func(b *iantv1.StoredBulletin) bool { return b.GetBulletin().GetId() == id })
		}
		return has(l.GetBulletins()), has(s.GetBulletins())
	}
	if time.Now().Add(5 * time.Second).Before(expires) { // else too late to look: a slow machine
		if listed, searched := found(); !listed || !searched {
			t.Fatalf("before it expires, listed %v and found %v, want both", listed, searched)
		}
	}
	deadline := expires.Add(nettest.Eventually)
	for {
		listed, searched := found()
		if !listed && !searched {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after it expired, listed %v and found %v", listed, searched)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := us.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
	if err != nil || got.GetBulletin().GetState() != iantv1.BulletinState_BULLETIN_STATE_EXPIRED || strings.Contains(got.GetBulletin().GetBulletin().GetTitle(), marker) {
		t.Errorf("US's Get after expiry = %v, %v; want EXPIRED without content", got.GetBulletin(), err)
	}
	if got, err := mx.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id}); err != nil || !strings.Contains(got.GetBulletin().GetBulletin().GetTitle(), marker) {
		t.Errorf("MX's Get after expiry = %v, %v; want its content", got.GetBulletin(), err)
	}
	sub := nettest.Subscribe(t, t.Context(), us, &iantv1.SubscribeRequest{FromStart: true})
	after := nettest.Post(t, mx, nettest.Draft("after", "US")).GetBulletin().GetId()
	if ev := sub.Next(t); ev.GetBulletin().GetId() != after {
		t.Errorf("a new subscription from the start delivered %s first, want only the bulletin posted after (%s)", ev.GetBulletin().GetId(), after)
	}
}
