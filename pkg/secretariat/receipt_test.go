package secretariat_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
)

func TestAuditRefusesForgedReceipts(t *testing.T) {
	t.Parallel()
	nw := nettest.StartAudit(t, secretariat.AuditConfig{}, "MX", "CA")
	mx := nettest.NodeBackbone(t, nw, "MX")
	svid := nettest.NodeSVID(t, nw, "MX")
	const id = "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3"
	forged := audit.Event{Kind: audit.EventDelivered, BulletinID: id, Origin: "MX", State: "CA",
		Actor: testenv.NodePrincipal("CA").ID(nw.TD).String(), At: time.Now().UTC()}
	// Signed by MX's node, claiming CA's delivery.
	signed, err := audit.SignReceipt(forged, audit.Evidence{}, svid)
	if err != nil {
		t.Fatal(err)
	}
	// Unsigned: the event alone.
	var r map[string]any
	if err := json.Unmarshal(signed, &r); err != nil {
		t.Fatal(err)
	}
	delete(r, "sig")
	unsigned, _ := json.Marshal(r)
	for i, data := range [][]byte{signed, unsigned} {
		if _, err := mx.PublishEvent(t.Context(), "forged"+string(rune('a'+i)), data); err != nil {
			t.Fatal(err)
		}
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	deadline := time.Now().Add(nettest.Eventually)
	var events []audit.Event
	for {
		resp, err := auditor.GetInclusionProof(t.Context(), &iantv1.GetInclusionProofRequest{
			Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: id}})
		if err == nil && len(resp.GetEntries()) >= 2 {
			events = nettest.Entries(t, auditor, id)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusals not logged within %s: %v", nettest.Eventually, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rules := map[string]string{}
	for _, e := range events {
		if e.Kind != audit.EventRefused {
			t.Errorf("forged receipt logged as %s event: %+v", e.Kind, e)
			continue
		}
		rules[e.Rule] = e.Actor
	}
	if rules["receipt.signer"] != testenv.NodePrincipal("MX").ID(nw.TD).String() {
		t.Errorf("signer refusal actor = %q, want MX's node (rules %v)", rules["receipt.signer"], rules)
	}
	if _, ok := rules["receipt.unsigned"]; !ok {
		t.Errorf("no receipt.unsigned refusal (rules %v)", rules)
	}
}

func TestAuditStateNodesWitnessCheckpoints(t *testing.T) {
	t.Parallel()
	nw := nettest.StartAudit(t, secretariat.AuditConfig{CheckpointInterval: 50 * time.Millisecond}, "MX", "US")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("witnessed", "US")).GetBulletin().GetId()
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US") != nil && nettest.Recipient(r, "US").GetDeliverTime() != nil
	})
	const want = 3 // posted, released, delivered
	deadline := time.Now().Add(nettest.Eventually)
	for _, cc := range []string{"MX", "US"} {
		for {
			cp, ok := nw.Node(cc).AuditCheckpoint()
			if ok && cp.Size >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s witnessed %v (%v), want a checkpoint of size %d", cc, cp, ok, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got, want := nw.Node(cc).AuditVerifierKey(), nw.Secretariat.AuditVerifierKey(); got != want || want == "" {
			t.Errorf("node %s verifier key = %q, want %q", cc, got, want)
		}
	}
}
