package hostile_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// green is a GREEN draft to states: the policy lets a recipient share it
// onward.
func green(title string, states ...string) *iantv1.Bulletin {
	d := nettest.Draft(title, states...)
	d.Marking = iantv1.Marking_MARKING_GREEN
	return d
}

// settled posts a marker from MX to cc and waits until cc's node stored
// it: cc's inbox is handled in order, so every copy published to it
// before has been settled (stored or rejected).
func settled(t *testing.T, nw *testenv.Network, cc string) {
	t.Helper()
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("marker", cc)).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint(cc)), id)
}

// refusedBy waits until the log holds cc's refusal of a copy of (origin,
// id) published by origin's node, and returns its rule.
func refusedBy(t *testing.T, a iantv1.AuditServiceClient, origin, id, cc string) string {
	t.Helper()
	rule := ""
	eventually(t, cc+"'s refusal of "+origin+"/"+id+" logged", func() bool {
		for _, l := range nettest.Leaves(t, a, origin, id) {
			if e := l.Event; e.Kind == audit.EventRefused && e.State == cc && strings.HasPrefix(e.Rule, "receive.") {
				rule = e.Rule
				return true
			}
		}
		return false
	})
	return rule
}

// TestForwardEndToEnd: MX releases a GREEN bulletin to CO; CO's focal
// point forwards it to PE under the policy. PE shows MX's bulletin,
// forwarded by CO; its analyst reads and its focal point acknowledges it;
// the secretariat's report of MX's bulletin shows PE reached through CO's
// forward at the time CO reported (its own "forwarded" event, carrying
// its signed statement), delivered, read and acknowledged.
func TestForwardEndToEnd(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("shared onward", "CO")).GetBulletin().GetId()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, id)
	resp, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"})
	if err != nil || resp.GetTargetState() != "PE" || resp.GetBulletin().GetBulletin().GetTitle() != "shared onward" {
		t.Fatalf("ForwardBulletin = %v, %v", resp, err)
	}
	peAnalyst, peFocal := nettest.Dial(t, nw, testenv.Analyst("PE")), nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	got := nettest.WaitStored(t, peAnalyst, id)
	if b := got.GetBulletin(); b.GetOrigin() != "MX" || got.GetForwardedBy() != "CO" || b.GetTitle() != "shared onward" ||
		strings.Join(b.GetRecipients(), ",") != "CO" {
		t.Errorf("PE shows %s from %s forwarded by %q, titled %q, recipients %v; want MX's, forwarded by CO",
			b.GetId(), b.GetOrigin(), got.GetForwardedBy(), b.GetTitle(), b.GetRecipients())
	}
	if _, err := peFocal.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id, Origin: "MX"}); err != nil {
		t.Fatal(err)
	}
	// PE cannot forward further: it was not released the bulletin.
	_, err = peFocal.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "MX"})
	if status.Code(err) == codes.OK {
		t.Error("PE forwarded a bulletin it received through a forward")
	}
	// CO's own copy still shows as released by MX.
	if c, err := co.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id}); err != nil || c.GetBulletin().GetForwardedBy() != "" {
		t.Errorf("CO's copy = forwarded by %q, %v; want released by MX", c.GetBulletin().GetForwardedBy(), err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	r := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		pe := nettest.Recipient(r, "PE")
		return pe != nil && pe.GetDeliverTime() != nil && pe.GetReadTime() != nil && pe.GetAcknowledgeTime() != nil &&
			pe.GetForwardTime() != nil
	})
	if pe, co := nettest.Recipient(r, "PE"), nettest.Recipient(r, "CO"); pe.GetForwardedBy() != "CO" || co.GetForwardedBy() != "" ||
		co.GetForwardTime() != nil {
		t.Errorf("report: PE forwarded by %q, CO by %q; want CO, and CO released by the origin", pe.GetForwardedBy(), co.GetForwardedBy())
	}
	var fwd []audit.Event
	for _, l := range nettest.Leaves(t, auditor, "MX", id) {
		if l.Event.Kind == audit.EventForwarded {
			fwd = append(fwd, l.Event)
		}
	}
	pe := nettest.Recipient(r, "PE")
	if len(fwd) != 1 || fwd[0].State != "PE" || fwd[0].Actor != testenv.NodePrincipal("CO").ID(nw.TD).String() ||
		!fwd[0].At.Equal(pe.GetForwardTime().AsTime()) || pe.GetDeliverTime().AsTime().Before(fwd[0].At) {
		t.Errorf("forwarded events %+v, report's forward time %v; want CO's one forward to PE, at the report's time, before PE's delivery",
			fwd, pe.GetForwardTime().AsTime())
	}
}

