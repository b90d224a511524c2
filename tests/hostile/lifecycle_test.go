package hostile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// The bulletin's life under attack: every message below is refused by
// its recipient, audited with the rule that refused it, and changes
// nothing the recipient holds.

// message is a lifecycle message as a node would seal it: b (its
// plaintext) under a version-4 header of kind, revision, subkind and ref.
type message struct {
	b        *iantv1.Bulletin
	kind     seal.Kind
	revision uint32
	subkind  uint8
	ref      seal.Ref
}

// sealMessage seals m with keys, naming signer's node as its signer, for
// the states to.
func sealMessage(t *testing.T, nw *testenv.Network, keys *seal.NodeKeys, signer string, m message, to ...string) []byte {
	t.Helper()
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.b)
	if err != nil {
		t.Fatal(err)
	}
	var pubs []seal.PublicKeys
	for _, cc := range to {
		pubs = append(pubs, nettest.NodeKeys(t, nw, cc).Public())
	}
	s, err := seal.Seal(seal.Header{ID: m.b.GetId(), Origin: m.b.GetOrigin(), Signer: testenv.NodePrincipal(signer).ID(nw.TD).String(),
		Precedence: int32(m.b.GetPrecedence()), Marking: int32(m.b.GetMarking()), Recipients: to, CreatedAt: m.b.GetCreateTime().AsTime(),
		Kind: m.kind, Revision: m.revision, Subkind: m.subkind, Ref: m.ref}, pt, pubs, keys)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// refusal waits until the log holds cc's refusal, by rule ("" for any
