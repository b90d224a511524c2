package hostile_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// markReach bounds how long after MX's mark PE may still take a
// forgery: well below the 30 s a cached directory entry lasts, so that
// only the entry pushed to PE meets it.
const markReach = 10 * time.Second

// forger forges "MX" bulletins with MX's stolen key, dated before
// notAfter, and has CO's compromised node forward them to PE, signing
// the forward with CO's own genuine key.
type forger struct {
	nw        *testenv.Network
	stolen    *attacker
	co        *attacker
	datedFrom time.Time
}

func (f *forger) forge(t *testing.T, text string) string {
	t.Helper()
	id := ulid.MustNew(ulid.Now(), rand.Reader).String()
	s := sealAs(t, f.nw, f.stolen.keys, bulletinOf(green(text, "CO"), id, "MX", f.datedFrom, "CO"), "CO")
	fw, err := seal.Forward(s, "CO", f.co.keys, nettest.NodeKeys(t, f.nw, "PE").Public(),
		seal.ForwardStatement{Signer: f.co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, f.co.keys)
	if err != nil {
		t.Fatal(err)
	}
	f.co.publish(t, "PE", id, marshal(t, fw))
	return id
}

// decided waits until PE either shows forgery id or has refused it
// (its refusal in the log), and reports whether it refused it.
func decided(t *testing.T, nw *testenv.Network, pe iantv1.BulletinServiceClient, auditor iantv1.AuditServiceClient, id string) bool {
	t.Helper()
	refused := false
	eventually(t, "PE's decision on forgery "+id, func() bool {
		if _, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"}); err == nil {
			return true
		}
		for _, l := range nettest.Leaves(t, auditor, "CO", id) {
			if e := l.Event; e.Kind == audit.EventRefused && e.State == "PE" && strings.HasPrefix(e.Rule, "receive.") {
				if e.Rule != "receive.key_compromised" {
					t.Fatalf("PE refused forgery %s with %s, want receive.key_compromised", id, e.Rule)
				}
				refused = true
				return true
			}
		}
		return false
	})
	return refused
}

// refusedPromptly forges until PE refuses a forgery, and fails the test
// if PE still takes one markReach after the mark (markedAt): the mark
// must reach PE without waiting for its cached entry to expire.
func (f *forger) refusedPromptly(t *testing.T, pe iantv1.BulletinServiceClient, auditor iantv1.AuditServiceClient, markedAt time.Time) {
	t.Helper()
	for i := 0; ; i++ {
		id := f.forge(t, "forged after the mark")
		if decided(t, f.nw, pe, auditor, id) {
			return
		}
		if time.Since(markedAt) > markReach {
			t.Fatalf("PE still takes forgeries of MX's compromised key %s after the mark (%d taken)", markReach, i+1)
		}
	}
}

// TestCompromiseMarkReachesNodesAtOnce: MX rotates its signing key K
// normally; PE verified MX's entry listing K as retired (its cache is
// fresh). The break-in is found and MX marks K compromised on its
// running node. PE, not restarted, refuses CO's forgery with K dated
// before the retirement within seconds (receive.key_compromised,
// audited): MX's new entry was pushed to it, it did not wait for its
// cached one (30 s) to expire.
func TestCompromiseMarkReachesNodesAtOnce(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	f := &forger{nw: nw, stolen: newAttacker(t, nw, "MX"), co: newAttacker(t, nw, "CO"),
		datedFrom: time.Now().UTC().Add(-time.Minute)}
	if err := nw.Node("MX").RotateSignKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := nettest.Post(t, mxFocal, green("after the rotation", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, after) // PE's cache of MX's entry is fresh
	if decided(t, nw, pe, auditor, f.forge(t, "forged before anyone knew")) {
		t.Fatal("PE refused a forgery dated before a normal retirement: nothing said the key was stolen")
	}
	if err := nw.Node("MX").MarkSignKeyCompromised(t.Context(), f.stolen.keys.Public().SignKeyID); err != nil {
		t.Fatal(err)
	}
	f.refusedPromptly(t, pe, auditor, time.Now())
}

// TestCompromiseOfAKeyDroppedFromTheEntry: PE received MX's bulletin A,
// signed by key K, and kept K. MX rotates seal.MaxRetiredSignKeys + 1
// times, so that K drops out of its entry; PE still verifies what K
// signed before its retirement, so CO's forgery with K is taken (the
// hole). The break-in is found: MX marks K compromised (any key its key
// file ever retired); its entry (version 4) names K beyond its retired
// ones, and PE refuses the next forgery promptly (receive.key_compromised).
// PE withdraws the forgery and A, and puts A back when MX signs it again
// with its current key (its re-attestation). PE then loses its database
// and rebuilds from its inbox: it knows K only as named compromised, so
// it restores nothing K signed (fail closed), while MX's bulletins signed
// by its current key are restored — A's copy signed again among them.
func TestCompromiseOfAKeyDroppedFromTheEntry(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	a := nettest.Post(t, mxFocal, green("signed by K", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, a)
	f := &forger{nw: nw, stolen: newAttacker(t, nw, "MX"), co: newAttacker(t, nw, "CO"),
		datedFrom: time.Now().UTC().Add(-time.Minute)}
	k := f.stolen.keys.Public().SignKeyID
	rotateSign(t, nw, "MX", seal.MaxRetiredSignKeys+1)
	after := nettest.Post(t, mxFocal, green("signed by the current key", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, pe, after)
	early := f.forge(t, "forged with a key long retired")
	if decided(t, nw, pe, auditor, early) {
		t.Fatal("PE refused a forgery of a key dropped from the entry before any mark")
	}

	if err := nw.Node("MX").MarkSignKeyCompromised(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if got := nettest.NodeKeys(t, nw, "MX").CompromisedSignKeys(); len(got) != 1 || got[0] != k {
		t.Fatalf("MX's keys name %v compromised, want [%s]", got, k)
	}
	f.refusedPromptly(t, pe, auditor, time.Now())
	eventually(t, "PE shows A, signed again by MX's current key", func() bool {
		_, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		return err == nil
	})
	notShown(t, pe, "MX", early)

	loseDatabase(t, nw, "PE")
	pe = nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	nettest.WaitStored(t, pe, after)
	nettest.WaitStored(t, pe, a) // MX's copy signed again
	settled(t, nw, "PE")
	notShown(t, pe, "MX", early)
}

// loseDatabase stops cc's node, removes its database (not its keys) and
// starts it again: it rebuilds from its inbox.
func loseDatabase(t *testing.T, nw *testenv.Network, cc string) {
	t.Helper()
	if err := nw.StopNode(cc); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(networkDir(nw), "data", strings.ToLower(cc))
	files, err := filepath.Glob(filepath.Join(dir, "node.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no node.db in %s (%v)", dir, err)
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.StartNode(t.Context(), cc); err != nil {
		t.Fatal(err)
	}
}
