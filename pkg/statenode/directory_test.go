package statenode_test

import (
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestDirectoryEntriesNeverGoBackwards: once US accepted an entry of MX,
// it refuses an older one (a replay of MX's genuine earlier entry, signed
// with MX's SVID, as a compromised MX node or a replaying backbone could
// publish) and one of the same sequence with other content, logs each
// (rule directory.replay), and goes on sealing to MX's current key and
// opening what MX's current key signs — after a restart too, the mark
// being in its database. A newer entry is taken.
func TestDirectoryEntriesNeverGoBackwards(t *testing.T) {
	t.Parallel()
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "US"}, Logger: logs.Logger()}))
	ctx := t.Context()
	mxSide := nettest.NodeBackbone(t, nw, "MX")
	mxAnalyst := nettest.Dial(t, nw, testenv.Analyst("MX"))
	mxFP := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	usFP := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	usAnalyst := nettest.Dial(t, nw, testenv.Analyst("US"))

	// postToMX has US post to MX with a cold directory cache (as after
	// entryCacheTTL) and returns the KEM key the stored copy is sealed to.
	postToMX := func(title string) string {
		t.Helper()
		statenode.ExpireDirectoryCache(nw.Node("US"))
		id := nettest.Post(t, usFP, nettest.Draft(title, "MX")).GetBulletin().GetId()
		nettest.WaitStored(t, mxAnalyst, id)
		return nettest.SealedTo(nettest.InboxCopy(t, nw, "MX", "US", id), "MX")
	}
	// fromMX has MX post to US, which opens it with a cold cache.
	fromMX := func(title string) {
		t.Helper()
		statenode.ExpireDirectoryCache(nw.Node("US"))
		nettest.WaitStored(t, usAnalyst, nettest.Post(t, mxFP, nettest.Draft(title, "US")).GetBulletin().GetId())
	}
	mxKEM := func() string { return statenode.KEMGenerations(nw.Node("MX"))[0].KEMKeyID }
	replays := func() int { return logs.Count("component=us", "rule=directory.replay", "level=WARN") }

	old, err := mxSide.DirectoryEntry(ctx, "MX")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := postToMX("before the rotation"), mxKEM(); got != want {
		t.Fatalf("sealed to %s before the rotation, want %s", got, want)
	}
	if err := nw.Node("MX").RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	current := mxKEM()
	if got := postToMX("after the rotation"); got != current {
		t.Fatalf("sealed to %s after the rotation, want %s", got, current)
	}
	fromMX("signed with MX's new key")

	// The older genuine entry published again.
	if err := mxSide.PublishDirectoryEntry(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got := postToMX("after the replay"); got != current {
		t.Errorf("after a replay of MX's older entry US sealed to %s, want MX's current %s", got, current)
	}
	fromMX("signed with MX's new key, after the replay")
	if n := replays(); n != 1 {
		t.Errorf("US logged %d replays, want 1 (logged when first seen)", n)
	}

	// The same sequence as MX's current entry, with other keys.
	forged := forgedEntry(t, nw, currentSequence(t, nw, "US", "MX"))
	if err := mxSide.PublishDirectoryEntry(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if got := postToMX("after an entry of the same sequence"); got != current {
		t.Errorf("after an entry of the same sequence and other keys US sealed to %s, want %s", got, current)
	}
	if n := replays(); n != 2 {
		t.Errorf("US logged %d replays, want 2", n)
	}

	// Restarted, US still knows which entry is MX's newest.
	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartNode(ctx, "US"); err != nil {
		t.Fatal(err)
	}
	usFP, usAnalyst = nettest.Dial(t, nw, testenv.FocalPoint("US")), nettest.Dial(t, nw, testenv.Analyst("US"))
	if got := postToMX("after US restarted"); got != current {
		t.Errorf("restarted, US sealed to %s, want %s", got, current)
	}
	fromMX("signed with MX's new key, after US restarted")
	if n := replays(); n != 3 {
		t.Errorf("US logged %d replays, want 3 (once more after its restart)", n)
	}

	// A newer entry is taken.
	if err := nw.Node("MX").RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := postToMX("after the next rotation"), mxKEM(); got != want || want == current {
		t.Errorf("after MX's next rotation US sealed to %s, want %s (not %s)", got, want, current)
	}

	// MX finds its entry replaced at its next maintenance and publishes
	// its own again, for the nodes that never saw it.
	if err := mxSide.PublishDirectoryEntry(ctx, old); err != nil {
		t.Fatal(err)
	}
	statenode.Maintain(ctx, nw.Node("MX"))
	data, err := mxSide.DirectoryEntry(ctx, "MX")
	if err != nil {
		t.Fatal(err)
	}
	e, err := seal.VerifyEntry(data, nettest.NodeSource(t, nw, "MX"), nw.TD, time.Now())
	if err != nil || e.KEMKeyID != mxKEM() {
		t.Errorf("MX's entry in the directory after its maintenance = %s, %v; want its current %s", e.KEMKeyID, err, mxKEM())
	}
	if n := logs.Count("component=mx", "rule=directory.replay", "level=WARN"); n != 1 {
		t.Errorf("MX logged %d replacements of its entry, want 1", n)
	}
}

// currentSequence is the sequence of the entry of state that node cc
// accepted last: its current one in the directory before any replay.
func currentSequence(t *testing.T, nw *testenv.Network, cc, state string) uint64 {
	t.Helper()
	e, ok := statenode.AcceptedEntry(nw.Node(cc), state)
	if !ok {
		t.Fatalf("%s accepted no entry of %s", cc, state)
	}
	return e.Sequence
}

// forgedEntry is an entry of MX of sequence seq with fresh keys, signed
// with MX's genuine SVID.
func forgedEntry(t *testing.T, nw *testenv.Network, seq uint64) []byte {
	t.Helper()
	keys, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	svid := nettest.NodeSVID(t, nw, "MX")
	now := time.Now()
	data, err := seal.SignEntry(keys.Entry(svid.ID.String(), now.Add(-time.Minute), now.Add(24*time.Hour), seq), svid)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
