package hostile_test

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRepublishedCopies: MX releases bulletin A to CO and PE, and B to CO
// only. CO, compromised, republishes genuine copies of MX's under its own
// subject (the only one the backbone lets it publish on): PE's copy of A
// to PE, its own copy of A to PE, its copy of B to BR, and PE's copy of A
// to MX itself. Each is signed by MX and unaltered, but published by a
// state that is not its origin: each receiver refuses it (receive.signer,
// audited as its refusal of CO's copy). PE shows A once, released by MX;
// BR shows nothing of B; the report of A has each recipient delivered
// once and no other state; the report of B names CO alone. (PE's two
// refusals are one logged event: a refusal's key is its state, copy,
// rule and action.)
func TestRepublishedCopies(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE", "BR"}}))
	mxFocal := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	a := nettest.Post(t, mxFocal, green("for CO and PE", "CO", "PE")).GetBulletin().GetId()
	b := nettest.Post(t, mxFocal, green("for CO only", "CO")).GetBulletin().GetId()
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	nettest.WaitStored(t, pe, a)
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), b)
	co := newAttacker(t, nw, "CO")
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	tests := []struct {
		name, to, id string
		copy         *seal.Sealed
	}{
		{"PE's copy of A to PE", "PE", a, inboxCopy(t, nw, "PE", "MX", a)},
		{"CO's copy of A to PE", "PE", a, inboxCopy(t, nw, "CO", "MX", a)},
		{"CO's copy of B to BR", "BR", b, inboxCopy(t, nw, "CO", "MX", b)},
		{"PE's copy of A to MX", "MX", a, inboxCopy(t, nw, "PE", "MX", a)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.copy.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			co.publish(t, tt.to, tt.id, data)
			refusedWith(t, auditor, "CO", tt.id, tt.to, "receive.signer")
		})
	}
	settled(t, nw, "BR")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("BR")), "MX", b)
	list, err := pe.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sb := range list.GetBulletins() {
		if sb.GetBulletin().GetId() == a {
			n++
			if sb.GetBulletin().GetOrigin() != "MX" || sb.GetForwardedBy() != "" {
				t.Errorf("PE lists %s from %s forwarded by %q, want MX's own", a, sb.GetBulletin().GetOrigin(), sb.GetForwardedBy())
			}
		}
	}
	if n != 1 {
		t.Errorf("PE lists %s %d times, want once", a, n)
	}
	checkDeliveries(t, auditor, "MX", a, map[string]int{"CO": 1, "PE": 1})
	checkDeliveries(t, auditor, "MX", b, map[string]int{"CO": 1})
}

// TestOriginRewritesItsBulletin: MX's node, compromised, seals other
// content — ROUTINE, another title — under the id of a bulletin CO already
// holds, with its genuine keys, and publishes it to CO (a correction
// passed off as the original). CO refuses it (receive.replay, audited)
// and still shows what MX first sent.
func TestOriginRewritesItsBulletin(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO")
	first := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("first", "CO")).GetBulletin()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, first.GetId())
	mx := newAttacker(t, nw, "MX")
	d := green("rewritten", "CO")
	d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	c, err := sealAs(t, nw, mx.keys, bulletinOf(d, first.GetId(), "MX", first.GetCreateTime().AsTime(), "CO"), "CO").For("CO")
	mx.publish(t, "CO", first.GetId(), must(t, c, err))
	refusedWith(t, nettest.AuditClient(t, nw, testenv.Auditor()), "MX", first.GetId(), "CO", "receive.replay")
	got, err := co.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: first.GetId(), Origin: "MX"})
	if err != nil || got.GetBulletin().GetBulletin().GetTitle() != "first" ||
		got.GetBulletin().GetBulletin().GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH {
		t.Errorf("CO shows %v, %v; want MX's first FLASH bulletin", got, err)
	}
}

