package statenode_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestTranslate: MX posts in Spanish to BR, US and CA; BR's focal point
// adds a Portuguese translation. It reaches MX, US and CA as BR's, found
// by a Portuguese word; the secretariat audits its delivery as BR's
// message. PE, not released the bulletin, cannot translate it; US cannot
// add a second Portuguese one; an analyst cannot translate; MX revises
// rather than translates.
func TestTranslate(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "BR", "US", "CA", "PE"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "US" { // US's analyst reads Portuguese first
			c.Languages = map[string]bulletin.Language{testenv.Analyst("US").ID(spiffeid.RequireTrustDomainFromString("iant.test")).String(): bulletin.Portuguese}
		}
	}})
	draft := nettest.Draft("Traslado de armas", "BR", "US", "CA")
	draft.Language = iantv1.Language_LANGUAGE_ES
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), draft).GetBulletin().GetId()
	br := nettest.Dial(t, nw, testenv.FocalPoint("BR"))
	nettest.WaitStored(t, br, id)
	req := &iantv1.TranslateBulletinRequest{Id: id, Origin: "MX", Language: iantv1.Language_LANGUAGE_PT,
		Title: "Transferência de armas", Body: "Dois sistemas portáteis vistos em Foz do Iguaçu."}
	resp, err := br.TranslateBulletin(t.Context(), req)
	if err != nil {
		t.Fatalf("TranslateBulletin = %v", err)
	}
	if tr := resp.GetBulletin().GetBulletin().GetTranslations(); len(tr) != 1 || tr[0].GetBy() != "BR" {
		t.Fatalf("BR holds translations %v, want BR's", tr)
	}
	for _, cc := range []string{"MX", "US", "CA"} {
		c := nettest.Dial(t, nw, testenv.Analyst(cc))
		got := nettest.WaitGet(t, c, "MX", id, func(r *iantv1.GetBulletinResponse) bool {
			return len(r.GetBulletin().GetBulletin().GetTranslations()) == 1
		}).GetBulletin().GetBulletin().GetTranslations()[0]
		if got.GetBy() != "BR" || got.GetLanguage() != iantv1.Language_LANGUAGE_PT || got.GetTitle() != req.Title ||
			got.GetTranslator() != testenv.FocalPoint("BR").ID(nw.TD).String() {
			t.Errorf("%s holds translation %+v, want BR's in pt by BR's focal point", cc, got)
		}
		if pref := nettest.WaitStored(t, c, id).GetPreferredLanguage(); (cc == "US") != (pref == iantv1.Language_LANGUAGE_PT) {
			t.Errorf("%s's analyst's preferred language is %s, want pt at US only", cc, pref)
		}
		found, err := c.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: "iguaçu"})
		if err != nil || len(found.GetBulletins()) != 1 {
			t.Errorf("%s: SearchBulletins(a Portuguese word) = %v, %v; want the bulletin", cc, found.GetBulletins(), err)
		}
	}

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	rep := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
		for _, it := range r.GetThread() {
			if it.GetKind() == iantv1.MessageKind_MESSAGE_KIND_TRANSLATION && it.GetOrigin() == "BR" {
				return true
			}
		}
		return false
	})
	var msgID string
	for _, it := range rep.GetThread() {
		if it.GetKind() == iantv1.MessageKind_MESSAGE_KIND_TRANSLATION {
			msgID = it.GetId()
		}
	}
	nettest.WaitReportOf(t, auditor, "BR", msgID, func(r *iantv1.BulletinReport) bool {
		for _, cc := range []string{"MX", "US", "CA"} {
			if nettest.Recipient(r, cc).GetDeliverTime() == nil {
				return false
			}
		}
		return true
	})

	_, err = nettest.Dial(t, nw, testenv.FocalPoint("PE")).TranslateBulletin(t.Context(), req)
	wantCode(t, err, codes.NotFound)
	_, err = nettest.Dial(t, nw, testenv.FocalPoint("US")).TranslateBulletin(t.Context(), req)
	wantCode(t, err, codes.AlreadyExists)
	fr := &iantv1.TranslateBulletinRequest{Id: id, Origin: "MX", Language: iantv1.Language_LANGUAGE_FR, Title: "Armes", Body: "Deux systèmes."}
	_, err = nettest.Dial(t, nw, testenv.Analyst("US")).TranslateBulletin(t.Context(), fr)
	wantCode(t, err, codes.PermissionDenied)
	_, err = nettest.Dial(t, nw, testenv.FocalPoint("MX")).TranslateBulletin(t.Context(), fr)
	wantRefusal(t, err, codes.PermissionDenied, "translate-not-own-bulletin")
	bad := &iantv1.TranslateBulletinRequest{Id: id, Origin: "MX", Language: iantv1.Language_LANGUAGE_FR, Title: "a\x1b[2Jb", Body: "x"}
	_, err = br.TranslateBulletin(t.Context(), bad)
	wantCode(t, err, codes.InvalidArgument)
}
