package hostile_test

import (
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// undecidable publishes to CO, as attacker a, a copy no node can decide
// now, and returns its id: for even n, a copy of a's own in a sealed
// format version nobody knows ("IANTSEAL" and version 9); for odd n, a
// forward, signed with a's genuine keys, of a bulletin "from GT" sealed
// with keys GT's directory never publishes (GT's node never joined).
func (a *attacker) undecidable(t *testing.T, nw *testenv.Network, fakeGT *seal.NodeKeys, n int) string {
	t.Helper()
	id := ulid.Make().String()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var data []byte
	if n%2 == 0 {
		s := sealAs(t, nw, a.keys, bulletinOf(green("junk", "CO"), id, a.state, now, "CO"), "CO")
		var err error
		if data, err = s.Marshal(); err != nil {
			t.Fatal(err)
		}
		data[8] = 9 // the version byte after "IANTSEAL"
	} else {
		s := sealAs(t, nw, fakeGT, bulletinOf(green("junk", a.state), id, "GT", now, a.state), a.state)
		f, err := seal.Forward(s, a.state, a.keys, nettest.NodeKeys(t, nw, "CO").Public(),
			seal.ForwardStatement{Signer: a.nodeID, Reason: "policy forward-focal-point", At: now}, a.keys)
		if err != nil {
			t.Fatal(err)
		}
		data = marshal(t, f)
	}
	a.publish(t, "CO", id, data)
	return id
}

// TestInboxFloodDoesNotStall: US, a compromised node with its genuine
// SVID and keys, floods CO's inbox with copies CO cannot decide — in an
// unknown format version, and forwards of bulletins signed by keys GT
// never publishes — interleaved with genuine bulletins of MX and BR.
// Each genuine copy is stored in its origin's order, none stalled behind
// the junk (before the fix, each forward held CO's inbox for EntryWait,
// and the unknown version for ever). CO parks US's junk up to its bound
// and refuses the rest (receive.park_full, audited as US's), while a
// genuine copy of HN, whose node has not published its directory entry
// yet, is still parked and is shown once the entry is published. CO
// restarts with its parked copies: it keeps them, and decides the
// forwards once EntryWait has run out (receive.signer) while the
// unknown versions stay parked.
func TestInboxFloodDoesNotStall(t *testing.T) {
	t.Parallel()
	const bound = 6
	entryWait := time.Hour // read at each start of a node
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", "MX", "BR", "US", "GT", "HN"}, Idle: []string{"GT", "HN"},
		NodeConfig: func(cc string, c *statenode.Config) {
			c.Park, c.EntryWait = statenode.ParkConfig{MaxCopies: bound}, entryWait
		}})
	us := newAttacker(t, nw, "US")
	fakeGT, err := seal.GenerateNodeKeys("GT")
	if err != nil {
		t.Fatal(err)
	}
	mx, br := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.FocalPoint("BR"))
	var junk, mxIDs, brIDs []string
	for n := range 2 * bound {
		junk = append(junk, us.undecidable(t, nw, fakeGT, n))
		mxIDs = append(mxIDs, nettest.Post(t, mx, nettest.Draft("genuine MX", "CO")).GetBulletin().GetId())
		brIDs = append(brIDs, nettest.Post(t, br, nettest.Draft("genuine BR", "CO")).GetBulletin().GetId())
	}
	hnKeys, err := seal.GenerateNodeKeys("HN")
	if err != nil {
		t.Fatal(err)
	}
	hn := copyFrom(t, nw, "HN", hnKeys, "CO")

	co := nettest.Dial(t, nw, testenv.Analyst("CO"))
	for origin, ids := range map[string][]string{"MX": mxIDs, "BR": brIDs} {
		var last uint64
		for _, id := range ids {
			got := nettest.WaitStored(t, co, id)
			if c := got.GetCursor(); c <= last {
				t.Errorf("%s's %s stored at cursor %d, after one posted later (%d)", origin, id, c, last)
			} else {
				last = c
			}
		}
	}
	if r := waitParked(t, nw, "CO", "US", bound); r["version"] != bound/2 || r["signer"] != bound/2 {
		t.Errorf("US's copies parked for %v, want %d for an unknown version and %d for a signer", r, bound/2, bound/2)
	}
	waitParked(t, nw, "CO", "HN", 1)
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, id := range junk[bound:] {
		if rule := refusedBy(t, auditor, "US", id, "CO"); rule != "receive.park_full" {
			t.Errorf("US's junk %s refused by %s, want receive.park_full", id, rule)
		}
		notShown(t, co, "US", id)
	}

	nettest.PublishEntry(t, nw, "HN", hnKeys)
	if got := nettest.WaitStored(t, co, hn); got.GetBulletin().GetOrigin() != "HN" {
		t.Errorf("HN's copy shown as %s's", got.GetBulletin().GetOrigin())
	}
	waitParked(t, nw, "CO", "HN", 0)
	for _, b := range []struct{ origin, id string }{{"MX", mxIDs[0]}, {"BR", brIDs[len(brIDs)-1]}, {"HN", hn}} {
		if n := countRefusals(t, auditor, b.origin, b.id, "CO"); n != 0 {
			t.Errorf("the log holds %d refusals by CO of %s's %s, want none", n, b.origin, b.id)
		}
	}

	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	entryWait = time.Second
	if err := nw.StartNode(t.Context(), "CO"); err != nil {
		t.Fatal(err)
	}
	for n, id := range junk[:bound] {
		if n%2 == 1 {
			if rule := refusedBy(t, auditor, "US", id, "CO"); rule != "receive.signer" {
				t.Errorf("US's forward %s refused by %s after the restart, want receive.signer", id, rule)
			}
		}
	}
	waitParked(t, nw, "CO", "US", bound/2) // the unknown versions, kept
	for _, id := range junk {
		notShown(t, co, "US", id)
	}
}

