package statenode_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestConfidentialAudience: MX posts to US, CA and BR with a confidential
// audience. Each recipient's raw backbone copy, stored bulletin, Get,
// List and subscription name its own state alone, and its copy verifies;
// the origin's focal point and the secretariat's auditor see all three
// delivered; a recipient's reply to every recipient is refused by rule,
// one to the origin goes; a revision stays confidential.
func TestConfidentialAudience(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "US", "CA", "BR", "PE"}}))
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Neighbour under investigation", "US", "CA", "BR")
	draft.ConfidentialAudience = true
	sub := nettest.Subscribe(t, t.Context(), nettest.Dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{})
	posted := nettest.Post(t, fp, draft).GetBulletin()
	id := posted.GetId()
	if got := posted.GetRecipients(); !slices.Equal(got, []string{"BR", "CA", "US"}) || !posted.GetConfidentialAudience() {
		t.Errorf("the origin sees recipients %v (confidential %v), want BR, CA, US", got, posted.GetConfidentialAudience())
	}
	for _, cc := range []string{"US", "CA", "BR"} {
		c := nettest.Dial(t, nw, testenv.Analyst(cc))
		got := nettest.WaitStored(t, c, id).GetBulletin()
		wantOwnOnly(t, cc, "Get", got)
		list, err := c.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range list.GetBulletins() {
			wantOwnOnly(t, cc, "List", sb.GetBulletin())
		}
		raw := nettest.InboxCopy(t, nw, cc, "MX", id)
		if !raw.IsConfidential() || !slices.Equal(raw.Recipients, []string{cc}) || len(raw.Keys) != 1 {
			t.Errorf("%s's backbone copy: confidential %v, names %v with %d keys", cc, raw.IsConfidential(), raw.Recipients, len(raw.Keys))
		}
	}
	if b := sub.Next(t).GetBulletin(); b.GetId() == id {
		wantOwnOnly(t, "CA", "Subscribe", b)
	}

	all := func(r *iantv1.BulletinReport) bool {
		for _, cc := range []string{"US", "CA", "BR"} {
			if nettest.Recipient(r, cc).GetDeliverTime() == nil {
				return false
			}
		}
		return len(r.GetRecipients()) == 3
	}
	nettest.WaitReport(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, all)
	nettest.WaitReport(t, nettest.AuditClient(t, nw, testenv.FocalPoint("MX")), id, all)

	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	_, err := us.ReplyToBulletin(t.Context(), &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX", Kind: iantv1.ReplyKind_REPLY_KIND_RFI,
		Title: "Who else?", Body: "Is our neighbour informed?", To: iantv1.ReplyAudience_REPLY_AUDIENCE_RECIPIENTS})
	wantRefusal(t, err, codes.PermissionDenied, "reply-confidential-audience-origin-only")
	reply := nettest.Reply(t, us, &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX", Kind: iantv1.ReplyKind_REPLY_KIND_RFI,
		Title: "Details", Body: "Please send the flight numbers."})
	if got := reply.GetBulletin().GetRecipients(); !slices.Equal(got, []string{"MX"}) {
		t.Errorf("reply went to %v, want MX", got)
	}

	nettest.Revise(t, fp, id, nettest.Redraft(draft, func(b *iantv1.Bulletin) {
		b.Title, b.ConfidentialAudience = "Revised", false
	}))
	got := nettest.WaitRevision(t, nettest.Dial(t, nw, testenv.Analyst("BR")), id, 2).GetBulletin().GetBulletin()
	wantOwnOnly(t, "BR", "Get of revision 2", got)
	if raw := nettest.InboxCopy(t, nw, "BR", "MX", id); !raw.IsConfidential() || !slices.Equal(raw.Recipients, []string{"BR"}) {
		t.Errorf("BR's copy of revision 2: confidential %v, names %v", raw.IsConfidential(), raw.Recipients)
	}
}

// wantOwnOnly fails t unless b, as cc's node shows it, names cc alone.
func wantOwnOnly(t *testing.T, cc, call string, b *iantv1.Bulletin) {
	t.Helper()
	if b.GetOrigin() != "MX" {
		return
	}
	rel := b.GetReleasability()
	if !b.GetConfidentialAudience() || !slices.Equal(b.GetRecipients(), []string{cc}) ||
		len(rel.GetRegions()) != 0 || rel.GetAll() || !slices.Equal(rel.GetStates(), []string{cc}) {
		t.Errorf("%s at %s: confidential %v, recipients %v, releasability %v; want %s alone", call, cc,
			b.GetConfidentialAudience(), b.GetRecipients(), rel, cc)
	}
}
