package statenode_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestSignKeyRotationKeepsEarlierCopiesOpen: MX rotates its origin signing
// key between posts, with copies signed by the old key still waiting in
// US's inbox (US is down). The new directory entry lists the old key as
// retired at the rotation; US, back, opens every copy once, those signed
// before the rotation with the retired key, those after with the new one.
func TestSignKeyRotationKeepsEarlierCopiesOpen(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "US"}}))
	ctx := t.Context()
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(phase string, n int) []string {
		var ids []string
		for i := range n {
			ids = append(ids, nettest.Post(t, mx, nettest.Draft(fmt.Sprintf("%s %d", phase, i), "US")).GetBulletin().GetId())
		}
		return ids
	}
	before := post("delivered before the rotation", 2)
	for _, id := range before {
		nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	}
	oldKey := nettest.InboxCopy(t, nw, "US", "MX", before[0]).SignKeyID

	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	waiting := post("waiting in US's inbox across the rotation", 3)
	rotated := time.Now()
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	after := post("signed after the rotation", 3)
	if err := nw.StartNode(ctx, "US"); err != nil {
		t.Fatal(err)
	}

	// The directory announces the new key and the old one, retired.
	data, err := nettest.NodeBackbone(t, nw, "US").DirectoryEntry(ctx, "MX")
	if err != nil {
		t.Fatal(err)
	}
	e, err := seal.VerifyEntry(data, nettest.NodeSource(t, nw, "US"), nw.TD, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case e.Version != seal.Version2 || len(e.RetiredSign) != 1:
		t.Fatalf("MX's entry after the rotation: version %d, retired %+v; want version 2 listing the old key", e.Version, e.RetiredSign)
	case e.RetiredSign[0].KeyID != oldKey || e.SignKeyID == oldKey:
		t.Errorf("MX's entry signs with %s and retired %s; want %s retired", e.SignKeyID, e.RetiredSign[0].KeyID, oldKey)
	case e.RetiredSign[0].RetiredAt.Before(rotated.Add(-time.Second)) || e.RetiredSign[0].RetiredAt.After(time.Now()):
		t.Errorf("old key retired at %s, want at the rotation (%s)", e.RetiredSign[0].RetiredAt, rotated)
	}
	for _, tt := range []struct {
		ids  []string
		want string
	}{{waiting, oldKey}, {after, e.SignKeyID}} {
		for _, id := range tt.ids {
			if got := nettest.InboxCopy(t, nw, "US", "MX", id).SignKeyID; got != tt.want {
				t.Errorf("copy of %s signed with %s, want %s", id, got, tt.want)
			}
		}
	}
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("US")), append(append(before, waiting...), after...)...)
}

// clock is a fake clock running with the real one, moved forward by
// Advance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestRetiredKEMKeysLastTheInboxRetentionPlusTheMargin: with an inbox
// retention of a day, MX keeps a retired KEM key for a day plus
// KeyRetentionMargin after its retirement, and not a moment longer; its
// database's outbox markers go after the outbox retention.
func TestRetiredKEMKeysLastTheInboxRetentionPlusTheMargin(t *testing.T) {
	t.Parallel()
	logs := nettest.NewLogs(t)
	clk := &clock{}
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, Logger: logs.Logger(),
		Retention: backbone.Retention{Inbox: day},
		NodeConfig: func(cc string, c *statenode.Config) {
			if cc == "MX" {
				c.Now, c.OutboxRetention = clk.Now, 2*day
			}
		}})
	ctx := t.Context()
	n := nw.Node("MX")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("leaves markers", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	// The audit holds MX's receipts and US's delivery: MX's copy and
	// receipts left its outbox (their markers dated) before time moves.
	delivered(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, "US")

	first := statenode.KEMGenerations(n)[0].KEMKeyID
	if err := n.RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	keep := day + statenode.KeyRetentionMargin
	clk.Advance(keep / 2)
	if err := n.RotateKeys(ctx); err != nil { // prunes too: nothing old enough yet
		t.Fatal(err)
	}
	second := statenode.KEMGenerations(n)[1].KEMKeyID
	if got := len(statenode.KEMGenerations(n)); got != 3 {
		t.Fatalf("%d generations after two rotations within the retention, want 3", got)
	}
	clk.Advance(keep/2 - time.Minute)
	statenode.Maintain(ctx, n)
	if got := len(statenode.KEMGenerations(n)); got != 3 {
		t.Errorf("%d generations a minute before the first retired key's retention ends, want 3", got)
	}
	clk.Advance(2 * time.Minute)
	statenode.Maintain(ctx, n)
	gens := statenode.KEMGenerations(n)
	if len(gens) != 2 || gens[1].KEMKeyID != second {
		t.Errorf("generations after the first retired key's retention = %+v, want the current and %s (not %s)", gens, second, first)
	}
	if logs.Count("component=mx", "msg=retired KEM keys pruned") != 1 {
		t.Error("the pruning was not logged once")
	}
	if logs.Count("component=mx", "msg=outbox markers pruned") == 0 {
		t.Error("the outbox markers older than the outbox retention were not pruned")
	}
}
