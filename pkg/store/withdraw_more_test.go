package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/store"
)

// hasTranslation reports whether Get, List and Search show bulletin id
// of MX with a translation by state by (searching for word).
func hasTranslation(t *testing.T, st *store.Store, id, by, word string) (got, listed, found bool) {
	t.Helper()
	ctx := context.Background()
	with := func(r store.Record) bool {
		for _, tr := range r.Bulletin.Translations {
			if tr.By == by {
				return r.Bulletin.ID == id
			}
		}
		return false
	}
	rec, err := st.Get(ctx, "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.List(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		listed = listed || with(r)
	}
	hits, err := st.Search(ctx, word, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range hits {
		found = found || r.Bulletin.ID == id
	}
	return with(rec), listed, found
}

// TestWithdrawTranslationsSignedBy: BR's translations resting on its key
// K, and the one whose key is not known (fail closed), leave the MX
// bulletins they were added to — Get, List and Search no longer show them
// — and are kept as evidence; BR's translation signed by K2, US's and the
// bulletins themselves stay. Withdrawing again changes nothing; BR's
// translation signed again with K2 is added back.
func TestWithdrawTranslationsSignedBy(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	const forged, genuine, unknown = "01JWTRFORGED00000000000000", "01JWTRGENUINE0000000000000", "01JWTRUNKNOWN0000000000000"
	for _, id := range []string{forged, genuine, unknown} {
		applySigned(t, st, sample(id), "MXK")
	}
	add := func(id, by, key, title string, lang bulletin.Language) {
		t.Helper()
		_, err := st.AddTranslation(ctx, store.Translation{Origin: "MX", ID: id, Revision: 1, SignKey: key, At: t0.Add(3 * time.Hour),
			Translation: bulletin.Translation{Language: lang, Title: title, Body: "corpo " + title, By: by}})
		if err != nil {
			t.Fatalf("AddTranslation(%s by %s) = %v", id, by, err)
		}
	}
	add(forged, "BR", "K", "zebrafalso", bulletin.Portuguese)
	add(forged, "US", "USK", "zebrafalse", bulletin.English)
	add(genuine, "BR", "K2", "zebraverdadeiro", bulletin.Portuguese)
	add(unknown, "BR", "", "zebradesconhecido", bulletin.Portuguese)

	ws, err := st.WithdrawTranslationsSignedBy(ctx, "BR", []string{"K"}, t0.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		got[w.ID] = w.SignKey
	}
	if len(ws) != 2 || got[forged] != "K" || got[unknown] != "" {
		t.Errorf("WithdrawTranslationsSignedBy(BR, K) withdrew %+v, want BR's of %s (K) and of %s (key not known)", ws, forged, unknown)
	}
	for id, word := range map[string]string{forged: "zebrafalso", unknown: "zebradesconhecido"} {
		if g, l, f := hasTranslation(t, st, id, "BR", word); g || l || f {
			t.Errorf("BR's withdrawn translation of %s: in Get %v, List %v, Search %v; want in none", id, g, l, f)
		}
		if n, err := st.WithdrawnTranslations(ctx, "MX", id); err != nil || n != 1 {
			t.Errorf("WithdrawnTranslations(MX, %s) = %d, %v; want 1", id, n, err)
		}
		if rec, err := st.Get(ctx, "MX", id); err != nil || rec.Withdrawn() {
			t.Errorf("Get(MX, %s) = withdrawn %v, %v; the bulletin itself stays", id, rec.Withdrawn(), err)
		}
	}
	if g, l, f := hasTranslation(t, st, genuine, "BR", "zebraverdadeiro"); !g || !l || !f {
		t.Errorf("BR's translation signed by K2: in Get %v, List %v, Search %v; want in all", g, l, f)
	}
	if g, l, f := hasTranslation(t, st, forged, "US", "zebrafalse"); !g || !l || !f {
		t.Errorf("US's translation: in Get %v, List %v, Search %v; want in all", g, l, f)
	}
	if again, err := st.WithdrawTranslationsSignedBy(ctx, "BR", []string{"K"}, t0.Add(5*time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("WithdrawTranslationsSignedBy again = %+v, %v; want nothing", again, err)
	}
	add(unknown, "BR", "K2", "zebradesconhecido", bulletin.Portuguese)
	if g, l, f := hasTranslation(t, st, unknown, "BR", "zebradesconhecido"); !g || !l || !f {
		t.Errorf("BR's translation signed again by K2: in Get %v, List %v, Search %v; want in all", g, l, f)
	}
}

// TestWithdrawConsentsSignedBy: the pending requests BR sent resting on
// its key K, and the one whose key is not known, are withdrawn: Consents
// leaves them out, Consent returns them marked and no decision is stored
// on them; BR's request signed by K2 and this node's own request stay.
func TestWithdrawConsentsSignedBy(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	put := func(id, forwarder, origin, key string) {
		t.Helper()
		r := store.ConsentRequest{ID: id, Bulletin: bulletin.Ref{Origin: origin, ID: "01JWBULLETIN00000000000000"}, Forwarder: forwarder,
			Target: "CA", RequestedBy: "spiffe://iant.example/state/" + forwarder + "/fp/a", RequestedAt: t0, SignKey: key}
		if _, err := st.PutConsent(ctx, r, nil, nil, t0, 0); err != nil {
			t.Fatal(err)
		}
	}
	put("forged", "BR", "MX", "K")
	put("unknown", "BR", "MX", "")
	put("genuine", "BR", "MX", "K2")
	put("own", "MX", "US", "")
	ws, err := st.WithdrawConsentsSignedBy(ctx, "BR", []string{"K"}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		got[w.ID] = w.SignKey
	}
	if len(ws) != 2 || got["forged"] != "K" || got["unknown"] != "" {
		t.Errorf("WithdrawConsentsSignedBy(BR, K) = %+v, want forged (K) and unknown", ws)
	}
	for _, decided := range []bool{false, true} {
		rs, err := st.Consents(ctx, decided)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		if len(ids) != 2 || ids[0] != "genuine" && ids[1] != "genuine" {
			t.Errorf("Consents(decided %v) = %v, want genuine and own", decided, ids)
		}
	}
	r, err := st.Consent(ctx, "forged")
	if err != nil || !r.Withdrawn() {
		t.Fatalf("Consent(forged) = withdrawn %v, %v; want it marked", r.Withdrawn(), err)
	}
	r.Decision, r.DecidedBy, r.DecidedAt = bulletin.ConsentGranted, "spiffe://iant.example/state/MX/fp/b", t0.Add(2*time.Hour)
	if _, err := st.PutConsent(ctx, r, nil, nil, t0.Add(2*time.Hour), 0); !errors.Is(err, store.ErrWithdrawn) {
		t.Errorf("granting a withdrawn request = %v, want ErrWithdrawn", err)
	}
	if again, err := st.WithdrawConsentsSignedBy(ctx, "BR", []string{"K"}, t0.Add(3*time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("WithdrawConsentsSignedBy again = %+v, %v; want nothing", again, err)
	}
}

// TestTranslationAndConsentWithdrawalsQueueTheirReceipts: as a bulletin's
// (TestWithdrawalQueuesItsReceipts), the refusal receipt of a translation
// or a consent request withdrawn is queued in the transaction that
// withdraws it, and one that cannot be made rolls the withdrawal back.
func TestTranslationAndConsentWithdrawalsQueueTheirReceipts(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	const id = "01JWTRRECEIPT0000000000000"
	applySigned(t, st, sample(id), "MXK")
	if _, err := st.AddTranslation(ctx, store.Translation{Origin: "MX", ID: id, Revision: 1, SignKey: "K", At: t0.Add(3 * time.Hour),
		Translation: bulletin.Translation{Language: bulletin.Portuguese, Title: "t", Body: "b", By: "BR"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutConsent(ctx, store.ConsentRequest{ID: "req", Bulletin: bulletin.Ref{Origin: "MX", ID: id}, Forwarder: "BR",
		Target: "CA", RequestedBy: "spiffe://iant.example/state/BR/fp/a", RequestedAt: t0, SignKey: "K"}, nil, nil, t0, 0); err != nil {
		t.Fatal(err)
	}
	fail := errors.New("no receipt")
	if ws, err := st.WithdrawTranslationsSignedByAudited(ctx, "BR", []string{"K"}, t0.Add(4*time.Hour),
		func(store.TranslationWithdrawal) (store.Receipt, error) { return store.Receipt{}, fail }); !errors.Is(err, fail) || len(ws) != 0 {
		t.Errorf("translations withdrawn with a failing receipt = %+v, %v; want nothing, the error", ws, err)
	}
	if g, _, _ := hasTranslation(t, st, id, "BR", "t"); !g {
		t.Error("BR's translation gone after a withdrawal that failed")
	}
	if ws, err := st.WithdrawConsentsSignedByAudited(ctx, "BR", []string{"K"}, t0.Add(4*time.Hour),
		func(store.ConsentWithdrawal) (store.Receipt, error) { return store.Receipt{}, fail }); !errors.Is(err, fail) || len(ws) != 0 {
		t.Errorf("consent requests withdrawn with a failing receipt = %+v, %v; want nothing, the error", ws, err)
	}
	if trs, err := st.WithdrawTranslationsSignedByAudited(ctx, "BR", []string{"K"}, t0.Add(4*time.Hour),
		func(w store.TranslationWithdrawal) (store.Receipt, error) {
			return store.Receipt{ID: "tr-" + w.ID, Event: []byte("refused")}, nil
		}); err != nil || len(trs) != 1 {
		t.Fatalf("translations withdrawn = %+v, %v; want 1", trs, err)
	}
	if cs, err := st.WithdrawConsentsSignedByAudited(ctx, "BR", []string{"K"}, t0.Add(4*time.Hour),
		func(w store.ConsentWithdrawal) (store.Receipt, error) {
			return store.Receipt{ID: "consent-" + w.ID, Event: []byte("refused")}, nil
		}); err != nil || len(cs) != 1 {
		t.Fatalf("consent requests withdrawn = %+v, %v; want 1", cs, err)
	}
	rs, err := st.PendingReceipts(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rs {
		got[r.ID] = true
	}
	if !got["tr-"+id] || !got["consent-req"] {
		t.Errorf("receipts queued with the withdrawals = %v, want tr-%s and consent-req", got, id)
	}
}
