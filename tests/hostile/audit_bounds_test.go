package hostile_test

import (
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestAuditHolderReceiptsOutOfBounds: US holds MX's FLASH bulletin and its
// node, compromised, reports of it what did not happen at US: a read by
// MX's analyst, an acknowledgement dated an hour ahead, a delivery dated
// a day before the bulletin was created, a read at ROUTINE precedence.
// Each is refused under its rule and logged (the delivery may instead be
// taken for the one already logged: either way the report keeps the
// genuine time); MX's report has no read nor acknowledgement of US until
// US's people genuinely read and acknowledge it, and then the genuine
// ones.
func TestAuditHolderReceiptsOutOfBounds(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	b := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("held by US", "US")).GetBulletin()
	id, created := b.GetId(), b.GetCreateTime().AsTime()
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US").GetDeliverTime() != nil
	})
	us := nettest.NodeBackbone(t, nw, "US")
	now := time.Now().UTC()
	person := func(cc, role, name string) string { return "spiffe://iant.test/state/" + cc + "/" + role + "/" + name }
	forgeries := []struct {
		rule string
		e    audit.Event
	}{
		{"receipt.actor", audit.Event{Kind: audit.EventRead, Actor: person("MX", "analyst", "analyst"), At: now}},
		{"receipt.time", audit.Event{Kind: audit.EventAcknowledged, Actor: person("US", "focal-point", "focal"), At: now.Add(time.Hour)}},
		{"receipt.time", audit.Event{Kind: audit.EventDelivered, Actor: testenv.NodePrincipal("US").ID(nw.TD).String(), At: created.Add(-24 * time.Hour)}},
		{"receipt.header", audit.Event{Kind: audit.EventRead, Actor: person("US", "analyst", "analyst"), Precedence: bulletin.Routine, At: now}},
	}
	var rules []string
	for _, f := range forgeries {
		e := f.e
		e.BulletinID, e.Origin, e.State = id, "MX", "US"
		forge(t, nw, us, "US", e, audit.Evidence{})
		rules = append(rules, f.rule)
	}
	waitRefusals(t, auditor, "MX", id, rules...)
	r, err := auditor.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id, Origin: "MX"})
	if err != nil {
		t.Fatal(err)
	}
	if u := nettest.Recipient(r.GetReport(), "US"); u.GetReadTime() != nil || u.GetAcknowledgeTime() != nil ||
		!u.GetDeliverTime().AsTime().After(created.Add(-time.Minute)) {
		t.Errorf("US in the report after the forgeries: %v; want delivered only, at its genuine time", u)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("US")).AcknowledgeBulletin(t.Context(),
		&iantv1.AcknowledgeBulletinRequest{Id: id, Origin: "MX"}); err != nil {
		t.Fatal(err)
	}
	got := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		u := nettest.Recipient(r, "US")
		return u.GetReadTime() != nil && u.GetAcknowledgeTime() != nil
	})
	if u := nettest.Recipient(got, "US"); u.GetReadBy() != person("US", "analyst", "analyst") || u.GetAcknowledgeTime().AsTime().After(time.Now()) ||
		got.GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH {
		t.Errorf("report = %v, want US's genuine read and acknowledgement of a FLASH bulletin", got)
	}
}
