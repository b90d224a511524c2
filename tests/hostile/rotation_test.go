package hostile_test

import (
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestKeyWithdrawnAfterTheFact: MX releases a GREEN bulletin to CO, CO
// forwards it to PE, and the log has PE's delivery through CO's forward.
// Then the node of MX (the origin) or of CO (the forwarder),
// compromised, withdraws the signing key which signed the bulletin (MX)
// or the forward (CO): it publishes an entry that retires the key an
// hour before it signed, or rotates nine times in a row so that the key
// falls out of its entry (seal.MaxRetiredSignKeys) — to disown what it
// signed, and to have the log refuse what PE reports of it (PE's
// receipts carry both attestations, checked again against the
// directory). PE's analyst reads the bulletin and its focal point
// acknowledges it: the log takes both, and MX's report keeps PE's
// delivery, read and acknowledgement. (The secretariat restarts after
// the entry is published, so that it reads the keys from that entry, not
// from its cache.)
func TestKeyWithdrawnAfterTheFact(t *testing.T) {
	t.Parallel()
	for _, disowner := range []string{"MX", "CO"} {
		for _, drop := range []bool{false, true} {
			name := disowner + " backdates the retirement"
			if drop {
				name = disowner + " drops the key"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				keyWithdrawn(t, disowner, drop)
			})
		}
	}
}

func keyWithdrawn(t *testing.T, disowner string, drop bool) {
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	sb := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("to be disowned", "CO"))
	id, created := sb.GetBulletin().GetId(), sb.GetBulletin().GetCreateTime().AsTime()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, id)
	if _, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	r := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		pe := nettest.Recipient(r, "PE")
		return pe.GetDeliverTime() != nil && pe.GetForwardTime() != nil
	})
	signed := created // MX signed the header at its creation
	if disowner == "CO" {
		signed = nettest.Recipient(r, "PE").GetForwardTime().AsTime()
	}
	rotated, err := nettest.NodeKeys(t, nw, disowner).RotateSign(signed.Add(-time.Hour))
	for i := 1; drop && err == nil && i <= seal.MaxRetiredSignKeys; i++ {
		rotated, err = rotated.RotateSign(signed.Add(time.Duration(i) * time.Second))
	}
	if err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, disowner, rotated)
	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = nettest.AuditClient(t, nw, testenv.Auditor())

	if _, err := nettest.Dial(t, nw, testenv.Analyst("PE")).GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("PE")).AcknowledgeBulletin(t.Context(),
		&iantv1.AcknowledgeBulletinRequest{Id: id, Origin: "MX"}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		for _, l := range nettest.Leaves(t, auditor, "MX", id) {
			if l.Event.Rule != "" {
				t.Fatalf("the log refused %s's %s (%s) after %s withdrew its key", l.Event.State, l.Event.Detail, l.Event.Rule, disowner)
			}
		}
		pe := nettest.Recipient(r, "PE")
		return pe.GetReadTime() != nil && pe.GetAcknowledgeTime() != nil
	})
}
