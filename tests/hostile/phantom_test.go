package hostile_test

import (
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestPhantomForwardDoesNotFrameItsTarget: MX releases a FLASH GREEN
// bulletin to CO. CO's node, compromised, reports to the audit that it
// forwarded the bulletin to PE — a genuine statement signed with its own
// key, MX's genuine header — but never sends PE a copy: to have the
// secretariat hold PE to the acknowledgement deadline of a bulletin PE
// never received. The report says what CO signed (PE reached through
// CO's forward) with no delivery; once the deadline has passed, CO
// (released, not acknowledged) is overdue and escalated, PE is neither,
// and PE's node shows nothing.
func TestPhantomForwardDoesNotFrameItsTarget(t *testing.T) {
	t.Parallel()
	second := time.Second
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"},
		Audit: secretariat.AuditConfig{Deadlines: audit.Deadlines{Flash: second, Immediate: second, Priority: second, Routine: second},
			EscalationInterval: 100 * time.Millisecond}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("never forwarded", "CO")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("CO")), id)
	co := newAttacker(t, nw, "CO")
	f, err := seal.Forward(inboxCopy(t, nw, "CO", "MX", id), "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
		seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
	if err != nil {
		t.Fatal(err)
	}
	checkForgery(t, nw, f, nil)
	forge(t, nw, co.bb, "CO", audit.Event{Kind: audit.EventForwarded, BulletinID: id, Origin: "MX", State: "PE", Actor: co.nodeID,
		Precedence: bulletin.Precedence(f.Sealed.Precedence), At: f.Statement.At.UTC()},
		audit.Evidence{Header: attestationOf(t, &f.Sealed), Forward: forwardAttestationOf(t, f)})

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	r := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool { return nettest.Recipient(r, "PE") != nil })
	if pe := nettest.Recipient(r, "PE"); pe.GetForwardedBy() != "CO" || pe.GetDeliverTime() != nil {
		t.Errorf("report's PE = %v, want reached through CO's forward, never delivered", pe)
	}
	var overdue []string
	eventually(t, "CO overdue", func() bool {
		resp, err := auditor.ListOverdue(t.Context(), &iantv1.ListOverdueRequest{})
		if err != nil {
			t.Fatal(err)
		}
		overdue = overdue[:0]
		for _, it := range resp.GetItems() {
			if it.GetBulletinId() == id {
				overdue = append(overdue, it.GetState())
			}
		}
		return len(overdue) > 0
	})
	if len(overdue) != 1 || overdue[0] != "CO" {
		t.Errorf("overdue of %s: %v, want CO only", id, overdue)
	}
	escalated := map[string]bool{}
	eventually(t, "CO escalated", func() bool {
		for _, l := range nettest.Leaves(t, auditor, "MX", id) {
			if l.Event.Kind == audit.EventEscalated {
				escalated[l.Event.State] = true
			}
		}
		return escalated["CO"]
	})
	if escalated["PE"] {
		t.Error("PE escalated for a bulletin it never received")
	}
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), "MX", id)
}

// attestationOf is the marshalled header attestation of s.
func attestationOf(t *testing.T, s *seal.Sealed) []byte {
	t.Helper()
	a, err := s.Attest()
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forwardAttestationOf is the marshalled forward attestation of f.
func forwardAttestationOf(t *testing.T, f *seal.Forwarded) []byte {
	t.Helper()
	a, err := f.Attest()
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