// receive rule), of message id, logged under one of origins (its
// publisher's or its origin's).
func refusal(t *testing.T, a iantv1.AuditServiceClient, id, cc, rule string, origins ...string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(nettest.Eventually)
	for {
		seen = seen[:0]
		for _, o := range origins {
			for _, l := range nettest.Leaves(t, a, o, id) {
				e := l.Event
				if e.Kind != audit.EventRefused {
					continue
				}
				seen = append(seen, e.State+":"+e.Rule)
				if e.State == cc && (e.Rule == rule || rule == "" && strings.HasPrefix(e.Rule, "receive.")) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's refusal %q of %s not logged within %s; refusals logged: %v", cc, rule, id, nettest.Eventually, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stillActive checks that c's node shows MX's bulletin id, active, at
// revision rev, titled title.
func stillActive(t *testing.T, c iantv1.BulletinServiceClient, id string, rev uint32, title string) {
	t.Helper()
	got, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.GetBulletin(); s.GetState() != iantv1.BulletinState_BULLETIN_STATE_ACTIVE || max(s.GetBulletin().GetRevision(), 1) != rev ||
		s.GetBulletin().GetTitle() != title {
		t.Errorf("%s shows state %v, revision %d, title %q; want active, revision %d, %q", id, s.GetState(),
			s.GetBulletin().GetRevision(), s.GetBulletin().GetTitle(), rev, title)
	}
}

// TestNonOriginForgesRevisionAndRevocation: CO, a recipient of MX's
// bulletin, seals a revision and a revocation of it "from MX" with its own
// genuine keys and sends them to US, publishing as itself (it cannot
// publish as MX). US refuses both (receive.signer: only MX seals MX's
// messages), logs the refusals, and still shows MX's first version.
func TestNonOriginForgesRevisionAndRevocation(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CO")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("genuine", "US", "CO")).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	co := newAttacker(t, nw, "CO")
	fakeMX, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	revised := bulletinOf(green("forged revision", "US", "CO"), id, "MX", now, "CO", "US")
	revised.Revision, revised.FirstCreateTime = 2, timestamppb.New(now.Add(-time.Minute))
	revocation := bulletinOf(&iantv1.Bulletin{Marking: iantv1.Marking_MARKING_GREEN, Precedence: iantv1.Precedence_PRECEDENCE_FLASH,
		Releasability: &iantv1.Releasability{States: []string{"US", "CO"}}}, id, "MX", now, "CO", "US")
	revocation.Revision, revocation.Revocation = 1, &iantv1.Revocation{Reason: "forged", RevokedBy: revocation.GetAuthor(), RevokeTime: timestamppb.New(now)}
	forgeries := map[string][]byte{
		"revision":   sealMessage(t, nw, fakeMX, "MX", message{b: revised, kind: seal.KindRevision, revision: 2}, "CO", "US"),
		"revocation": sealMessage(t, nw, fakeMX, "MX", message{b: revocation, kind: seal.KindRevocation, revision: 1}, "CO", "US"),
	}
	a := nettest.AuditClient(t, nw, testenv.Auditor())
	for name, data := range forgeries {
		co.publish(t, "US", id, data)
		settled(t, nw, "US")
		stillActive(t, us, id, 1, "genuine")
		t.Logf("forged %s: refused", name)
	}
	refusal(t, a, id, "US", "receive.signer", "CO", "MX")
	// The same revocation "relayed" by CO as a forward of MX's: refused.
	s, err := seal.Unmarshal(sealMessage(t, nw, fakeMX, "MX", message{b: revocation, kind: seal.KindRevocation, revision: 1}, "CO"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := seal.Forward(s, "CO", co.keys, nettest.NodeKeys(t, nw, "US").Public(),
		seal.ForwardStatement{Signer: co.nodeID, Reason: "relay of the origin's revocation", At: time.Now()}, co.keys)
	if err != nil {
		t.Fatal(err)
	}
	co.publish(t, "US", id, marshal(t, f))
	settled(t, nw, "US")
	stillActive(t, us, id, 1, "genuine")
}

// TestReplayedOldRevision: MX revises its bulletin; US forwards the
// revision to PE. CO kept its copy of the first version and forwards that
// to PE, signing the statement with its genuine key: the origin's
// signature holds, but an older revision never overwrites a newer one.
// PE refuses it (receive.revision), logs it, and keeps showing revision 2.
func TestReplayedOldRevision(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "US", "CO", "PE"}}))
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := green("first version", "US", "CO")
	id := nettest.Post(t, mx, draft).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), id)
	old := inboxCopy(t, nw, "CO", "MX", id)
	if old.Revision > 1 {
		t.Fatalf("the copy kept is of revision %d", old.Revision)
	}
	nettest.Revise(t, mx, id, nettest.Redraft(draft, func(b *iantv1.Bulletin) { b.Title = "second version" }))
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitRevision(t, us, id, 2)
	if _, err := us.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	pe := nettest.Dial(t, nw, testenv.FocalPoint("PE"))
	nettest.WaitRevision(t, pe, id, 2)

	co := newAttacker(t, nw, "CO")
	f, err := seal.Forward(old, "CO", co.keys, nettest.NodeKeys(t, nw, "PE").Public(),
		seal.ForwardStatement{Signer: co.nodeID, Reason: "policy forward-focal-point", At: time.Now()}, co.keys)
	if err != nil {
		t.Fatal(err)
	}
	co.publish(t, "PE", id, marshal(t, f))
	settled(t, nw, "PE")
	stillActive(t, pe, id, 2, "second version")
	refusal(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, "PE", "receive.revision", "CO", "MX")
}

// reply is CO's reply (a note) to MX's bulletin id, marked marking, to
// the states to.
func reply(id string, marking iantv1.Marking, to ...string) message {
	return replyBy("CO", id, marking, to...)
}

// replyBy is state from's reply (a note) to MX's bulletin id, marked
// marking, to the states to.
func replyBy(from, id string, marking iantv1.Marking, to ...string) message {
	b := bulletinOf(&iantv1.Bulletin{Marking: marking, Precedence: iantv1.Precedence_PRECEDENCE_FLASH,
		Category: iantv1.Category_CATEGORY_OTHER, Language: iantv1.Language_LANGUAGE_EN, Body: "a note",
		Releasability: &iantv1.Releasability{States: to},
		Reply: &iantv1.Reply{Kind: iantv1.ReplyKind_REPLY_KIND_NOTE, InReplyTo: &iantv1.BulletinRef{Origin: "MX", Id: id},
			Audience: iantv1.ReplyAudience_REPLY_AUDIENCE_RECIPIENTS}},
		ulid.Make().String(), from, time.Now().UTC().Truncate(time.Millisecond), to...)
	b.Revision = 1
	return message{b: b, kind: seal.KindReply, revision: 1, subkind: uint8(iantv1.ReplyKind_REPLY_KIND_NOTE), ref: seal.Ref{Origin: "MX", ID: id}}
}

