package statenode_test

import (
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestReviseNarrowsAndWidens: MX posts to US and CA, then revises it to
// US and BR. US holds revision 2 with revision 1 in its history; BR,
// newly released, holds revision 2 only; CA's copy is revoked (narrowed),
// its content gone, and CA's confirmation shows in the report.
func TestReviseNarrowsAndWidens(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CA", "BR")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Revise me NARROWMARK", "US", "CA")
	id := nettest.Post(t, fp, draft).GetBulletin().GetId()
	us, ca, br := nettest.Dial(t, nw, testenv.Analyst("US")), nettest.Dial(t, nw, testenv.Analyst("CA")), nettest.Dial(t, nw, testenv.Analyst("BR"))
	nettest.WaitStored(t, us, id)
	nettest.WaitStored(t, ca, id)

	r := nettest.Revise(t, fp, id, nettest.Redraft(draft, func(b *iantv1.Bulletin) {
		b.Title = "Revised: two states"
		b.Releasability = &iantv1.Releasability{States: []string{"US", "BR"}}
	}))
	if got := r.GetBulletin().GetBulletin().GetRevision(); got != 2 {
		t.Fatalf("revision = %d, want 2", got)
	}
	if w, a := r.GetWithdrawnFrom(), r.GetAdded(); len(w) != 1 || w[0] != "CA" || len(a) != 1 || a[0] != "BR" {
		t.Errorf("withdrawn from %v, added %v; want [CA], [BR]", w, a)
	}
	atUS := nettest.WaitRevision(t, us, id, 2)
	if atUS.GetBulletin().GetBulletin().GetTitle() != "Revised: two states" || len(atUS.GetHistory()) != 1 ||
		atUS.GetHistory()[0].GetRevision() != 1 {
		t.Errorf("US holds %q with history %v; want revision 2, revision 1 in the history", atUS.GetBulletin().GetBulletin().GetTitle(), atUS.GetHistory())
	}
	atBR := nettest.WaitRevision(t, br, id, 2)
	if len(atBR.GetHistory()) != 0 {
		t.Errorf("BR holds %d earlier revisions, want none: it was released the latest only", len(atBR.GetHistory()))
	}
	tomb := nettest.WaitRevoked(t, ca, id)
	if b := tomb.GetBulletin(); b.GetTitle() != "" || b.GetBody() != "" || !b.GetRevocation().GetNarrowed() {
		t.Errorf("CA holds %+v, want a narrowed tombstone without content", b)
	}
	nettest.WaitNoFileHolds(t, nettest.NodeDir(nw, "CA"), "NARROWMARK")

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	rep := nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		ca, br := nettest.Recipient(r, "CA"), nettest.Recipient(r, "BR")
		return r.GetRevision() == 2 && ca.GetRevokedTime() != nil && br.GetRevision() == 2
	})
	if rep.GetRevokeTime() != nil {
		t.Errorf("report says revoked at %v: a narrowing withdraws copies, not the bulletin", rep.GetRevokeTime())
	}
}
