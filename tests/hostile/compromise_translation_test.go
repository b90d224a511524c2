package hostile_test

import (
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestStolenKeyTranslationWithdrawn: MX releases bulletin A to BR and US.
// CO, compromised, holds BR's node key file as an intruder took it (BR's
// signing key K with it): it adds a forged "BR" Portuguese translation to
// A at US, signed by K, which US shows as BR's. BR's operators rotate its
// signing key and mark K compromised: US withdraws the translation — Get
// no longer has it, List shows A without Portuguese, a search for its
// words finds nothing — and A itself is still shown. The withdrawal is
// logged at the secretariat (US's refusal, rule receive.key_compromised).
// BR's genuine Spanish translation of A, added before the break-in and
// signed by K too, is signed again by BR's node with its new key (its
// re-attestation): US shows it.
func TestStolenKeyTranslationWithdrawn(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "BR", "US"}}))
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	parent := nettest.Post(t, mx, nettest.Draft("Traslado de armas", "BR", "US")).GetBulletin()
	a := parent.GetId()
	nettest.WaitStored(t, us, a)
	brFocal := nettest.Dial(t, nw, testenv.FocalPoint("BR"))
	nettest.WaitStored(t, brFocal, a)
	if _, err := brFocal.TranslateBulletin(t.Context(), &iantv1.TranslateBulletinRequest{Id: a, Origin: "MX",
		Language: iantv1.Language_LANGUAGE_ES, Title: "Traslado genuino", Body: "Traduccion genuina de BR."}); err != nil {
		t.Fatal(err)
	}
	genuineShown := func() bool {
		r, err := us.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		for _, tr := range r.GetBulletin().GetBulletin().GetTranslations() {
			if err == nil && tr.GetBy() == "BR" && tr.GetLanguage() == iantv1.Language_LANGUAGE_ES && tr.GetTitle() == "Traslado genuino" {
				return true
			}
		}
		return false
	}
	eventually(t, "US shows BR's genuine translation", genuineShown)

	stolen := newAttacker(t, nw, "BR") // the key file as CO's intruder took it
	msg := translationMessage(parent, "BR", "US")
	msg.Translated.Translation.Title, msg.Translated.Translation.Body = "Falsificacao zebrina", "Ordem zebrina falsa."
	data, err := sealTranslation(t, nw, stolen.keys, msg, "US").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	stolen.publish(t, "US", msg.GetId(), data)
	shows := func() (got, listed, found bool) {
		t.Helper()
		isForged := func(b *iantv1.Bulletin) bool {
			for _, tr := range b.GetTranslations() {
				if tr.GetBy() == "BR" && tr.GetLanguage() == iantv1.Language_LANGUAGE_PT {
					return b.GetId() == a
				}
			}
			return false
		}
		r, err := us.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		if err != nil {
			t.Fatalf("GetBulletin(MX/%s) at US = %v; the bulletin itself is MX's, signed by MX", a, err)
		}
		list, err := us.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range list.GetBulletins() {
			listed = listed || isForged(sb.GetBulletin())
		}
		res, err := us.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: "zebrina"})
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range res.GetBulletins() {
			found = found || sb.GetBulletin().GetId() == a
		}
		return isForged(r.GetBulletin().GetBulletin()), listed, found
	}
	eventually(t, "US shows the forged BR translation before the mark", func() bool {
		g, l, f := shows()
		return g && l && f
	})

	// The break-in is found: BR rotates and marks K compromised.
	k := stolen.keys.Public().SignKeyID
	if err := nw.Node("BR").RotateSignKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := nw.Node("BR").MarkSignKeyCompromised(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	eventually(t, "US withdraws the translation signed by BR's compromised key", func() bool {
		g, l, f := shows()
		return !g && !l && !f
	})
	// BR's node signs its genuine translation again with its new key
	// (its re-attestation): US shows it, resting on that key.
	eventually(t, "US shows BR's genuine translation, signed again", genuineShown)
	refusedWith(t, nettest.AuditClient(t, nw, testenv.Auditor()), "MX", a, "US", "receive.key_compromised")
	list, err := us.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
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
		t.Errorf("US lists MX/%s %d times after the withdrawal, want once", a, n)
	}
}
