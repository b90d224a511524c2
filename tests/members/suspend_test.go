package members_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestSuspendKeepsCopies suspends JM while its analyst follows a
// subscription: the subscription ends at once, JM's node is cut off the
// backbone and refuses its people, and bulletins released to the
// Caribbean meanwhile queue for JM; reinstated, JM's node reconnects by
// itself and its analyst gets each of them exactly once. MX and US keep
// their connections, and US's traffic from MX loses nothing.
func TestSuspendKeepsCopies(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "JM"}})
	nettest.WaitMembership(t, nw, 1, 0, "MX", "US", "JM")
	jm := nettest.Dial(t, nw, testenv.Analyst("JM"))
	sub := nettest.Subscribe(t, t.Context(), jm, &iantv1.SubscribeRequest{})
	conns := nodeConns(nw, "MX", "US")
	until(t, "JM's node on the backbone", func() bool { return connected(nw, "JM") })
	tr := startTraffic(t, nw, "MX", "US")

	admin := nettest.AdminClient(t, nw)
	start := time.Now()
	resp, err := admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{
		Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_SUSPEND, State: "JM", Reason: "test"})
	if err != nil {
		t.Fatalf("suspend JM: %v", err)
	}
	returned := time.Now()
	refused := until(t, "a new call of JM's analyst refused", func() bool {
		_, err := jm.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	ended, err := sub.Ended(t)
	// JM's node read the table that suspends it, or found itself refused
	// by the backbone, whichever came first.
	if rule := nettest.ErrorField(err); status.Code(err) != codes.PermissionDenied || rule != "caller.state_suspended" && rule != "caller.node_refused" {
		t.Errorf("JM's subscription ended with %v (rule %q), want PermissionDenied: suspended or refused", err, rule)
	}
	cut := until(t, "JM's node cut off the backbone", func() bool { return !connected(nw, "JM") })
	t.Logf("suspend → ChangeMembership returned after %s, a new call of JM's analyst refused after %s, JM's subscription ended after %s, its backbone connection dropped after %s",
		returned.Sub(start), refused.Sub(start), ended.Sub(start), cut.Sub(start))
	if _, err := jm.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("JM's analyst while suspended: %v, want PermissionDenied", err)
	}
	v := resp.GetTable().GetVersion()
	nettest.WaitMembership(t, nw, v, 0, "MX", "US")

	// Posts to the Caribbean still release to JM: its copies queue.
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	var queued []string
	for i := range 3 {
		p := nettest.PostKeyed(t, mx, regionDraft("while JM is suspended", iantv1.Region_REGION_CARIBBEAN), "")
		if got := p.GetBulletin().GetBulletin().GetRecipients(); len(got) != 1 || got[0] != "JM" {
			t.Fatalf("post %d released to %v, want [JM]", i, got)
		}
		queued = append(queued, p.GetBulletin().GetBulletin().GetId())
	}
	if connected(nw, "JM") {
		t.Error("JM's node is on the backbone while suspended")
	}

	resp, err = admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_REINSTATE, State: "JM"})
	if err != nil {
		t.Fatalf("reinstate JM: %v", err)
	}
	nettest.WaitMembership(t, nw, resp.GetTable().GetVersion(), 0, "JM", "MX", "US")
	nettest.HeldOnce(t, jm, queued...)

	tr.end(t, nw, "US")
	sameConns(t, conns, nodeConns(nw, "MX", "US"))
}

// TestRemovedStateGetsNothing removes US: released to North America, a
// bulletin goes to CA alone, and naming US is refused, naming the field.
func TestRemovedStateGetsNothing(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "CA"}})
	admin := nettest.AdminClient(t, nw)
	resp, err := admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{
		Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_REMOVE, State: "US", Reason: "left"})
	if err != nil {
		t.Fatal(err)
	}
	nettest.WaitMembership(t, nw, resp.GetTable().GetVersion(), 0, "MX", "CA")
	until(t, "US's node cut off", func() bool { return !connected(nw, "US") })
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	p := nettest.Post(t, mx, regionDraft("after US left", iantv1.Region_REGION_NORTH_AMERICA))
	if got := p.GetBulletin().GetRecipients(); len(got) != 1 || got[0] != "CA" {
		t.Errorf("released to North America: %v, want [CA]", got)
	}
	_, err = mx.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("to US", "US", "CA")})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "US is removed from the network") {
		t.Errorf("post naming US = %v, want InvalidArgument: US is removed", err)
	}
	_, err = admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{
		Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_ADD, State: "US", Region: iantv1.Region_REGION_NORTH_AMERICA})
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("adding a removed state back = %v, want AlreadyExists (removed for good)", err)
	}
}
