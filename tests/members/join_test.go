package members_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestStateJoinsRunningNetwork adds CA to a running network of MX, US, BR
// and AR while BR posts to AR all along: the backbone admits CA's node by
// configuration reload, the secretariat provisions its inbox, every node
// learns the new table, and a bulletin released to North America reaches
// CA. No other node's backbone connection dropped, and BR's traffic lost
// and duplicated nothing.
func TestStateJoinsRunningNetwork(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "BR", "AR"}, Joining: []string{"CA"}})
	members := []string{"MX", "US", "BR", "AR"}
	nettest.WaitMembership(t, nw, 1, 0, members...)
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	before := nettest.Post(t, mx, regionDraft("before CA joins", iantv1.Region_REGION_NORTH_AMERICA))
	if got := before.GetBulletin().GetRecipients(); !slices.Equal(got, []string{"US"}) {
		t.Fatalf("released to North America before CA joins: %v, want [US]", got)
	}
	conns := nodeConns(nw, members...)
	tr := startTraffic(t, nw, "BR", "AR")

	admin := nettest.AdminClient(t, nw)
	resp, err := admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{
		Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_ADD, State: "CA", Region: iantv1.Region_REGION_NORTH_AMERICA, Reason: "joins the network"})
	if err != nil {
		t.Fatalf("add CA: %v", err)
	}
	v := resp.GetTable().GetVersion()
	nettest.WaitMembership(t, nw, v, 0, members...)
	if err := nw.StartNode(t.Context(), "CA"); err != nil {
		t.Fatalf("CA's node starts once added: %v", err)
	}
	nettest.WaitMembership(t, nw, v, 0, "CA")

	after := nettest.PostKeyed(t, mx, regionDraft("after CA joined", iantv1.Region_REGION_NORTH_AMERICA), "")
	if got := after.GetBulletin().GetBulletin().GetRecipients(); !slices.Equal(got, []string{"CA", "US"}) {
		t.Errorf("released to North America after CA joined: %v, want [CA US]", got)
	}
	id := after.GetBulletin().GetBulletin().GetId()
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("CA")), id)
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	// CA's people see it in the directory, and CA's node works both ways.
	dir, err := iantv1.NewDirectoryServiceClient(nettest.DialConn(t, nw, testenv.Analyst("CA"))).GetDirectory(t.Context(), &iantv1.GetDirectoryRequest{})
	if err != nil || dir.GetMembershipVersion() != v {
		t.Errorf("CA's directory: version %d, %v; want %d", dir.GetMembershipVersion(), err, v)
	}
	back := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("CA")), nettest.Draft("from the new member", "MX"))
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("MX")), back.GetBulletin().GetId())

	tr.end(t, nw, "AR")
	sameConns(t, conns, nodeConns(nw, members...))

	// A state outside the region table cannot be added, nor one twice.
	_, err = admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{
		Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_ADD, State: "CA", Region: iantv1.Region_REGION_NORTH_AMERICA})
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("adding CA again = %v, want AlreadyExists", err)
	}
}