// TestForwardForgedOrigin: CO invents a bulletin "from MX" (sealed with
// keys CO made up, naming either them or MX's genuine signing key) and
// forwards it to PE, signing the statement with its own genuine key. PE
// refuses both, the log holds PE's refusals, and PE shows nothing of it.
func TestForwardForgedOrigin(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	co := newAttacker(t, nw, "CO")
	fakeMX, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	for _, naming := range []string{"its own made-up key", "MX's genuine key"} {
		id := ulid.MustNew(ulid.Now(), rand.Reader).String()
		b := bulletinOf(green("invented by CO", "CO"), id, "MX", time.Now().UTC().Truncate(time.Millisecond), "CO")
		s := sealAs(t, nw, fakeMX, b, "CO")
		if naming == "MX's genuine key" {
			s.SignKeyID = nettest.NodeKeys(t, nw, "MX").Public().SignKeyID
		}
		f, err := seal.Forward(s, "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
			seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
		if err != nil {
			t.Fatal(err)
		}
		want := seal.ErrSigner
		if naming == "MX's genuine key" {
			want = seal.ErrSignature
		}
		checkForgery(t, nw, f, want)
		co.publish(t, "PE", id, marshal(t, f))
		rule := refusedBy(t, auditor, "CO", id, "PE")
		t.Logf("naming %s: refused by %s", naming, rule)
		settled(t, nw, "PE")
		notShown(t, pe, "MX", id)
	}
}

// TestForwardAltered: CO received MX's bulletin and forwards it to PE, but
// alters what it forwards — the origin's header, the ciphertext (with its
// hash), or the content key (a key of its own, wrapped for PE under MX's
// genuine header, the statement re-signed). PE refuses each, audited, and
// shows nothing; CO's genuine forward afterwards is shown as MX's.
func TestForwardAltered(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("genuine", "CO")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), id)
	co := newAttacker(t, nw, "CO")
	pePub := nettest.NodeKeys(t, nw, "PE").Public()
	forward := func(alter func(c *seal.Sealed)) *seal.Forwarded {
		c := inboxCopy(t, nw, "CO", "MX", id)
		alter(c)
		f, err := seal.Forward(c, "CO", co.keys, pePub, seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	other := make([]byte, 32)
	rand.Read(other)
	forgeries := map[string]*seal.Forwarded{
		"header":     forward(func(c *seal.Sealed) { c.Precedence = int32(iantv1.Precedence_PRECEDENCE_ROUTINE) }),
		"ciphertext": forward(func(c *seal.Sealed) { c.Ciphertext[0] ^= 1; c.CiphertextHash = sha256Of(c.Ciphertext) }),
		"key": func() *seal.Forwarded {
			f := forward(func(*seal.Sealed) {})
			f.Key = wrapForward(t, f, pePub, other)
			co.resign(f)
			checkForgery(t, nw, f, nil) // MX's header and CO's statement hold: only the key is not MX's
			return f
		}(),
	}
	checkForgery(t, nw, forgeries["header"], seal.ErrSignature)
	checkForgery(t, nw, forgeries["ciphertext"], seal.ErrSignature)
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	for name, f := range forgeries {
		co.publish(t, "PE", id, marshal(t, f))
		settled(t, nw, "PE")
		notShown(t, pe, "MX", id)
		t.Logf("altered %s: refused", name)
	}
	eventually(t, "PE's refusal of CO's altered forwards logged", func() bool { return countRefusals(t, auditor, "CO", id, "PE") > 0 })
	// The genuine forward is not suppressed by the forgeries before it.
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("CO")).ForwardBulletin(t.Context(),
		&iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	got := nettest.WaitStored(t, pe, id)
	if got.GetBulletin().GetTitle() != "genuine" || got.GetBulletin().GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH || got.GetForwardedBy() != "CO" {
		t.Errorf("PE shows %v, want MX's genuine FLASH bulletin forwarded by CO", got)
	}
}

// TestForwardNeverReceived: MX released a bulletin to BR only. CO, which
// never received it, asks its node to forward it (not found), then
// forwards the sealed copy it obtained (from the backbone, as its
// operator could) itself, signing as forwarder. PE refuses it.
func TestForwardNeverReceived(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "BR", "CO", "PE"}}))
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("for BR only", "BR")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("BR")), id)
	_, err := nettest.Dial(t, nw, testenv.FocalPoint("CO")).ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("CO's forward of a bulletin it never received = %v, want NotFound", err)
	}
	co := newAttacker(t, nw, "CO")
	pePub := nettest.NodeKeys(t, nw, "PE").Public()
	c := inboxCopy(t, nw, "BR", "MX", id)
	f, err := seal.Forward(c, "BR", nettest.NodeKeys(t, nw, "BR"), pePub,
		seal.ForwardStatement{Signer: testenv.NodePrincipal("BR").ID(nw.TD).String(), Reason: "leaked", At: time.Now()},
		nettest.NodeKeys(t, nw, "BR"))
	if err != nil {
		t.Fatal(err)
	}
	f.Statement.KEMKeyID = pePub.KEMKeyID
	co.resign(f) // CO, not BR, signs as the forwarder
	checkForgery(t, nw, f, seal.ErrNotHeld)
	co.publish(t, "PE", id, marshal(t, f))
	refusedBy(t, nettest.AuditClient(t, nw, testenv.Auditor()), "CO", id, "PE")
	settled(t, nw, "PE")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), "MX", id)
}

