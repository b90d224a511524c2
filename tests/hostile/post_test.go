package hostile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestClaimingABulletinIDFirstDoesNotSuppressTheCopy: MX posts to CA while
// its leaf node's link is cut, so its copy waits at MX. US, a compromised
// state that learned the bulletin id, publishes to CA's inbox first, under
// its own origin (the only one it may use) with that id, and with every
// Nats-Msg-Id header MX's copy could be expected to carry. The backbone
// de-duplicates by that header across subjects, so before the header was
// bound to the copy's origin and bytes this suppressed MX's copy for good.
// Now, once the link returns, CA holds MX's genuine bulletin, once, shown
// as MX's; US's copies are refused; the audit log shows MX's post, its
// release and CA's delivery once each, and US's refusal.
//
// (US's copies here are not a bulletin CA can open. A copy US seals
// validly under its own origin with the same id is another bulletin:
// the store keys bulletins by origin and id, TestSameIDFromAnotherOrigin.)
func TestClaimingABulletinIDFirstDoesNotSuppressTheCopy(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "CA", "US"}, LeafStates: []string{"MX"}})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	caAnalyst := nettest.Dial(t, nw, testenv.Analyst("CA"))
	warm := nettest.Post(t, mx, nettest.Draft("before the cut", "CA")).GetBulletin().GetId()
	nettest.WaitStored(t, caAnalyst, warm)

	if err := nw.CutLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	target := nettest.PostKeyed(t, mx, nettest.Draft("genuine MX bulletin", "CA"), "")
	id := target.GetBulletin().GetBulletin().GetId()
	if p := target.GetPendingRecipients(); len(p) != 1 || p[0] != "CA" {
		t.Fatalf("MX's post during the cut: pending %v, want [CA]", p)
	}

	// US squats the id: raw publishes with forged headers, and one through
	// its backbone client.
	js, err := jetstream.New(nettest.NodeConn(t, nw, "US"))
	if err != nil {
		t.Fatal(err)
	}
	for _, forged := range []string{"CA/" + id, "CA/MX/" + id, "CA/MX/" + id + "/"} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		m := &nats.Msg{Subject: backbone.InboxSubject("CA", "US", id), Header: nats.Header{}, Data: []byte("squatting " + id)}
		m.Header.Set(jetstream.MsgIDHeader, forged)
		ack, err := js.PublishMsg(ctx, m)
		cancel()
		if err != nil || ack.Duplicate {
			t.Fatalf("US's publish under %q = %+v, %v; want it stored (the attack must reach the backbone)", forged, ack, err)
		}
	}
	if _, err := nettest.NodeBackbone(t, nw, "US").PublishInbox(t.Context(), "CA", "US", id, []byte("squatting again")); err != nil {
		t.Fatalf("US's publish through its client = %v", err)
	}

	if err := nw.RestoreLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	nettest.HeldOnce(t, caAnalyst, warm, id)
	got, err := caAnalyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if b := got.GetBulletin().GetBulletin(); b.GetOrigin() != "MX" || b.GetTitle() != "genuine MX bulletin" {
		t.Errorf("CA shows %s from %s titled %q, want MX's genuine bulletin", id, b.GetOrigin(), b.GetTitle())
	}

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.ReportedOnce(t, auditor, id, "CA")
	refusedUS := false
	deadline := time.Now().Add(nettest.Eventually)
	for !refusedUS && time.Now().Before(deadline) {
		// The refusal is logged under the copy's claimed origin, US: the
		// log keeps MX's bulletin and US's squatting apart.
		for _, l := range nettest.Leaves(t, auditor, "US", id) {
			if e := l.Event; e.Kind == audit.EventRefused && e.State == "CA" && strings.Contains(e.Actor, "/state/US/") {
				refusedUS = true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !refusedUS {
		t.Error("the audit log holds no refusal by CA of US's copies")
	}
	if st, err := nw.Node("MX").Outbox(t.Context()); err != nil || st.Duplicates != 0 {
		t.Errorf("MX's outbox = %+v, %v; want no copy taken for a duplicate", st, err)
	}
}