// TestReplyLooserOrWider: CO answers MX's AMBER bulletin, released to US
// and CO, with replies its node would never send: marked CLEAR (looser)
// to US, and AMBER to US and JM, which was never released the bulletin
// (wider). US refuses both (receive.reply); JM, which holds nothing it
// answers, refuses its copy too. None of them shows a reply.
func TestReplyLooserOrWider(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CO", "JM")
	draft := nettest.Draft("amber", "US", "CO")
	draft.Marking = iantv1.Marking_MARKING_AMBER
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), draft).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("CO")), id)
	co := newAttacker(t, nw, "CO")

	looser := reply(id, iantv1.Marking_MARKING_CLEAR, "MX", "US")
	co.publish(t, "US", looser.b.GetId(), sealMessage(t, nw, co.keys, "CO", looser, "MX", "US"))
	wider := reply(id, iantv1.Marking_MARKING_AMBER, "JM", "MX", "US")
	data := sealMessage(t, nw, co.keys, "CO", wider, "JM", "MX", "US")
	co.publish(t, "US", wider.b.GetId(), data)
	co.publish(t, "JM", wider.b.GetId(), data)
	settled(t, nw, "US")
	settled(t, nw, "JM")
	a := nettest.AuditClient(t, nw, testenv.Auditor())
	refusal(t, a, looser.b.GetId(), "US", "receive.reply", "CO")
	refusal(t, a, wider.b.GetId(), "US", "receive.reply", "CO")
	refusal(t, a, wider.b.GetId(), "JM", "receive.reply", "CO")
	got, err := us.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
	if err != nil || len(got.GetThread()) != 0 {
		t.Errorf("US's thread of %s = %v, %v; want none", id, got.GetThread(), err)
	}
	notShown(t, us, "CO", looser.b.GetId())
	notShown(t, us, "CO", wider.b.GetId())
}

// TestConsentGrantForgedByNonOrigin: US asks MX for consent to forward
// MX's originator-consent-required bulletin to JM. CO, which holds the
// bulletin too, sends US a "grant" of that request: signed by itself, and
// sealed "from MX" with its own keys. US refuses both (receive.validate:
// a decision is the origin's; receive.signer), the request stays pending,
// and US's forward to JM is still refused.
func TestConsentGrantForgedByNonOrigin(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CO", "JM")
	draft := green("consent needed", "US", "CO")
	draft.Caveats = []iantv1.Caveat{iantv1.Caveat_CAVEAT_ORIGINATOR_CONSENT_REQUIRED}
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), draft).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	req, err := us.RequestForwardConsent(t.Context(), &iantv1.RequestForwardConsentRequest{Id: id, Origin: "MX", TargetState: "JM"})
	if err != nil {
		t.Fatal(err)
	}
	reqID := req.GetRequest().GetId()
	co := newAttacker(t, nw, "CO")
	grant := func(origin string) message {
		b := bulletinOf(&iantv1.Bulletin{Marking: iantv1.Marking_MARKING_GREEN, Precedence: iantv1.Precedence_PRECEDENCE_FLASH,
			Category: iantv1.Category_CATEGORY_OTHER, Language: iantv1.Language_LANGUAGE_EN,
			Releasability: &iantv1.Releasability{States: []string{"US"}},
			Consent: &iantv1.Consent{RequestId: reqID, Bulletin: &iantv1.BulletinRef{Origin: "MX", Id: id}, Forwarder: "US", Target: "JM",
				Decision: iantv1.ConsentDecision_CONSENT_DECISION_GRANTED}},
			ulid.Make().String(), origin, time.Now().UTC().Truncate(time.Millisecond), "US")
		b.Revision = 1
		return message{b: b, kind: seal.KindConsentDecision, revision: 1, subkind: uint8(iantv1.ConsentDecision_CONSENT_DECISION_GRANTED),
			ref: seal.Ref{Origin: "MX", ID: id}}
	}
	own, asMX := grant("CO"), grant("MX")
	co.publish(t, "US", own.b.GetId(), sealMessage(t, nw, co.keys, "CO", own, "US"))
	fakeMX, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	co.publish(t, "US", asMX.b.GetId(), sealMessage(t, nw, fakeMX, "MX", asMX, "US"))
	settled(t, nw, "US")
	a := nettest.AuditClient(t, nw, testenv.Auditor())
	refusal(t, a, own.b.GetId(), "US", "receive.validate", "CO")
	refusal(t, a, asMX.b.GetId(), "US", "receive.signer", "CO", "MX")
	list, err := us.ListConsentRequests(t.Context(), &iantv1.ListConsentRequestsRequest{IncludeDecided: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.GetRequests() {
		if r.GetId() == reqID && r.GetDecision() != iantv1.ConsentDecision_CONSENT_DECISION_UNSPECIFIED {
			t.Errorf("request %s is %v after the forged grants, want pending", reqID, r.GetDecision())
		}
	}
	_, err = us.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, Origin: "MX", TargetState: "JM"})
	if err == nil || !strings.Contains(err.Error(), "PermissionDenied") && !strings.Contains(err.Error(), "forward") {
		t.Errorf("forward after the forged grants = %v, want refused", err)
	}
}

