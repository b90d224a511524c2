package hostile_test

import (
	"path/filepath"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// networkDir is the directory testenv runs the network in.
func networkDir(nw *testenv.Network) string { return filepath.Dir(nw.PKI.Dir) }

// forge signs e (and ev) with state cc's node's genuine SVID and publishes
// it as cc's node on the backbone, as a compromised node can.
func forge(t *testing.T, nw *testenv.Network, bb *backbone.Client, cc string, e audit.Event, ev audit.Evidence) {
	t.Helper()
	data, err := audit.SignReceipt(e, ev, nettest.NodeSVID(t, nw, cc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bb.PublishEvent(t.Context(), audit.EventID(e), data); err != nil {
		t.Fatal(err)
	}
}

// waitRefusals polls the log's entries of bulletin (origin, id) until
// one refusal per rule in rules is logged, and returns them by rule.
func waitRefusals(t *testing.T, a iantv1.AuditServiceClient, origin, id string, rules ...string) map[string]audit.Leaf {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for {
		got := map[string]audit.Leaf{}
		for _, l := range nettest.Leaves(t, a, origin, id) {
			if l.Event.Kind == audit.EventRefused {
				got[l.Event.Rule] = l
			}
		}
		missing := ""
		for _, r := range rules {
			if _, ok := got[r]; !ok {
				missing = r
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusal %s of %s/%s not logged within %s (logged: %v)", missing, origin, id, nettest.Eventually, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventually polls cond until it holds, or fails the test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, nettest.Eventually)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
