package hostile_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

var ancient = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)

// TestAuditForgedPostingsLeaveTheOriginsReport has US, a recipient of a
// FLASH bulletin of MX, report "posted" for that bulletin's id before MX's
// own receipts reach the log (MX's link is cut): as its own origin with
// ROUTINE precedence and a 1971 time, once without and once with a header
// it genuinely sealed itself, and once as MX. MX's report keeps what MX
// signed — FLASH, its time, its deadline and escalation, US's reader —
// MX's focal point gets it, and US's focal point sees only US's own
// bulletin of that id, without MX's readers.
func TestAuditForgedPostingsLeaveTheOriginsReport(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "BR"}, LeafStates: []string{"MX"},
		Audit: secretariat.AuditConfig{EscalationInterval: 50 * time.Millisecond, Deadlines: audit.Deadlines{Flash: 3 * time.Second}}})
	fpMX, anUS := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.Analyst("US"))
	// A first bulletin while MX is linked: its node learns US's keys.
	nettest.WaitStored(t, anUS, nettest.Post(t, fpMX, nettest.Draft("warm-up", "US")).GetBulletin().GetId())
	if err := nw.CutLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	victim := nettest.Post(t, fpMX, nettest.Draft("victim", "US")).GetBulletin()
	id := victim.GetId()

	us := nettest.NodeBackbone(t, nw, "US")
	forged := func(origin, actor string) audit.Event {
		return audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: origin, Actor: actor, Precedence: bulletin.Routine, At: ancient}
	}
	fp := func(cc, name string) string { return "spiffe://iant.test/state/" + cc + "/focal-point/" + name }
	forge(t, nw, us, "US", forged("US", fp("US", "focal")), audit.Evidence{})
	forge(t, nw, us, "US", forged("MX", fp("MX", "focal")), audit.Evidence{})
	// US's node seals a bulletin of its own under MX's id: a genuine header.
	own, err := seal.Seal(seal.Header{ID: id, Origin: "US", Signer: testenv.NodePrincipal("US").ID(nw.TD).String(),
		Precedence: int32(bulletin.Routine), CreatedAt: ancient}, []byte("decoy"), []seal.PublicKeys{nettest.NodeKeys(t, nw, "BR").Public()},
		nettest.NodeKeys(t, nw, "US"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := own.Attest()
	if err != nil {
		t.Fatal(err)
	}
	att, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	forge(t, nw, us, "US", forged("US", fp("US", "mallory")), audit.Evidence{Header: att})

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	refusedUS := waitRefusals(t, auditor, "US", id, "receipt.header")
	refusedMX := waitRefusals(t, auditor, "MX", id, "receipt.signer")
	usNode := testenv.NodePrincipal("US").ID(nw.TD).String()
	for _, l := range []audit.Leaf{refusedUS["receipt.header"], refusedMX["receipt.signer"]} {
		if l.Event.Actor != usNode || l.Receipt == nil || l.Receipt.Signer != testenv.NodePrincipal("").ID(nw.TD) {
			t.Errorf("refusal %s names %s, said by %v; want US's node, said by the secretariat", l.Event.Rule, l.Event.Actor, l.Receipt)
		}
	}
	// US's own bulletin of that id is US's business, and in US's report.
	nettest.WaitReportOf(t, auditor, "US", id, func(r *iantv1.BulletinReport) bool { return r.GetPrecedence() == iantv1.Precedence_PRECEDENCE_ROUTINE })

	// MX's receipts arrive after the forgeries.
	if err := nw.RestoreLink(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, anUS, id) // read by US's analyst
	reader := testenv.Analyst("US").ID(nw.TD).String()
	got := nettest.WaitReport(t, nettest.AuditClient(t, nw, testenv.FocalPoint("MX")), id, func(r *iantv1.BulletinReport) bool {
		s := nettest.Recipient(r, "US")
		return s != nil && s.GetReadBy() == reader && s.GetEscalateTime() != nil && r.GetPostTime() != nil
	})
	if got.GetOrigin() != "MX" || got.GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH ||
		!got.GetCreateTime().AsTime().Equal(victim.GetCreateTime().AsTime()) || !got.GetPostTime().AsTime().Equal(victim.GetCreateTime().AsTime()) {
		t.Errorf("MX's report = origin %s, %s, created %v, posted %v; want MX's, FLASH, created and posted %v", got.GetOrigin(),
			got.GetPrecedence(), got.GetCreateTime().AsTime(), got.GetPostTime().AsTime(), victim.GetCreateTime().AsTime())
	}

	// US's focal point sees US's bulletin of that id, not MX's readers.
	auditUS := nettest.AuditClient(t, nw, testenv.FocalPoint("US"))
	own1, err := auditUS.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	r := own1.GetReport()
	if r.GetOrigin() != "US" || len(r.GetRecipients()) != 1 || nettest.Recipient(r, "BR") == nil || nettest.Recipient(r, "US") != nil ||
		!r.GetCreateTime().AsTime().Equal(ancient) {
		t.Errorf("US's focal point's report = %v, want US's own ROUTINE bulletin to BR of 1971 only", r)
	}
	if _, err := auditUS.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id, Origin: "MX"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("US's focal point asking for MX's report = %v, want PermissionDenied", err)
	}
	// An auditor must say which bulletin of that id.
	_, err = auditor.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "MX, US") {
		t.Errorf("auditor's report without origin = %v, want InvalidArgument naming MX, US", err)
	}
}

// TestAuditReceiptsOfAStateNeverReleased has BR, never released MX's
// bulletin, report that it delivered, read and acknowledged it: each
// receipt is refused, the refusal logged, and the report knows only US.
func TestAuditReceiptsOfAStateNeverReleased(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "BR")
	b := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("not for BR", "US")).GetBulletin()
	id := b.GetId()
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US").GetDeliverTime() != nil
	})

	br := nettest.NodeBackbone(t, nw, "BR")
	now := time.Now().UTC()
	person := func(role, name string) string { return "spiffe://iant.test/state/BR/" + role + "/" + name }
	for _, e := range []audit.Event{
		{Kind: audit.EventDelivered, Actor: testenv.NodePrincipal("BR").ID(nw.TD).String()},
		{Kind: audit.EventRead, Actor: person("analyst", "analyst")},
		{Kind: audit.EventAcknowledged, Actor: person("focal-point", "focal")},
	} {
		e.BulletinID, e.Origin, e.State, e.At = id, "MX", "BR", now
		forge(t, nw, br, "BR", e, audit.Evidence{})
	}
	refusal := waitRefusals(t, auditor, "MX", id, "receipt.not_recipient")["receipt.not_recipient"]
	if refusal.Event.State != "BR" || refusal.Event.Actor != testenv.NodePrincipal("BR").ID(nw.TD).String() {
		t.Errorf("refusal = %+v, want BR's node named", refusal.Event)
	}
	// A receipt of US after BR's: once it is in, BR's were settled before it.
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	r := nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US").GetReadTime() != nil
	})
	if nettest.Recipient(r, "BR") != nil || len(r.GetRecipients()) != 1 {
		t.Errorf("report = %v, want US alone", r.GetRecipients())
	}
	for _, l := range nettest.Leaves(t, auditor, "MX", id) {
		if l.Event.State == "BR" && l.Event.Kind != audit.EventRefused {
			t.Errorf("BR's %s receipt was logged", l.Event.Kind)
		}
	}
}
