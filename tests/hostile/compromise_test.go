package hostile_test

import (
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestStolenKeyAfterCompromisedRotation: MX releases bulletin A to CO
// and PE. Then MX's node is broken into: the intruder takes its key file
// (the Ed25519 origin signing key with it). MX's operators recover the
// node and retire that key as compromised. CO's node, compromised too,
// uses the stolen key to forge an "MX" bulletin dated before the
// retirement and forwards it to PE, signing the forward with its own
// genuine key; the intruder also publishes another forgery on MX's own
// subject. PE refuses both (receive.key_compromised), audited, and shows
// neither. A, which the compromised key signed, is withdrawn at PE and
// put back when MX signs it again with its new key (its re-attestation);
// CO's copy of A signed by the compromised key, republished on MX's
// subject, then proves nothing and is refused: A is shown once. MX's next
// bulletin, signed by its new key, flows.
func TestStolenKeyAfterCompromisedRotation(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	a := nettest.Post(t, mxFocal, green("before the break-in", "CO", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, a)
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), a)
	coCopy := inboxCopy(t, nw, "CO", "MX", a) // signed by the key to be stolen

	stolen := newAttacker(t, nw, "MX") // the key file as the intruder took it
	co := newAttacker(t, nw, "CO")
	before := time.Now().UTC().Truncate(time.Millisecond)
	if err := nw.Node("MX").RotateSignKeyWith(t.Context(), keystore.SignRotation{Compromised: true}); err != nil {
		t.Fatal(err)
	}
	if nettest.NodeKeys(t, nw, "MX").Public().SignKeyID == stolen.keys.Public().SignKeyID {
		t.Fatal("MX's signing key did not change")
	}
	// MX's first bulletin under its new key: PE reads MX's new entry
	// (the key is not in the one it cached) before any forgery arrives.
	after := nettest.Post(t, mxFocal, green("after the recovery", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, after)

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	forged := ulid.MustNew(ulid.Now(), rand.Reader).String()
	s := sealAs(t, nw, stolen.keys, bulletinOf(green("forged with the stolen key", "CO"), forged, "MX", before.Add(-time.Minute), "CO"), "CO")
	f, err := seal.Forward(s, "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
		seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
	if err != nil {
		t.Fatal(err)
	}
	checkForgery(t, nw, f, seal.ErrSigner) // MX's current key did not sign it: the stolen one did
	co.publish(t, "PE", forged, marshal(t, f))
	refusedWith(t, auditor, "CO", forged, "PE", "receive.key_compromised")

	direct := ulid.MustNew(ulid.Now(), rand.Reader).String()
	d := sealAs(t, nw, stolen.keys, bulletinOf(green("forged on MX's subject", "PE"), direct, "MX", before.Add(-time.Minute), "PE"), "PE")
	stolen.publish(t, "PE", direct, must(t, d, nil))
	refusedWith(t, auditor, "MX", direct, "PE", "receive.key_compromised")

	if coCopy.SignKeyID != stolen.keys.Public().SignKeyID {
		t.Fatal("A was not signed by the key now compromised")
	}
	eventually(t, "PE shows A, signed again by MX's new key", func() bool {
		_, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		return err == nil
	})
	stolen.publish(t, "PE", a, must(t, coCopy, nil))
	refusedWith(t, auditor, "MX", a, "PE", "receive.key_compromised")
	notShown(t, pe, "MX", forged)
	notShown(t, pe, "MX", direct)
	list, err := pe.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sb := range list.GetBulletins() {
		if sb.GetBulletin().GetId() == a {
			n++
		}
	}
	if n != 1 {
		t.Errorf("PE lists A %d times, want once", n)
	}
}

// TestKeyDroppedFromTheEntryStillVerifies: PE received a bulletin of MX
// (so it verified MX's entry and its signing key K). PE's node stops;
// MX releases bulletin B to PE, signed with K, and then rotates its
// signing key nine times (seal.MaxRetiredSignKeys + 1), so that K falls
// out of its directory entry while B waits in PE's inbox. PE starts
// again and takes B, verified against the key it kept: shown, nothing
// refused.
func TestKeyDroppedFromTheEntryStillVerifies(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "PE")
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	first := nettest.Post(t, mxFocal, green("first", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), first)
	k := nettest.NodeKeys(t, nw, "MX").Public().SignKeyID
	if err := nw.StopNode("PE"); err != nil {
		t.Fatal(err)
	}
	b := nettest.Post(t, mxFocal, green("in flight", "PE")).GetBulletin().GetId()
	rotateSign(t, nw, "MX", seal.MaxRetiredSignKeys+1)
	for _, r := range nettest.NodeKeys(t, nw, "MX").RetiredSignKeys() {
		if r.KeyID == k {
			t.Fatalf("MX's entry still lists %s after %d rotations", k, seal.MaxRetiredSignKeys+1)
		}
	}
	if err := nw.StartNode(t.Context(), "PE"); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), b)
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	if n := countRefusals(t, auditor, "MX", b, "PE"); n != 0 {
		t.Errorf("PE refused %d copies of B; want 0", n)
	}
}

