package statenode_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// receivedIDs reads n received bulletins from s, in delivery order,
// skipping what the node itself sent.
func receivedIDs(t *testing.T, s *nettest.Subscription, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		b := s.Next(t)
		if b.GetDirection() == iantv1.Direction_DIRECTION_RECEIVED {
			ids = append(ids, b.GetBulletin().GetId())
		}
	}
	return ids
}

func sameOrder(t *testing.T, who string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s received %v, want %v (post order)", who, got, want)
	}
}

// TestLeafStatePostsThroughACutLink runs MX behind a leaf node and cuts
// its link to the backbone: posting at MX still succeeds, also after MX's
// node restarts during the cut (its keys of CA come from the leaf), CA
// posts to MX meanwhile, and once the link returns CA receives every
// bulletin of MX and MX every bulletin of CA, in post order, exactly once.
func TestLeafStatePostsThroughACutLink(t *testing.T) {
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: t.TempDir(), States: []string{"MX", "CA"}, LeafStates: []string{"MX"}})
	if err != nil {
		t.Fatalf("testenv.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subCA := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{})
	fpMX := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	fpCA := nettest.Dial(t, nw, testenv.FocalPoint("CA"))

	var toCA, toMX []string
	// Before the cut every copy is on the backbone when MX answers; during
	// it, MX's answer names the recipient whose copy waits. (Just after
	// the link returns either may be true.)
	cut, restored := false, false
	postTo := func(fp iantv1.BulletinServiceClient, ids *[]string, title, state string) {
		t.Helper()
		resp, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft(title, state)})
		if err != nil {
			t.Fatalf("PostBulletin(%q) = %v", title, err)
		}
		var want []string
		if cut && fp == fpMX {
			want = []string{state}
		}
		if got := resp.GetPendingRecipients(); !restored && !slices.Equal(got, want) {
			t.Errorf("PostBulletin(%q) pending recipients = %v (link cut %v)", title, got, cut)
		}
		*ids = append(*ids, resp.GetBulletin().GetBulletin().GetId())
	}
	postTo(fpMX, &toCA, "before the cut", "CA")
	sameOrder(t, "CA", receivedIDs(t, subCA, 1), toCA)
	postTo(fpCA, &toMX, "to MX before the cut", "MX")
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("MX")), toMX[0])

	if err := nw.CutLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	cut = true
	for i := range 3 {
		postTo(fpMX, &toCA, fmt.Sprintf("during the cut %d", i), "CA")
		postTo(fpCA, &toMX, fmt.Sprintf("to MX during the cut %d", i), "MX")
	}
	// A restart clears what the node holds in memory; the outbox and the
	// kept directory entries are at the leaf, on disk.
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	fpMX = nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	for i := range 3 {
		postTo(fpMX, &toCA, fmt.Sprintf("during the cut, after restart %d", i), "CA")
	}
	stats, err := nw.Node("MX").Outbox(t.Context())
	if err != nil || stats.Pending != 6 {
		t.Fatalf("MX outbox during the cut = %+v, %v, want 6 copies waiting", stats, err)
	}
	if nw.Node("MX").LeafLinked() {
		t.Fatal("MX's leaf node linked again during the cut: it went around the proxy")
	}

	if err := nw.RestoreLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	cut, restored = false, true
	sameOrder(t, "CA", receivedIDs(t, subCA, len(toCA)-1), toCA[1:])
	subMX := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("MX")), &iantv1.SubscribeRequest{FromStart: true})
	sameOrder(t, "MX", receivedIDs(t, subMX, len(toMX)), toMX)

	// Markers posted last arrive next: nothing was delivered twice.
	postTo(fpMX, &toCA, "marker", "CA")
	postTo(fpCA, &toMX, "marker", "MX")
	sameOrder(t, "CA", receivedIDs(t, subCA, 1), toCA[len(toCA)-1:])
	sameOrder(t, "MX", receivedIDs(t, subMX, 1), toMX[len(toMX)-1:])
	deadline := time.Now().Add(20 * time.Second)
	for {
		stats, err := nw.Node("MX").Outbox(t.Context())
		if err == nil && stats.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MX outbox = %+v, %v after the link returned, want empty", stats, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("MX→CA: posted %d (6 during the cut, 3 of them after a restart), acked %d, delivered %d, duplicated 0, lost 0",
		len(toCA), len(toCA), len(toCA))
	t.Logf("CA→MX: posted %d (3 during the cut), acked %d, delivered %d, duplicated 0, lost 0",
		len(toMX), len(toMX), len(toMX))
}