// copyFrom seals a GREEN bulletin of state from for to with keys and
// publishes it with from's node's genuine SVID; it returns the id.
func copyFrom(t *testing.T, nw *testenv.Network, from string, keys *seal.NodeKeys, to string) string {
	t.Helper()
	id := ulid.Make().String()
	b := bulletinOf(green("from a node that just joined", to), id, from, time.Now().UTC().Truncate(time.Millisecond), to)
	data, err := sealAs(t, nw, keys, b, to).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nettest.NodeBackbone(t, nw, from).PublishInbox(t.Context(), to, from, id, data); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestEntryOfAnotherStateUnderOwnNameDoesNotStall: US, a compromised
// node, replaces its own directory entry with MX's genuine one (signed by
// MX's node, so it verifies, but names MX) and sends CO a copy signed by
// a new key of its own, which no entry of US ever published (CO heard
// US's genuine entry when it was published, which vouches only for US's
// published key). CO takes the directory's answer for what it is — it
// does not vouch for that key — not for a failure to read the directory,
// which would have the copy redelivered for ever: the copy is parked,
// and MX's bulletins behind it are stored at once. (The genuine US node
// is stopped first: it would publish its own entry again.)
func TestEntryOfAnotherStateUnderOwnNameDoesNotStall(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "CO", "MX", "US")
	us := newAttacker(t, nw, "US")
	// The genuine US node would publish its own entry again.
	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	mxEntry, err := us.bb.DirectoryEntry(t.Context(), "MX")
	if err != nil {
		t.Fatal(err)
	}
	if err := us.bb.PublishDirectoryEntry(t.Context(), mxEntry); err != nil {
		t.Fatal(err)
	}
	unpublished, err := us.keys.RotateSign(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id := ulid.Make().String()
	s := sealAs(t, nw, unpublished, bulletinOf(green("signed by US", "CO"), id, "US", time.Now().UTC().Truncate(time.Millisecond), "CO"), "CO")
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	us.publish(t, "CO", id, data)
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	co := nettest.Dial(t, nw, testenv.Analyst("CO"))
	for range 3 {
		nettest.WaitStored(t, co, nettest.Post(t, mx, nettest.Draft("behind US's copy", "CO")).GetBulletin().GetId())
	}
	if r := waitParked(t, nw, "CO", "US", 1); r["signer"] != 1 {
		t.Errorf("US's copy parked for %v, want its signer (the directory's answer), not a failure to read it", r)
	}
}