// TestReceiptsOfADroppedKeyTaken: the secretariat verified MX's key K
// (MX's first bulletin). It stops; MX releases B to PE, signed with K,
// PE receives it, and MX rotates nine times, so that K falls out of its
// entry before the log has B's header. The secretariat starts again:
// MX's sent report and PE's delivery of B (whose evidence K signed) are
// taken, verified against the key the secretariat kept, not refused.
func TestReceiptsOfADroppedKeyTaken(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "PE")
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	first := nettest.Post(t, mxFocal, green("first", "PE")).GetBulletin().GetId()
	nettest.WaitReportOf(t, auditor, "MX", first, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "PE").GetDeliverTime() != nil
	})
	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	b := nettest.Post(t, mxFocal, green("while the log is down", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, b)
	rotateSign(t, nw, "MX", seal.MaxRetiredSignKeys+1)
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReportOf(t, auditor, "MX", b, func(r *iantv1.BulletinReport) bool {
		for _, l := range nettest.Leaves(t, auditor, "MX", b) {
			if l.Event.Rule != "" {
				t.Fatalf("the log refused %s's %s (%s)", l.Event.State, l.Event.Detail, l.Event.Rule)
			}
		}
		return nettest.Recipient(r, "PE").GetDeliverTime() != nil
	})
}

// rotateSign rotates cc's node's signing key n times, as its operators
// would (each entry published before the key signs).
func rotateSign(t *testing.T, nw *testenv.Network, cc string, n int) {
	t.Helper()
	for range n {
		if err := nw.Node(cc).RotateSignKey(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompromisedKeyKeepsWhatTheLogHolds: MX releases bulletin A to CO,
// and CO forwards it to PE; the log holds A's header and PE's delivery
// through CO's forward. Then MX retires the key that signed A as
// compromised: PE withdraws A, and MX signs A again with its new key
// and re-sends it to CO, which relays it along its forward to PE: PE
// shows A again. PE's analyst reads A and its focal point acknowledges
// it: the log takes their receipts (the secretariat restarts first, so
// that it reads MX's new entry, not its cache).
func TestCompromisedKeyKeepsWhatTheLogHolds(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("held by the log", "CO")).GetBulletin().GetId()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, id)
	if _, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		pe := nettest.Recipient(r, "PE")
		return pe.GetDeliverTime() != nil && pe.GetForwardTime() != nil
	})
	if err := nw.Node("MX").RotateSignKeyWith(t.Context(), keystore.SignRotation{Compromised: true}); err != nil {
		t.Fatal(err)
	}
	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = nettest.AuditClient(t, nw, testenv.Auditor())
	// PE withdrew A at the mark (it rested on the compromised key) and
	// put it back when CO relayed MX's re-attestation along its forward.
	peAnalyst := nettest.Dial(t, nw, testenv.Analyst("PE"))
	eventually(t, "PE shows A again", func() bool {
		_, err := peAnalyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
		return err == nil
	})
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("PE")).AcknowledgeBulletin(t.Context(),
		&iantv1.AcknowledgeBulletinRequest{Id: id, Origin: "MX"}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		for _, l := range nettest.Leaves(t, auditor, "MX", id) {
			if l.Event.Rule == "receive.key_compromised" && strings.HasPrefix(l.Event.Detail, "bulletin withdrawn") {
				continue // CO and PE withdrew A at the mark, audited
			}
			if l.Event.Rule != "" {
				t.Fatalf("the log refused %s's %s (%s) after MX's key was compromised", l.Event.State, l.Event.Detail, l.Event.Rule)
			}
		}
		pe := nettest.Recipient(r, "PE")
		return pe.GetReadTime() != nil && pe.GetAcknowledgeTime() != nil
	})
}

