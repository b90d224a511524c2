package hostile_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestSameIDFromAnotherOrigin: MX posts to CA while its leaf node's link
// is cut, so its copy waits at MX. US, which learned the id, seals a
// valid bulletin of its own under that id for CA with its genuine keys,
// and it reaches CA first. CA stores US's bulletin as US's; once MX's
// link returns, CA stores MX's too, and shows it as MX's — not as a
// replay of US's. Both are listed; the bare id is ambiguous (naming
// origin); the audit has two reports, each with CA's delivery.
func TestSameIDFromAnotherOrigin(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "CA", "US"}, LeafStates: []string{"MX"}})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	ca := nettest.Dial(t, nw, testenv.Analyst("CA"))
	nettest.WaitStored(t, ca, nettest.Post(t, mx, nettest.Draft("before the cut", "CA")).GetBulletin().GetId())
	if err := nw.CutLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	genuine := nettest.PostKeyed(t, mx, nettest.Draft("genuine MX bulletin", "CA"), "").GetBulletin().GetBulletin()
	id := genuine.GetId()

	us := newAttacker(t, nw, "US")
	decoy := bulletinOf(nettest.Draft("US's decoy", "CA"), id, "US", time.Now().UTC().Truncate(time.Millisecond), "CA")
	data, err := sealAs(t, nw, us.keys, decoy, "CA").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	us.publish(t, "CA", id, data)
	first := nettest.WaitStored(t, ca, id)
	if b := first.GetBulletin(); b.GetOrigin() != "US" || b.GetTitle() != "US's decoy" {
		t.Fatalf("CA first stored %s from %s titled %q, want US's decoy", id, b.GetOrigin(), b.GetTitle())
	}

	if err := nw.RestoreLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	var mxCopy *iantv1.GetBulletinResponse
	eventually(t, "CA stores MX's bulletin beside US's", func() bool {
		mxCopy, err = ca.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
		return err == nil
	})
	if b := mxCopy.GetBulletin().GetBulletin(); b.GetTitle() != "genuine MX bulletin" || b.GetOrigin() != "MX" {
		t.Errorf("CA shows MX's %s as %q from %s", id, b.GetTitle(), b.GetOrigin())
	}
	usCopy, err := ca.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "US"})
	if err != nil || usCopy.GetBulletin().GetBulletin().GetTitle() != "US's decoy" {
		t.Errorf("CA shows US's %s as %v, %v", id, usCopy, err)
	}
	_, err = ca.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "MX, US") {
		t.Errorf("GetBulletin(%s) without origin = %v, want InvalidArgument naming MX, US", id, err)
	}
	list, err := ca.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, b := range list.GetBulletins() {
		if b.GetBulletin().GetId() == id {
			listed[b.GetBulletin().GetOrigin()]++
		}
	}
	if listed["MX"] != 1 || listed["US"] != 1 {
		t.Errorf("CA lists %s as %v, want once from MX and once from US", id, listed)
	}

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	mxReport := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "CA").GetDeliverTime() != nil && r.GetPostTime() != nil
	})
	usReport := nettest.WaitReportOf(t, auditor, "US", id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "CA").GetDeliverTime() != nil
	})
	if mxReport.GetOrigin() != "MX" || usReport.GetOrigin() != "US" ||
		!mxReport.GetCreateTime().AsTime().Equal(genuine.GetCreateTime().AsTime()) ||
		!usReport.GetCreateTime().AsTime().Equal(decoy.GetCreateTime().AsTime()) {
		t.Errorf("reports: MX's %v, US's %v; want each its own origin and creation time", mxReport, usReport)
	}
	if n := countRefusals(t, auditor, "MX", id, "CA"); n != 0 {
		t.Errorf("the log holds %d refusals by CA of MX's bulletin, want none", n)
	}
}

// idleState is the state whose node never started in the receive tests:
// a test publishes in its name.
const idleState = "GT"

// copyFromIdle seals a GREEN bulletin of the idle state for cc with keys
// and publishes it with the idle node's genuine SVID; it returns the id.
func copyFromIdle(t *testing.T, nw *testenv.Network, keys *seal.NodeKeys, cc string) string {
	t.Helper()
	return copyFrom(t, nw, idleState, keys, cc)
}

// waitParked waits until cc's node holds want copies parked from the
// publishing state origin, and returns how many wait for each reason.
func waitParked(t *testing.T, nw *testenv.Network, cc, origin string, want int) map[string]int {
	t.Helper()
	var reasons map[string]int
	eventually(t, fmt.Sprintf("%s parks %d copies from %s", cc, want, origin), func() bool {
		st, err := nw.Node(cc).Parked(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		reasons = nil
		for _, c := range st.ByOrigin {
			if c.Origin == origin {
				got, reasons = c.Copies, c.Reasons
			}
		}
		return got == want
	})
	return reasons
}

// TestCopyBeforeItsOriginsEntry: GT's node joins: its first copy reaches
// CO before GT's directory entry can be read (it is published only
// afterwards). CO cannot verify the copy yet and parks it — not
// rejected — and stores it once the entry is readable; nothing is
// refused in the log.
func TestCopyBeforeItsOriginsEntry(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", idleState, "MX"}, Idle: []string{idleState}})
	keys, err := seal.GenerateNodeKeys(idleState)
	if err != nil {
		t.Fatal(err)
	}
	id := copyFromIdle(t, nw, keys, "CO")
	waitParked(t, nw, "CO", idleState, 1)
	co := nettest.Dial(t, nw, testenv.Analyst("CO"))
	if _, err := co.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("CO shows the copy before it can verify it: %v", err)
	}
	nettest.PublishEntry(t, nw, idleState, keys)
	got := nettest.WaitStored(t, co, id)
	if got.GetBulletin().GetOrigin() != idleState {
		t.Errorf("CO stored %s from %s", id, got.GetBulletin().GetOrigin())
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReportOf(t, auditor, idleState, id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "CO").GetDeliverTime() != nil
	})
	if n := countRefusals(t, auditor, idleState, id, "CO"); n != 0 {
		t.Errorf("the log holds %d refusals by CO of the copy, want none", n)
	}
}

// TestClosingNodeKeepsTheCopy: CO holds a copy of GT's parked (GT's
// entry is not published yet) when its node is stopped; the copy is kept
// at the node: after GT's entry is published and CO's node started
// again, CO stores it.
func TestClosingNodeKeepsTheCopy(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", idleState}, Idle: []string{idleState}})
	keys, err := seal.GenerateNodeKeys(idleState)
	if err != nil {
		t.Fatal(err)
	}
	id := copyFromIdle(t, nw, keys, "CO")
	waitParked(t, nw, "CO", idleState, 1)
	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, idleState, keys)
	if err := nw.StartNode(t.Context(), "CO"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("CO")), id)
}

// TestCopyWhoseOriginNeverPublishes: a copy from GT, whose node never
// publishes a directory entry, is parked for EntryWait and then
// rejected, audited, and leaves the park.
func TestCopyWhoseOriginNeverPublishes(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", idleState, "MX"}, Idle: []string{idleState},
		NodeConfig: func(cc string, c *statenode.Config) { c.EntryWait = 3 * time.Second }})
	keys, err := seal.GenerateNodeKeys(idleState)
	if err != nil {
		t.Fatal(err)
	}
	id := copyFromIdle(t, nw, keys, "CO")
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	if rule := refusedBy(t, auditor, idleState, id, "CO"); rule != "receive.signer" {
		t.Errorf("refused by %s, want receive.signer", rule)
	}
	waitParked(t, nw, "CO", idleState, 0)
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), idleState, id)
}
