package hostile_test

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRetiredKeyCopyDoesNotPutBackAWithdrawnRow: MX releases X to CO
// under its key K1; CO forwards it to PE. MX rotates normally (K1
// retired, not compromised), revises X under K2, CO forwards revision 2,
// then MX declares K2 compromised. PE withdraws X's revision 2. Before
// MX signs it again, CO — a compromised node with its genuine keys —
// forwards to PE its genuine copy of X's revision 1,
// signed by K1: the copy verifies (K1 is retired, not compromised, and
// the revision is dated before its retirement), but MX never vouched for
// it after the mark. PE must not put the withdrawn row back with the
// outdated content (a rollback of MX's revision chosen by CO); X stays
// withdrawn until MX's re-attestation brings revision 2 back.
func TestRetiredKeyCopyDoesNotPutBackAWithdrawnRow(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	coFocal := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	draft := green("first take", "CO")
	x := nettest.Post(t, mxFocal, draft).GetBulletin().GetId()
	nettest.WaitStored(t, coFocal, x)
	if _, err := coFocal.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: x, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, pe, x)
	coCopy := inboxCopy(t, nw, "CO", "MX", x) // revision 1 for CO, signed by K1
	co := newAttacker(t, nw, "CO")

	if err := nw.Node("MX").RotateSignKey(t.Context()); err != nil { // K1 retired, not compromised
		t.Fatal(err)
	}
	if _, err := mxFocal.ReviseBulletin(t.Context(), &iantv1.ReviseBulletinRequest{Id: x,
		Bulletin: nettest.Redraft(draft, func(b *iantv1.Bulletin) { b.Title = "second take" })}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "CO holds X's revision 2", func() bool {
		r, err := coFocal.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: x, Origin: "MX"})
		return err == nil && r.GetBulletin().GetBulletin().GetRevision() == 2
	})
	if _, err := coFocal.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: x, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "PE holds X's revision 2", func() bool {
		r, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: x, Origin: "MX"})
		return err == nil && r.GetBulletin().GetBulletin().GetRevision() == 2
	})

	// K2 is declared compromised on the stopped node: MX does not sign X
	// again before it starts.
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "mx", "node.keys"), "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.RotateSignWith(time.Now(), keystore.SignRotation{Compromised: true}); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", ks.Current())
	eventually(t, "PE withdraws X", func() bool {
		_, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: x, Origin: "MX"})
		return status.Code(err) == codes.FailedPrecondition
	})

	// CO forwards its genuine, outdated copy of revision 1.
	f, err := seal.Forward(coCopy, "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
		seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
	if err != nil {
		t.Fatal(err)
	}
	co.publish(t, "PE", x, marshal(t, f))
	// PE's inbox is handled in order: once CO's next bulletin is stored,
	// the forward was settled.
	marker := nettest.Post(t, coFocal, green("marker from CO", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, marker)
	r, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: x, Origin: "MX"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("GetBulletin(MX/%s) at PE after CO relayed revision 1 signed by a retired key = %q revision %d, %v; want FailedPrecondition (still withdrawn)",
			x, r.GetBulletin().GetBulletin().GetTitle(), r.GetBulletin().GetBulletin().GetRevision(), err)
	}

	// MX's re-attestation, under its current key, relayed by CO along its
	// forward, brings revision 2 back.
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "PE shows X's revision 2 again", func() bool {
		r, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: x, Origin: "MX"})
		b := r.GetBulletin().GetBulletin()
		return err == nil && b.GetTitle() == "second take" && b.GetRevision() == 2
	})
}
