package hostile_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestForwardStatementAltered: CO received MX's GREEN bulletin and
// forwards it with a statement it signs with its genuine key, but about
// another recipient than the inbox it publishes to, or dated a year
// ahead, or dated before the bulletin was created. Each is a forward
// every other part of which holds (MX's header, CO's signature); the
// receiving node refuses each, audited as its refusal of CO's copy, and
// shows nothing of it. CO's genuine forward afterwards is shown.
func TestForwardStatementAltered(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE", "BR"}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("genuine", "CO")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), id)
	co := newAttacker(t, nw, "CO")
	forward := func(to string, at time.Time, want error) *seal.Forwarded {
		f, err := seal.Forward(inboxCopy(t, nw, "CO", "MX", id), "CO", co.keys, nettest.NodeKeys(t, nw, to).Public(),
			seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
		if err != nil {
			t.Fatal(err)
		}
		if !at.IsZero() {
			f.Statement.At = at.UTC()
			co.resign(f)
		}
		checkForgery(t, nw, f, want)
		return f
	}
	created := inboxCopy(t, nw, "CO", "MX", id).CreatedAt
	// want is what verifying the forgery's signatures gives (nil: they
	// hold, and what is wrong lies elsewhere); rule is the receiver's
	// refusal. (The first and last refusals at PE are one logged event:
	// a refusal's key is its state, copy, rule and action.)
	tests := []struct {
		name, to, inbox string
		at              time.Time
		want            error
		rule            string
	}{
		{"statement names BR, published to PE", "BR", "PE", time.Time{}, nil, "receive.open"},
		{"statement names PE, published to BR", "PE", "BR", time.Time{}, nil, "receive.open"},
		{"dated a year ahead", "PE", "PE", time.Now().Add(365 * 24 * time.Hour), nil, "receive.time"},
		{"dated before the bulletin was created", "PE", "PE", created.Add(-time.Hour), seal.ErrStatement, "receive.open"},
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := forward(tt.to, tt.at, tt.want)
			co.publish(t, tt.inbox, id, marshal(t, f))
			settled(t, nw, tt.inbox)
			notShown(t, nettest.Dial(t, nw, testenv.FocalPoint(tt.inbox)), "MX", id)
			refusedWith(t, auditor, "CO", id, tt.inbox, tt.rule)
		})
	}
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("CO")).ForwardBulletin(t.Context(),
		&iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	if got := nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), id); got.GetForwardedBy() != "CO" {
		t.Errorf("PE shows %v, want MX's bulletin forwarded by CO", got)
	}
}

// TestBulletinDatedAhead: MX's node, compromised, seals a bulletin with
// its genuine keys but dated a year ahead (its deadline and any overdue
// alarm pushed out, its recipients' receipts all before its signed
// creation) and publishes it to CO. CO refuses it, audited, and shows
// nothing of it.
func TestBulletinDatedAhead(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO")
	mx := newAttacker(t, nw, "MX")
	id := ulid.MustNew(ulid.Now(), rand.Reader).String()
	b := bulletinOf(green("from the future", "CO"), id, "MX", time.Now().Add(365*24*time.Hour).UTC().Truncate(time.Millisecond), "CO")
	c, err := sealAs(t, nw, mx.keys, b, "CO").For("CO")
	mx.publish(t, "CO", id, must(t, c, err))
	refusedWith(t, nettest.AuditClient(t, nw, testenv.Auditor()), "MX", id, "CO", "receive.time")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), "MX", id)
}

// refusedWith waits until the log holds cc's refusal, for rule, of a
// copy of (origin, id) published by origin's node.
func refusedWith(t *testing.T, a iantv1.AuditServiceClient, origin, id, cc, rule string) {
	t.Helper()
	eventually(t, cc+"'s refusal ("+rule+") of "+origin+"/"+id+" logged", func() bool {
		for _, l := range nettest.Leaves(t, a, origin, id) {
			if e := l.Event; e.Kind == audit.EventRefused && e.State == cc && e.Rule == rule {
				return true
			}
		}
		return false
	})
}

// must marshals a sealed copy, failing the test if it cannot.
func must(t *testing.T, s *seal.Sealed, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForwardAgainstTheMarking: MX releases an AMBER bulletin, and one
// with the no-onward-sharing caveat, to CO. CO's focal point cannot
// forward them (the policy refuses, audited); CO's node, compromised,
// builds each forward itself with its genuine keys, bypassing its own
// policy, and publishes it to PE. PE's node applies the policy to what it
// receives: it refuses both (receive.forward, audited) and shows
// nothing. (A forward that would be allowed with the origin's consent
// waits EntryWait for a grant before it is refused: a short wait here.)
func TestForwardAgainstTheMarking(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"},
		NodeConfig: func(_ string, c *statenode.Config) { c.EntryWait = 2 * time.Second }}))
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	amber := nettest.Draft("amber", "CO")
	caveat := green("no onward sharing", "CO")
	caveat.Caveats = []iantv1.Caveat{iantv1.Caveat_CAVEAT_NO_ONWARD_SHARING}
	co := newAttacker(t, nw, "CO")
	coFocal := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, d := range []*iantv1.Bulletin{amber, caveat} {
		t.Run(d.GetTitle(), func(t *testing.T) {
			id := nettest.Post(t, mxFocal, d).GetBulletin().GetId()
			nettest.WaitStored(t, coFocal, id)
			if _, err := coFocal.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err == nil {
				t.Fatal("CO's focal point forwarded it")
			}
			f, err := seal.Forward(inboxCopy(t, nw, "CO", "MX", id), "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
				seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
			if err != nil {
				t.Fatal(err)
			}
			checkForgery(t, nw, f, nil)
			co.publish(t, "PE", id, marshal(t, f))
			refusedWith(t, auditor, "CO", id, "PE", "receive.forward")
			notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), "MX", id)
		})
	}
}
