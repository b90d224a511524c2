package node_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/node"
	"github.com/oas-cicte/iant/pkg/testenv"
)

func TestAuditRefusesForgedReceipts(t *testing.T) {
	t.Parallel()
	nw := startAuditNetwork(t, node.AuditConfig{}, "MX", "CA")
	mx := nodeBackbone(t, nw, "MX")
	svid := nodeSVID(t, nw, "MX")
	const id = "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3"
	forged := audit.Event{Kind: audit.EventDelivered, BulletinID: id, Origin: "MX", State: "CA",
		Actor: testenv.NodePrincipal("CA").ID(nw.TD).String(), At: time.Now().UTC()}
	// Signed by MX's node, claiming CA's delivery.
	signed, err := node.SignReceipt(forged, svid)
	if err != nil {
		t.Fatal(err)
	}
	// Unsigned: the event alone.
	var r map[string]any
	if err := json.Unmarshal(signed, &r); err != nil {
		t.Fatal(err)
	}
	delete(r, "sig")
	delete(r, "chain")
	unsigned, _ := json.Marshal(r)
	for i, data := range [][]byte{signed, unsigned} {
		if _, err := mx.PublishEvent(t.Context(), "forged"+string(rune('a'+i)), data); err != nil {
			t.Fatal(err)
		}
	}
	auditor := auditClient(t, nw, testenv.Auditor())
	deadline := time.Now().Add(eventually)
	var events []audit.Event
	for {
		resp, err := auditor.GetInclusionProof(t.Context(), &iantv1.GetInclusionProofRequest{
			Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: id}})
		if err == nil && len(resp.GetEntries()) >= 2 {
			events = entries(t, auditor, id)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusals not logged within %s: %v", eventually, err)
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

// nodeSVID reads state cc's node SVID from the network's PKI.
func nodeSVID(t *testing.T, nw *testenv.Network, cc string) *x509svid.SVID {
	t.Helper()
	src := nodeSource(t, nw, cc)
	svid, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	return svid
}

func nodeSource(t *testing.T, nw *testenv.Network, cc string) *identity.FileSource {
	t.Helper()
	e, ok := nw.PKI.Find(testenv.NodePrincipal(cc))
	if !ok {
		t.Fatalf("no SVID of %s", cc)
	}
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// nodeBackbone connects to the backbone as state cc's node.
func nodeBackbone(t *testing.T, nw *testenv.Network, cc string) *backbone.Client {
	t.Helper()
	src := nodeSource(t, nw, cc)
	c, err := backbone.Connect(t.Context(), backbone.ClientConfig{
		URLs: []string{nw.Backbone.ClientURL()}, TrustDomain: nw.TD, SVID: src, Bundle: src, Name: "test-forger",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAuditStateNodesWitnessCheckpoints(t *testing.T) {
	t.Parallel()
	nw := startAuditNetwork(t, node.AuditConfig{CheckpointInterval: 50 * time.Millisecond}, "MX", "US")
	id := post(t, dial(t, nw, testenv.FocalPoint("MX")), draft("witnessed", "US")).GetBulletin().GetId()
	auditor := auditClient(t, nw, testenv.Auditor())
	waitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		return recipient(r, "US") != nil && recipient(r, "US").GetDeliverTime() != nil
	})
	const want = 3 // posted, released, delivered
	deadline := time.Now().Add(eventually)
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
