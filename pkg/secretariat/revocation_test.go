package secretariat_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// movableClock is real time plus an offset a test moves forward: the
// secretariat's clock (Config.Now), so a deadline passes without the test
// waiting for it.
type movableClock struct{ offset atomic.Int64 }

func (c *movableClock) now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *movableClock) add(d time.Duration) { c.offset.Add(int64(d)) }

// TestUnconfirmedRevocationEscalates: MX revokes a FLASH bulletin it
// released to US and JM while JM's node is stopped. US confirms; JM
// cannot. Within the FLASH deadline (15 minutes, the default) nothing is
// overdue. Once the secretariat's clock is past it, JM's revocation —
// and only JM's — is overdue and escalated: the report shows when, the
// escalation stream and ListOverdue carry it as a revocation, and the log
// holds one revocation-escalated event (no acknowledgement escalation of
// the revoked bulletin). So is JM's copy of a second bulletin that a
// revision no longer releases to JM (a narrowing revokes that copy).
// Back up, JM confirms both and neither is overdue any more.
func TestUnconfirmedRevocationEscalates(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "JM"},
		Audit:             secretariat.AuditConfig{EscalationInterval: 20 * time.Millisecond},
		SecretariatConfig: func(c *secretariat.Config) { c.Now = clock.now }})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	id := nettest.Post(t, mx, nettest.Draft("Wrong person named", "US", "JM")).GetBulletin().GetId()
	narrowDraft := nettest.Draft("No longer for JM", "US", "JM")
	narrowed := nettest.Post(t, mx, narrowDraft).GetBulletin().GetId()
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, b := range []string{id, narrowed} {
		for _, cc := range []string{"US", "JM"} {
			nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint(cc)), b)
		}
		nettest.WaitReport(t, auditor, b, func(r *iantv1.BulletinReport) bool {
			return nettest.Recipient(r, "US").GetDeliverTime() != nil && nettest.Recipient(r, "JM").GetDeliverTime() != nil
		})
	}
	if err := nw.StopNode("JM"); err != nil {
		t.Fatal(err)
	}
	nettest.Revoke(t, mx, id, "wrong person named")
	// A revision that no longer releases to JM revokes JM's copy: a
	// revocation to confirm as well.
	nettest.Revise(t, mx, narrowed, nettest.Redraft(narrowDraft, func(b *iantv1.Bulletin) {
		b.Releasability = &iantv1.Releasability{States: []string{"US"}}
	}))
	nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		us, jm := nettest.Recipient(r, "US"), nettest.Recipient(r, "JM")
		return us.GetRevokedTime() != nil && jm.GetRevocationTime() != nil
	})
	nettest.WaitReport(t, auditor, narrowed, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "JM").GetRevocationTime() != nil
	})
	revocations := func() map[string]*iantv1.OverdueItem {
		t.Helper()
		resp, err := auditor.ListOverdue(t.Context(), &iantv1.ListOverdueRequest{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*iantv1.OverdueItem{}
		for _, it := range resp.GetItems() {
			if it.GetBulletinId() == id {
				if !it.GetRevocation() {
					t.Errorf("overdue %v: an acknowledgement of a revoked bulletin is not overdue", it)
				}
				out[it.GetState()] = it
			}
		}
		return out
	}
	if over := revocations(); len(over) != 0 {
		t.Errorf("within the deadline ListOverdue = %v, want nothing of %s", over, id)
	}
	withdrawalOverdue := func() *iantv1.OverdueItem {
		t.Helper()
		resp, err := auditor.ListOverdue(t.Context(), &iantv1.ListOverdueRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range resp.GetItems() {
			if it.GetBulletinId() == narrowed && it.GetState() == "JM" && it.GetRevocation() {
				return it
			}
		}
		return nil
	}
	if it := withdrawalOverdue(); it != nil {
		t.Errorf("within the deadline JM's withdrawn copy is overdue: %v", it)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := auditor.WatchEscalations(ctx, &iantv1.WatchEscalationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	escalated := make(chan *iantv1.OverdueItem, 16)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				close(escalated)
				return
			}
			escalated <- resp.GetItem()
		}
	}()
	clock.add(audit.DefaultFlashDeadline + time.Minute)

	rep := nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "JM").GetRevocationEscalateTime() != nil
	})
	if us := nettest.Recipient(rep, "US"); us.GetRevocationEscalateTime() != nil {
		t.Errorf("US confirmed, yet its revocation is escalated: %v", us)
	}
	timeout := time.After(nettest.Eventually)
	for streamed := false; !streamed; {
		select {
		case it, ok := <-escalated:
			if !ok {
				t.Fatal("escalation stream ended")
			}
			streamed = it.GetBulletinId() == id && it.GetState() == "JM" && it.GetRevocation()
		case <-timeout:
			t.Fatalf("JM's revocation not streamed as an escalation within %s", nettest.Eventually)
		}
	}
	over := revocations()
	if jm := over["JM"]; jm == nil || jm.GetEscalateTime() == nil || jm.GetDueTime() == nil || len(over) != 1 {
		t.Errorf("ListOverdue of %s = %v, want JM's revocation alone, escalated, with its due time", id, over)
	}
	n := 0
	for _, e := range nettest.Entries(t, auditor, id) {
		switch e.Kind {
		case audit.EventRevocationEscalated:
			n++
			if e.State != "JM" {
				t.Errorf("revocation escalated event of %s, want JM's only", e.State)
			}
		case audit.EventEscalated:
			t.Errorf("acknowledgement escalated event of %s: a revoked bulletin is not acknowledged any more", e.State)
		}
	}
	if n != 1 {
		t.Errorf("the log holds %d revocation escalated events of %s, want 1 (JM's revocation)", n, id)
	}

	nettest.WaitReport(t, auditor, narrowed, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "JM").GetRevocationEscalateTime() != nil
	})
	if it := withdrawalOverdue(); it == nil || it.GetEscalateTime() == nil {
		t.Errorf("ListOverdue of JM's withdrawn copy of %s = %v, want it escalated", narrowed, it)
	}

	if err := nw.StartNode(t.Context(), "JM"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool { return nettest.Recipient(r, "JM").GetRevokedTime() != nil })
	nettest.WaitReport(t, auditor, narrowed, func(r *iantv1.BulletinReport) bool { return nettest.Recipient(r, "JM").GetRevokedTime() != nil })
	if over := revocations(); len(over) != 0 {
		t.Errorf("after JM confirmed, ListOverdue = %v, want nothing of %s", over, id)
	}
	if it := withdrawalOverdue(); it != nil {
		t.Errorf("after JM confirmed, its withdrawn copy is still overdue: %v", it)
	}
}