// TestReplyByAStateNeverReleased: JM was never released MX's bulletin,
// which went to US and CO; knowing its id, JM's node sends US a reply to
// it. US refuses it (receive.reply): only the origin and the states it
// released the bulletin to answer it.
func TestReplyByAStateNeverReleased(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CO", "JM")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), green("released to US and CO", "US", "CO")).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	jm := newAttacker(t, nw, "JM")
	r := replyBy("JM", id, iantv1.Marking_MARKING_GREEN, "US")
	jm.publish(t, "US", r.b.GetId(), sealMessage(t, nw, jm.keys, "JM", r, "US"))
	settled(t, nw, "US")
	refusal(t, nettest.AuditClient(t, nw, testenv.Auditor()), r.b.GetId(), "US", "receive.reply", "JM")
	got, err := us.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: "MX"})
	if err != nil || len(got.GetThread()) != 0 {
		t.Errorf("US's thread of %s = %v, %v; want none", id, got.GetThread(), err)
	}
	notShown(t, us, "JM", r.b.GetId())
}

// TestTranslationCreditedToAnotherState: MX, compromised, posts a
// bulletin to US and BR carrying a Portuguese "translation by BR" that BR
// never made (it would also take BR's place for pt). US refuses the copy
// (receive.validate): a bulletin carries its origin's own translations;
// another state's comes as a translation message it signs.
func TestTranslationCreditedToAnotherState(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "BR")
	mx := newAttacker(t, nw, "MX")
	b := bulletinOf(&iantv1.Bulletin{Marking: iantv1.Marking_MARKING_GREEN, Precedence: iantv1.Precedence_PRECEDENCE_FLASH,
		Category: iantv1.Category_CATEGORY_OTHER, Language: iantv1.Language_LANGUAGE_ES, Title: "alerta", Body: "texto",
		Releasability: &iantv1.Releasability{States: []string{"US", "BR"}},
		Translations:  []*iantv1.Translation{{Language: iantv1.Language_LANGUAGE_PT, Title: "alerta", Body: "texto", By: "BR"}}},
		ulid.Make().String(), "MX", time.Now().UTC().Truncate(time.Millisecond), "BR", "US")
	b.Revision = 1
	m := message{b: b, kind: seal.KindBulletin, revision: 1}
	mx.publish(t, "US", b.GetId(), sealMessage(t, nw, mx.keys, "MX", m, "BR", "US"))
	settled(t, nw, "US")
	refusal(t, nettest.AuditClient(t, nw, testenv.Auditor()), b.GetId(), "US", "receive.validate", "MX")
	notShown(t, nettest.Dial(t, nw, testenv.FocalPoint("US")), "MX", b.GetId())
}