// checkDeliveries waits until the log holds the delivered events of
// (origin, id) in want (state: count), and fails the test if it holds
// another state's or more.
func checkDeliveries(t *testing.T, a iantv1.AuditServiceClient, origin, id string, want map[string]int) {
	t.Helper()
	var got map[string]int
	eventually(t, "deliveries of "+origin+"/"+id+" logged", func() bool {
		got = map[string]int{}
		for _, l := range nettest.Leaves(t, a, origin, id) {
			if l.Event.Kind == audit.EventDelivered {
				got[l.Event.State]++
			}
		}
		return len(got) >= len(want)
	})
	for s, n := range want {
		if got[s] != n {
			t.Errorf("%s/%s delivered to %s %d times in the log, want %d", origin, id, s, got[s], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s/%s delivered to %v in the log, want %v", origin, id, got, want)
	}
}

// TestReplayedForward: CO forwards MX's GREEN bulletin to PE; then CO's
// node publishes the very bytes of that forward to PE again and again,
// on a plain NATS connection without the Nats-Msg-Id that would have the
// backbone drop them as duplicates. PE keeps one copy: it shows the
// bulletin once, forwarded by CO; the log has PE's one delivery and CO's
// one forward, and no refusal (a replay of what PE holds is no attack on
// it).
func TestReplayedForward(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("forwarded once", "CO")).GetBulletin().GetId()
	coFocal := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, coFocal, id)
	if _, err := coFocal.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	nettest.WaitStored(t, pe, id)

	ca := identitytest.LoadCA(t, nw.TD, nw.PKI.BundleFile, filepath.Join(nw.PKI.Dir, "ca", "ca.key"))
	fwd := backbonetest.ReadInboxCopy(t, nw.Backbone.ClientURL(), ca.SVIDForID(t, backbonetest.InspectorID(nw.TD)), ca.Bundle(), "PE", "CO", id)
	nc, err := backbonetest.DialNATS(t, ca, nw.Backbone, nettest.NodeSVID(t, nw, "CO"), "CO")
	if err != nil {
		t.Fatal(err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for range 3 {
		ack, err := js.PublishMsg(&nats.Msg{Subject: backbone.InboxSubject("PE", "CO", id), Data: fwd})
		if err != nil {
			t.Fatal(err)
		}
		if ack.Duplicate {
			t.Fatal("the backbone took a publish without Nats-Msg-Id for a duplicate")
		}
		seqs = append(seqs, ack.Sequence)
	}
	t.Logf("replays stored at %v", seqs)
	settled(t, nw, "PE")
	list, err := pe.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sb := range list.GetBulletins() {
		if sb.GetBulletin().GetId() == id {
			n++
			if sb.GetForwardedBy() != "CO" || sb.GetBulletin().GetOrigin() != "MX" {
				t.Errorf("PE lists %v, want MX's bulletin forwarded by CO", sb)
			}
		}
	}
	if n != 1 {
		t.Errorf("PE lists %s %d times, want once", id, n)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	checkDeliveries(t, auditor, "MX", id, map[string]int{"CO": 1, "PE": 1})
	fw := 0
	for _, l := range nettest.Leaves(t, auditor, "MX", id) {
		if l.Event.Kind == audit.EventForwarded {
			fw++
		}
	}
	if fw != 1 {
		t.Errorf("%d forwarded events of %s, want 1", fw, id)
	}
	if r := countRefusals(t, auditor, "CO", id, "PE"); r != 0 {
		t.Errorf("PE refused CO's replays %d times, want none", r)
	}
}

// TestCopyUnderAnotherID: CO posts a bulletin to PE, then publishes PE's
// genuine copy of it again under another bulletin id in the subject (an
// id that MX's next bulletin could carry, or a fresh one). PE refuses it
// (receive.subject, audited under that id) and holds the bulletin once,
// under its own id.
func TestCopyUnderAnotherID(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"CO", "PE"}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), green("CO's own", "PE")).GetBulletin().GetId()
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	nettest.WaitStored(t, pe, id)
	data, err := inboxCopy(t, nw, "PE", "CO", id).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	other := ulid.Make().String()
	newAttacker(t, nw, "CO").publish(t, "PE", other, data)
	refusedWith(t, nettest.AuditClient(t, nw, testenv.Auditor()), "CO", other, "PE", "receive.subject")
	notShown(t, pe, "CO", other)
	if got, err := pe.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "CO"}); err != nil || got.GetBulletin().GetBulletin().GetId() != id {
		t.Errorf("PE's copy of %s = %v, %v", id, got, err)
	}
}