// TestAuditRefusesCompromisedKeyEvidence: MX retired its old signing key
// as compromised 30 minutes ago. A posted receipt in MX's name whose
// header the old key signed, dated before the retirement (what a thief
// of the key would forge), is refused (receipt.header): the log never
// held that header. One the new key signed is taken.
func TestAuditRefusesCompromisedKeyEvidence(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	old := nettest.NodeKeys(t, nw, "MX")
	now := time.Now().UTC().Truncate(time.Millisecond)
	current, err := old.RotateSignCompromised(now.Add(-30 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", current)
	mx := nettest.NodeBackbone(t, nw, "MX")
	post := func(keys *seal.NodeKeys, created time.Time) string {
		id := ulid.Make().String()
		s, err := seal.Seal(seal.Header{ID: id, Origin: "MX", Signer: testenv.NodePrincipal("MX").ID(nw.TD).String(),
			Precedence: int32(bulletin.Priority), CreatedAt: created}, []byte("body"), []seal.PublicKeys{nettest.NodeKeys(t, nw, "US").Public()}, keys)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Attest()
		if err != nil {
			t.Fatal(err)
		}
		att, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		forge(t, nw, mx, "MX", audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: "MX",
			Actor: "spiffe://iant.test/state/MX/focal-point/focal", Precedence: bulletin.Priority, At: created}, audit.Evidence{Header: att})
		return id
	}
	stolen := post(old, now.Add(-time.Hour))
	withCurrent := post(current, now)
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.WaitReportOf(t, auditor, "MX", withCurrent, func(r *iantv1.BulletinReport) bool { return r.GetPostTime() != nil })
	waitRefusals(t, auditor, "MX", stolen, "receipt.header")
}

// TestStolenKeyMarkedCompromisedLater: MX releases bulletins A (to CO
// and PE) and G (to PE). An intruder takes MX's key file (signing key K)
// unnoticed, and MX rotates its signing key normally (K retired at T).
// Before the break-in is found, PE takes what K signed, dated before T:
// an "MX" bulletin E forged with K and forwarded by CO (compromised too),
// and a forged revision 2 of G published on MX's subject. Then the
// break-in is found: MX's node is stopped, K is marked compromised in its
// key file (iantd rotate-sign-key -compromised-key), and the new entry
// reaches PE before MX's node runs again (published here as the node
// would at start, so that the moment between the mark and MX's
// re-attestation can be looked at). PE withdraws everything resting on
// K — A, G (its forged revision) and E: Get answers FailedPrecondition
// naming rule receive.key_compromised, List and Search leave them out.
// MX's node starts and signs its own bulletins again with its current
// key: PE reinstates A unchanged and replaces the forged revision of G
// with MX's genuine G. E stays withdrawn: CO can bring it back neither
// with the stolen key nor with its own key, and later forgeries are
// refused (receive.key_compromised), as is a republished copy of A that
// K signed — A stays shown, once.
func TestStolenKeyMarkedCompromisedLater(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	a := nettest.Post(t, mxFocal, green("before the break-in", "CO", "PE")).GetBulletin().GetId()
	g := nettest.Post(t, mxFocal, green("genuine gamma", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, a)
	nettest.WaitStored(t, pe, g)
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), a)
	coCopy := inboxCopy(t, nw, "CO", "MX", a) // A's copy for CO, signed by K

	stolen := newAttacker(t, nw, "MX") // the key file as the intruder took it
	co := newAttacker(t, nw, "CO")
	if coCopy.SignKeyID != stolen.keys.Public().SignKeyID {
		t.Fatal("A was not signed by the key the intruder took")
	}
	before := time.Now().UTC().Truncate(time.Millisecond)
	if err := nw.Node("MX").RotateSignKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	k := stolen.keys.Public().SignKeyID
	after := nettest.Post(t, mxFocal, green("after the rotation", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, after) // PE read MX's entry listing K as retired

	forgeVia := func(text string, id string, keys *seal.NodeKeys) string {
		t.Helper()
		if id == "" {
			id = ulid.MustNew(ulid.Now(), rand.Reader).String()
		}
		s := sealAs(t, nw, keys, bulletinOf(green(text, "CO"), id, "MX", before.Add(-time.Minute), "CO"), "CO")
		f, err := seal.Forward(s, "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
			seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
		if err != nil {
			t.Fatal(err)
		}
		co.publish(t, "PE", id, marshal(t, f))
		return id
	}
	early := forgeVia("forged before anyone knew", "", stolen.keys)
	gb, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: g, Origin: "MX"})
	if err != nil {
		t.Fatal(err)
	}
	rev := proto.Clone(gb.GetBulletin().GetBulletin()).(*iantv1.Bulletin)
	rev.Title, rev.Revision, rev.FirstCreateTime, rev.CreateTime = "forged gamma", 2, rev.GetCreateTime(), timestamppb.New(before)
	stolen.publish(t, "PE", g, sealMessage(t, nw, stolen.keys, "MX", message{b: rev, kind: seal.KindRevision, revision: 2}, "PE"))
	eventually(t, "PE shows the forgeries taken before the mark", func() bool {
		_, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: early, Origin: "MX"})
		r, gerr := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: g, Origin: "MX"})
		return err == nil && gerr == nil && r.GetBulletin().GetBulletin().GetTitle() == "forged gamma"
	})

	// The break-in is found: K marked compromised on the stopped node.
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "mx", "node.keys"), "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.MarkCompromised(k); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", ks.Current())

	for _, id := range []string{a, g, early} {
		eventually(t, "PE withdraws MX/"+id, func() bool {
			_, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
			return status.Code(err) == codes.FailedPrecondition && nettest.ErrorField(err) == "receive.key_compromised"
		})
	}
	for _, id := range []string{a, g, early} {
		notShown(t, pe, "MX", id)
	}
	for _, q := range []string{"break-in", "forged", "gamma"} {
		res, err := pe.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range res.GetBulletins() {
			if id := b.GetBulletin().GetId(); id == a || id == g || id == early {
				t.Errorf("Search(%q) at PE finds withdrawn MX/%s", q, id)
			}
		}
	}
	if _, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: after, Origin: "MX"}); err != nil {
		t.Errorf("PE withdrew MX/%s, signed by MX's current key: %v", after, err)
	}

	// MX's node runs again and signs its bulletins again with its key.
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	for id, title := range map[string]string{a: "before the break-in", g: "genuine gamma"} {
		eventually(t, "PE shows MX's genuine "+id+" again", func() bool {
			r, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
			b := r.GetBulletin().GetBulletin()
			return err == nil && b.GetTitle() == title && b.GetRevision() <= 1
		})
	}

	// CO cannot bring E back: not with the stolen key, not with keys it
	// made up for MX.
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	forgeVia("forged before anyone knew", early, stolen.keys)
	refusedWith(t, auditor, "CO", early, "PE", "receive.key_compromised")
	fakeMX, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	forgeVia("forged before anyone knew", early, fakeMX)
	settled(t, nw, "PE")
	if _, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: early, Origin: "MX"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("GetBulletin(MX/%s) at PE after CO's attempts = %v, want FailedPrecondition (withdrawn)", early, err)
	}

	late := forgeVia("forged after the mark", "", stolen.keys)
	refusedWith(t, auditor, "CO", late, "PE", "receive.key_compromised")
	notShown(t, pe, "MX", late)

	stolen.publish(t, "PE", a, must(t, coCopy, nil))
	refusedWith(t, auditor, "MX", a, "PE", "receive.key_compromised")
	list, err := pe.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sb := range list.GetBulletins() {
		if sb.GetBulletin().GetId() == a && sb.GetBulletin().GetTitle() == "before the break-in" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("PE lists A %d times, want once", n)
	}
}
