package statenode_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// wantRefusal checks a gRPC error's code and the policy id in its details.
func wantRefusal(t *testing.T, err error, code codes.Code, rule string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want %v", err, code)
	}
	for _, d := range st.Details() {
		if e, ok := d.(*iantv1.ErrorDetail); ok && (e.GetRule() == rule || e.GetField() == rule) {
			return
		}
	}
	t.Errorf("error %v does not name %q in its details", err, rule)
}

func marked(title string, m iantv1.Marking, states ...string) *iantv1.Bulletin {
	b := nettest.Draft(title, states...)
	b.Marking = m
	return b
}

func TestRedReachesOnlyFocalPointsOfListedStates(t *testing.T) {
	nw := nettest.StartStates(t, "AR", "BR", "CA", "US")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subFP := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.FocalPoint("BR")), &iantv1.SubscribeRequest{})
	subAnalyst := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("BR")), &iantv1.SubscribeRequest{})

	fp := nettest.Dial(t, nw, testenv.FocalPoint("AR"))
	red := nettest.Post(t, fp, marked("red", iantv1.Marking_MARKING_RED, "BR", "CA")).GetBulletin()
	if got := strings.Join(red.GetRecipients(), ","); got != "BR,CA" {
		t.Fatalf("RED recipients = %s, want BR,CA", got)
	}
	if got := subFP.Next(t); got.GetBulletin().GetId() != red.GetId() {
		t.Errorf("BR focal point got %s, want the RED bulletin", got.GetBulletin().GetId())
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CA")), red.GetId())

	analyst := nettest.Dial(t, nw, testenv.Analyst("BR"))
	_, err := analyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: red.GetId()})
	wantRefusal(t, err, codes.PermissionDenied, "read-red-focal-points-only")
	ex, err := analyst.ExplainRead(t.Context(), &iantv1.ExplainReadRequest{Id: red.GetId()})
	if err != nil || ex.GetAllowed() || !strings.Contains(strings.Join(ex.GetPolicyIds(), ","), "read-red-focal-points-only") {
		t.Errorf("ExplainRead = %v, %v; want refused by read-red-focal-points-only", ex, err)
	}
	// The analyst's subscription skips the RED bulletin: its first delivery
	// is the GREEN one posted after it.
	green := nettest.Post(t, fp, marked("green", iantv1.Marking_MARKING_GREEN, "BR")).GetBulletin()
	if got := subAnalyst.Next(t); got.GetBulletin().GetId() != green.GetId() {
		t.Errorf("BR analyst first delivery = %s (%q), want the GREEN one", got.GetBulletin().GetId(), got.GetBulletin().GetTitle())
	}
	// US was not listed: its node never held a copy.
	_, err = nettest.Dial(t, nw, testenv.FocalPoint("US")).GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: red.GetId()})
	wantCode(t, err, codes.NotFound)

	// RED to a region is refused at post: RED names its states one by one.
	toRegion := marked("red to a region", iantv1.Marking_MARKING_RED)
	toRegion.Releasability = &iantv1.Releasability{Regions: []iantv1.Region{iantv1.Region_REGION_SOUTH_AMERICA}}
	_, err = fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: toRegion})
	wantRefusal(t, err, codes.PermissionDenied, "post-red-listed-states-only")
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("error = %v, want %v", err, code)
	}
}

func TestOnwardSharingFollowsMarking(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	strict := nettest.Post(t, mx, marked("strict", iantv1.Marking_MARKING_AMBER_STRICT, "CO")).GetBulletin()
	green := nettest.Post(t, mx, marked("green", iantv1.Marking_MARKING_GREEN, "CO")).GetBulletin()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, strict.GetId())
	nettest.WaitStored(t, co, green.GetId())

	_, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: strict.GetId(), TargetState: "PE"})
	wantRefusal(t, err, codes.PermissionDenied, "forward-amber-strict-needs-consent")
	_, err = nettest.Dial(t, nw, testenv.Analyst("CO")).ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: green.GetId(), TargetState: "PE"})
	wantCode(t, err, codes.PermissionDenied)
	_, err = co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: green.GetId(), TargetState: "XX"})
	wantRefusal(t, err, codes.InvalidArgument, "target_state")

	if _, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: green.GetId(), TargetState: "PE"}); err != nil {
		t.Fatalf("forward GREEN = %v", err)
	}
	pe := nettest.Dial(t, nw, testenv.Analyst("PE"))
	got := nettest.WaitStored(t, pe, green.GetId())
	if got.GetBulletin().GetOrigin() != "MX" || got.GetBulletin().GetTitle() != "green" {
		t.Errorf("PE holds %v, want MX's GREEN bulletin unchanged", got.GetBulletin())
	}
	list, err := pe.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetBulletins()); n != 1 {
		t.Errorf("PE holds %d bulletins, want only the forwarded GREEN one (AMBER+STRICT never leaves its audience)", n)
	}
}

func TestBulletinConditionsOnlyNarrow(t *testing.T) {
	nw := nettest.StartStates(t, "JM", "TT")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("JM"))
	narrowed := marked("focal points only", iantv1.Marking_MARKING_GREEN, "TT")
	narrowed.Conditions = `@id("no-analysts")
forbid (principal is Person, action == Action::"read", resource) when { principal.role == "analyst" };`
	b := nettest.Post(t, fp, narrowed).GetBulletin()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("TT")), b.GetId())
	_, err := nettest.Dial(t, nw, testenv.Analyst("TT")).GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: b.GetId()})
	wantRefusal(t, err, codes.PermissionDenied, "no-analysts")

	widening := marked("widening", iantv1.Marking_MARKING_RED, "TT")
	widening.Conditions = `permit (principal, action, resource);`
	_, err = fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: widening})
	wantRefusal(t, err, codes.InvalidArgument, "conditions")
}

// TestPostThatReachesNobodyIsRefused: a bulletin released only to its own
// state, or whose every recipient the policy refuses, would be "posted to
// 0 states"; the author is told instead, and nothing is stored.
func TestPostThatReachesNobodyIsRefused(t *testing.T) {
	nw := nettest.StartStates(t, "JM", "TT")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("JM"))
	own := marked("to myself", iantv1.Marking_MARKING_GREEN, "JM")
	_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: own})
	wantRefusal(t, err, codes.InvalidArgument, "releasability")

	nobody := marked("nobody may receive", iantv1.Marking_MARKING_GREEN, "TT")
	nobody.Conditions = `@id("hold-back")
forbid (principal, action == Action::"release", resource);`
	_, err = fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nobody})
	wantRefusal(t, err, codes.PermissionDenied, "hold-back")

	list, err := fp.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
	if err != nil || len(list.GetBulletins()) != 0 {
		t.Errorf("ListBulletins at JM = %d bulletins, %v; want none stored", len(list.GetBulletins()), err)
	}
}