// TestForwardOwnBulletin: MX's focal point asks MX's node to forward
// MX's own bulletin: refused (it must post again), audited. MX's node,
// compromised, builds the forward itself: PE refuses it.
func TestForwardOwnBulletin(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "CO", "PE"}}))
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	id := nettest.Post(t, fp, green("MX's own", "CO")).GetBulletin().GetId()
	_, err := fp.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "post it again") {
		t.Errorf("MX forwarding its own bulletin = %v, want PermissionDenied telling to post again", err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	waitRefusals(t, auditor, "MX", id, "forward.own_bulletin")

	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), id)
	mx := newAttacker(t, nw, "MX")
	// MX starts from CO's genuine forward and signs it as the forwarder.
	f, err := seal.Forward(inboxCopy(t, nw, "CO", "MX", id), "CO", nettest.NodeKeys(t, nw, "CO"), nettest.NodeKeys(t, nw, "PE").Public(),
		seal.ForwardStatement{Signer: testenv.NodePrincipal("CO").ID(nw.TD).String(), Reason: "policy", At: time.Now()}, nettest.NodeKeys(t, nw, "CO"))
	if err != nil {
		t.Fatal(err)
	}
	mx.resign(f)
	checkForgery(t, nw, f, seal.ErrOwnForward)
	mx.publish(t, "PE", id, marshal(t, f))
	refusedBy(t, auditor, "MX", id, "PE")
	settled(t, nw, "PE")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), "MX", id)
}

// TestAckAndForwardOfUnreadable: MX releases to CO a bulletin whose
// conditions say that only law enforcement may read it; CO's focal point
// is not. Its read, its acknowledgement and its forward of the bulletin
// are each refused (PermissionDenied), audited, nothing returned; nothing
// is acknowledged or forwarded. The log keeps all three refusals of the
// one person about the one bulletin: a refusal's key names its rule and
// action.
func TestAckAndForwardOfUnreadable(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	d := green("law enforcement only", "CO")
	d.Conditions = `@id("le-only")
forbid (principal is Person, action == Action::"read", resource) unless { principal.law_enforcement };`
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	id := nettest.Post(t, mx, d).GetBulletin().GetId()
	settled(t, nw, "CO")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	got, err := fp.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id})
	if status.Code(err) != codes.PermissionDenied || got != nil {
		t.Errorf("GetBulletin = %v, %v; want PermissionDenied and nothing", got, err)
	}
	ack, err := fp.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id})
	if status.Code(err) != codes.PermissionDenied || ack != nil {
		t.Errorf("AcknowledgeBulletin = %v, %v; want PermissionDenied and nothing", ack, err)
	}
	fwd, err := fp.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"})
	if status.Code(err) != codes.PermissionDenied || fwd != nil {
		t.Errorf("ForwardBulletin = %v, %v; want PermissionDenied and nothing", fwd, err)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, action := range []string{"read", "acknowledge", "forward"} {
		eventually(t, "the refusal of the "+action+" logged", func() bool {
			for _, l := range nettest.Leaves(t, auditor, "MX", id) {
				if e := l.Event; e.Kind == audit.EventRefused && e.State == "CO" && e.Rule == "le-only" && e.Detail == action {
					return true
				}
			}
			return false
		})
	}
	r := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "CO").GetDeliverTime() != nil
	})
	if co := nettest.Recipient(r, "CO"); co.GetAcknowledgeTime() != nil || nettest.Recipient(r, "PE") != nil {
		t.Errorf("report = %v; want CO not acknowledged and PE never reached", r.GetRecipients())
	}
	settled(t, nw, "PE")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), "MX", id)
}
