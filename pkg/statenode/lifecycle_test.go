package statenode_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// TestRevokeRemovesEverywhere: MX revokes a bulletin it released to US,
// CA and JM (JM's node down at the time), which US forwarded to PE.
// Every open subscription gets the revocation event; no file of any
// holder's node (database, write-ahead log, index) holds the marker of
// its title, body or indicator; each holder confirms with a signed
// receipt, which the secretariat shows, JM's once it is back; and CA,
// whose database is lost, rebuilds from its inbox without the content.
func TestRevokeRemovesEverywhere(t *testing.T) {
	t.Parallel()
	const marker = "QZREVOKEMARK"
	nw := nettest.StartStates(t, "MX", "US", "CA", "JM", "PE")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Title "+marker+"T", "US", "CA", "JM")
	draft.Marking, draft.Body = iantv1.Marking_MARKING_GREEN, "Body "+marker+"B"
	draft.Indicators[0].Value = marker + "I"
	subs := map[string]*nettest.Subscription{}
	for _, cc := range []string{"US", "CA"} {
		subs[cc] = nettest.Subscribe(t, t.Context(), nettest.Dial(t, nw, testenv.Analyst(cc)), &iantv1.SubscribeRequest{FromStart: true})
	}
	id := nettest.Post(t, fp, draft).GetBulletin().GetId()
	for cc, s := range subs {
		if got := s.Next(t); got.GetBulletin().GetId() != id || got.GetKind() != iantv1.MessageKind_MESSAGE_KIND_BULLETIN {
			t.Fatalf("%s's subscription got %v, want the bulletin", cc, got)
		}
	}
	for _, cc := range []string{"US", "CA", "JM"} {
		nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst(cc)), id)
	}
	usFP := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	if _, err := usFP.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("PE")), id)
	if files := nettest.FilesHolding(t, nettest.NodeDir(nw, "US"), marker); len(files) == 0 {
		t.Fatal("no file of US's node holds the marker before the revocation: the test would prove nothing")
	}
	if err := nw.StopNode("JM"); err != nil {
		t.Fatal(err)
	}

	r := nettest.Revoke(t, fp, id, "source retracted the report")
	if told := r.GetRecipients(); len(told) != 3 {
		t.Errorf("revocation told %v, want US, CA and JM", told)
	}
	for cc, s := range subs {
		got := s.Next(t)
		if got.GetBulletin().GetId() != id || got.GetKind() != iantv1.MessageKind_MESSAGE_KIND_REVOCATION ||
			got.GetBulletin().GetTitle() != "" || got.GetState() != iantv1.BulletinState_BULLETIN_STATE_REVOKED {
			t.Errorf("%s's subscription got %v, want the revocation without content", cc, got)
		}
	}
	for _, cc := range []string{"US", "CA", "PE", "MX"} {
		tomb := nettest.WaitRevoked(t, nettest.Dial(t, nw, testenv.FocalPoint(cc)), id)
		if rv := tomb.GetBulletin().GetRevocation(); rv.GetReason() != "source retracted the report" || rv.GetRevokeTime() == nil {
			t.Errorf("%s's tombstone = %v", cc, rv)
		}
		nettest.WaitNoFileHolds(t, nettest.NodeDir(nw, cc), marker)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	confirmed := func(states ...string) func(*iantv1.BulletinReport) bool {
		return func(r *iantv1.BulletinReport) bool {
			for _, s := range states {
				if nettest.Recipient(r, s).GetRevokedTime() == nil {
					return false
				}
			}
			return r.GetRevokeTime() != nil
		}
	}
	rep := nettest.WaitReport(t, auditor, id, confirmed("US", "CA", "PE"))
	if jm := nettest.Recipient(rep, "JM"); jm.GetRevocationTime() == nil || jm.GetRevokedTime() != nil {
		t.Errorf("JM = %v, want its confirmation pending", jm)
	}

	if err := nw.StartNode(t.Context(), "JM"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitRevoked(t, nettest.Dial(t, nw, testenv.FocalPoint("JM")), id)
	nettest.WaitNoFileHolds(t, nettest.NodeDir(nw, "JM"), marker)
	nettest.WaitReport(t, auditor, id, confirmed("US", "CA", "PE", "JM"))

	// CA loses its database: the rebuild replays the bulletin and then its
	// revocation, in order, and never shows the content again.
	if err := nw.StopNode("CA"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"node.db", "node.db-wal", "node.db-shm"} {
		if err := os.Remove(filepath.Join(nettest.NodeDir(nw, "CA"), f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := nw.StartNode(t.Context(), "CA"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitRevoked(t, nettest.Dial(t, nw, testenv.FocalPoint("CA")), id)
	waitRebuilt(t, nettest.NodeDir(nw, "CA"))
	if files := nettest.FilesHolding(t, nettest.NodeDir(nw, "CA"), marker); len(files) != 0 {
		t.Errorf("after the rebuild, %v hold the revoked content", files)
	}
}

// waitRebuilt waits until the node of data directory dir finished its
// rebuild (its marker file is gone).
func waitRebuilt(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for {
		_, err := os.Stat(filepath.Join(dir, "rebuild.pending"))
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuild of %s not finished within %s: %v", dir, nettest.Eventually, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
