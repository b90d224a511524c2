package statenode_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/store"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// parkedFrom returns what n parked from the publishing state origin.
func parkedFrom(t *testing.T, n *statenode.Node, origin string) store.ParkedCount {
	t.Helper()
	s, err := n.Parked(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.ByOrigin {
		if c.Origin == origin {
			return c
		}
	}
	return store.ParkedCount{Origin: origin}
}

// waitParked waits until n holds want parked copies from origin.
func waitParked(t *testing.T, n *statenode.Node, origin string, want int) {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for {
		got := parkedFrom(t, n, origin)
		if got.Copies == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d copies parked from %s, want %d", got.Copies, origin, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unknownVersion is copy m with a sealed format version no node knows.
func unknownVersion(m backbone.Msg) backbone.Msg {
	m.Data = append([]byte(nil), m.Data...)
	m.Data[8] = 9 // the version byte after "IANTSEAL"
	return m
}

// TestParkBoundedPerPublishingState: CO parks GT's undecidable copies
// up to its bound (Park.MaxCopies 2); the same copy again is parked
// once; beyond the bound GT's copies are rejected (receive.park_full),
// while MX's undecidable copy is still parked.
func TestParkBoundedPerPublishingState(t *testing.T) {
	const gt = "GT"
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", gt, "MX"}, Idle: []string{gt},
		NodeConfig: func(cc string, c *statenode.Config) { c.Park = statenode.ParkConfig{MaxCopies: 2} }})
	co := nw.Node("CO")
	gtKeys, err := seal.GenerateNodeKeys(gt)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	first := unknownVersion(copyOf(t, nw, gtKeys, gt, 0, now))
	for i, m := range []backbone.Msg{first, first, unknownVersion(copyOf(t, nw, gtKeys, gt, 0, now))} {
		if err := statenode.Receive(co, t.Context(), m); err != nil {
			t.Fatalf("GT's copy %d: %v, want parked", i, err)
		}
	}
	if p := parkedFrom(t, co, gt); p.Copies != 2 {
		t.Errorf("GT's parked copies: %+v, want 2 (the same copy twice is parked once)", p)
	}
	err = statenode.Receive(co, t.Context(), unknownVersion(copyOf(t, nw, gtKeys, gt, 0, now)))
	if !errors.Is(err, backbone.ErrReject) || !strings.Contains(err.Error(), "park_full") {
		t.Errorf("GT's third undecidable copy: %v, want rejected (park_full)", err)
	}
	mx := unknownVersion(copyOf(t, nw, nettest.NodeKeys(t, nw, "MX"), "MX", 0, now))
	if err := statenode.Receive(co, t.Context(), mx); err != nil {
		t.Errorf("MX's undecidable copy while GT's park is full: %v, want parked", err)
	}
	if p := parkedFrom(t, co, "MX"); p.Copies != 1 {
		t.Errorf("MX's parked copies: %+v, want 1", p)
	}
}

// TestParkedCopyStoredAfterWhatArrivedMeanwhile: a copy of GT's arrives
// before GT's directory entry and is parked; a copy of MX's arrives and
// is stored at once; once GT's entry is published, the parked copy is
// stored, after MX's (a later cursor), and leaves the park.
func TestParkedCopyStoredAfterWhatArrivedMeanwhile(t *testing.T) {
	const gt = "GT"
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", gt, "MX"}, Idle: []string{gt}})
	co := nw.Node("CO")
	gtKeys, err := seal.GenerateNodeKeys(gt)
	if err != nil {
		t.Fatal(err)
	}
	early := copyOf(t, nw, gtKeys, gt, 0, time.Now())
	if err := statenode.Receive(co, t.Context(), early); err != nil {
		t.Fatalf("GT's copy before its entry: %v, want parked", err)
	}
	meanwhile := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("meanwhile", "CO"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("CO"))
	mx := nettest.WaitStored(t, analyst, meanwhile.GetBulletin().GetId())
	nettest.PublishEntry(t, nw, gt, gtKeys)
	got := nettest.WaitStored(t, analyst, early.ID)
	if got.GetCursor() <= mx.GetCursor() {
		t.Errorf("GT's parked copy stored at cursor %d, MX's that arrived meanwhile at %d: want it after", got.GetCursor(), mx.GetCursor())
	}
	waitParked(t, co, gt, 0)
}

// TestParkedCopiesSurviveARestart: CO parks a copy of GT's (no entry
// yet) and one in an unknown format, and stops; GT's entry is published;
// CO starts again, tries its parked copies at once, stores GT's and
// keeps the unknown format parked.
func TestParkedCopiesSurviveARestart(t *testing.T) {
	const gt = "GT"
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", gt}, Idle: []string{gt}})
	gtKeys, err := seal.GenerateNodeKeys(gt)
	if err != nil {
		t.Fatal(err)
	}
	early := copyOf(t, nw, gtKeys, gt, 0, time.Now())
	for _, m := range []backbone.Msg{early, unknownVersion(copyOf(t, nw, gtKeys, gt, 0, time.Now()))} {
		if err := statenode.Receive(nw.Node("CO"), t.Context(), m); err != nil {
			t.Fatalf("copy %s: %v, want parked", m.ID, err)
		}
	}
	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, gt, gtKeys)
	if err := nw.StartNode(t.Context(), "CO"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("CO")), early.ID)
	waitParked(t, nw.Node("CO"), gt, 1)
}

// TestRebuildParksWhatItCannotDecide: CO parked a copy of GT's in a
// format no node knows, between two of MX's bulletins; its database is
// lost. Rebuilding from the inbox, CO restores MX's bulletins and parks
// GT's copy again rather than waiting on it, and then receives what comes
// next.
func TestRebuildParksWhatItCannotDecide(t *testing.T) {
	const gt = "GT"
	dir := t.TempDir()
	nw := nettest.Start(t, testenv.Options{Dir: dir, States: []string{"CO", gt, "MX"}, Idle: []string{gt}})
	gtKeys, err := seal.GenerateNodeKeys(gt)
	if err != nil {
		t.Fatal(err)
	}
	mx, co := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.Analyst("CO"))
	first := nettest.Post(t, mx, nettest.Draft("before GT's copy", "CO")).GetBulletin().GetId()
	junk := unknownVersion(copyOf(t, nw, gtKeys, gt, 0, time.Now()))
	if _, err := nettest.NodeBackbone(t, nw, gt).PublishInbox(t.Context(), "CO", gt, junk.ID, junk.Data); err != nil {
		t.Fatal(err)
	}
	second := nettest.Post(t, mx, nettest.Draft("after GT's copy", "CO")).GetBulletin().GetId()
	nettest.WaitStored(t, co, second)
	waitParked(t, nw.Node("CO"), gt, 1)

	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"node.db", "node.db-wal", "node.db-shm"} {
		if err := os.Remove(filepath.Join(dir, "data", "co", f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := nw.StartNode(t.Context(), "CO"); err != nil {
		t.Fatal(err)
	}
	co = nettest.Dial(t, nw, testenv.Analyst("CO"))
	nettest.WaitStored(t, co, first)
	nettest.WaitStored(t, co, second)
	waitParked(t, nw.Node("CO"), gt, 1)
	nettest.WaitStored(t, co, nettest.Post(t, mx, nettest.Draft("after the rebuild", "CO")).GetBulletin().GetId())
}
