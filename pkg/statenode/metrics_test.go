package statenode_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestMetricsCountWhatHappens: a post, its delivery, a refusal and the
// calls are counted in the network's registry, each under its node.
func TestMetricsCountWhatHappens(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("counted", "US"))
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), posted.GetBulletin().GetId())
	_, err := nettest.Dial(t, nw, testenv.Analyst("MX")).PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("refused", "US")})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an analyst's post = %v, want PermissionDenied", err)
	}
	reg := nw.Registry()
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"iant_bulletins_posted_total", map[string]string{"node": "MX", "precedence": "flash"}, 1},
		{"iant_bulletins_received_total", map[string]string{"node": "US", "precedence": "flash"}, 1},
		{"iant_delivery_latency_seconds", map[string]string{"node": "US", "precedence": "flash"}, 1},
		{"iant_refusals_total", map[string]string{"node": "MX", "rule": "post.role"}, 1},
		{"iant_policy_decisions_total", map[string]string{"node": "MX", "point": "release", "decision": "allow"}, 1},
		{"iant_grpc_requests_total", map[string]string{"node": "MX", "method": "/iant.v1.BulletinService/PostBulletin", "code": "OK"}, 1},
		{"iant_grpc_requests_total", map[string]string{"node": "MX", "method": "/iant.v1.BulletinService/PostBulletin", "code": "PermissionDenied"}, 1},
		{"iant_outbox_copies_published_total", map[string]string{"node": "MX"}, 1},
	}
	for _, w := range want {
		got, ok := nettest.MetricValue(t, reg, w.name, w.labels)
		if !ok || got != w.value {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	// The backbone's figures are read from the embedded server.
	deadline := time.Now().Add(nettest.Eventually)
	for {
		got, ok := nettest.MetricValue(t, reg, "iant_backbone_consumer_pending", map[string]string{"consumer": "inbox-US", "state": "US"})
		if ok && got == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("iant_backbone_consumer_pending{consumer=inbox-US} = %v (found %v), want 0 once US took its copy", got, ok)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, ok := nettest.MetricValue(t, reg, "iant_backbone_jetstream_enabled", map[string]string{"server": "iant-backbone"}); !ok || got != 1 {
		t.Errorf("iant_backbone_jetstream_enabled = %v (found %v), want 1", got, ok)
	}
}

// TestStatusDescribesTheNode: GetStatus names the node, its checks, its
// keys and its certificate, to its own state's people only; the
// secretariat's to its auditors. The traffic counts go to focal points
// only: an analyst polling them would learn of a RED bulletin posted
// that it may not read.
func TestStatusDescribesTheNode(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	red := nettest.Draft("for focal points only", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	id := nettest.Post(t, fp, red).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("US")), id)
	if q := nettest.Status(t, nettest.Conn(t, nw, testenv.FocalPoint("MX"))).GetQueues(); q.GetCopiesPublished() == 0 {
		t.Errorf("GetStatus at MX for its focal point: queues %v, want the copy published counted", q)
	}
	if q := nettest.Status(t, nettest.Conn(t, nw, testenv.Analyst("MX"))).GetQueues(); q.GetCopiesPublished() != 0 || q.GetCopiesPending() != 0 || q.GetReceiptsPending() != 0 {
		t.Errorf("GetStatus at MX for an analyst: queues %v, want no traffic counts", q)
	}
	st := nettest.Status(t, nettest.Conn(t, nw, testenv.Analyst("MX")))
	if st.GetState() != "MX" || !st.GetServing() || len(st.GetChecks()) != 5 || len(st.GetKeyGenerations()) != 1 ||
		!st.GetKeyGenerations()[0].GetCurrent() || st.GetCertificate().GetSpiffeId() != st.GetNodeId() ||
		!st.GetBackbone().GetConnected() || st.GetQueues().GetMaxPendingCopies() == 0 || len(st.GetVolumes()) != 1 {
		t.Errorf("GetStatus at MX = %v", st)
	}
	sec := nettest.Status(t, nettest.Conn(t, nw, testenv.Auditor()))
	if sec.GetState() != "" || !sec.GetServing() || len(sec.GetChecks()) != 4 {
		t.Errorf("GetStatus at the secretariat = %v", sec)
	}
}
