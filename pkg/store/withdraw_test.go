package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/store"
)

// applySigned applies received message b as signed by key, its origin's
// current key.
func applySigned(t *testing.T, st *store.Store, b bulletin.Bulletin, key string) store.Applied {
	t.Helper()
	a, err := st.Apply(context.Background(), store.Change{Bulletin: b, Direction: store.Received, At: t0.Add(2 * time.Hour),
		Delivery: store.Delivery{Copy: []byte("sealed by " + key), SignKey: key, Current: true}})
	if err != nil {
		t.Fatalf("Apply(%s, signed by %q) = %v", b.ID, key, err)
	}
	return a
}

// listed reports whether List and Search return bulletin id of MX.
func listed(t *testing.T, st *store.Store, id string) bool {
	t.Helper()
	recs, err := st.List(context.Background(), store.Filter{IncludeRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	found, err := st.Search(context.Background(), "MANPADS", store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(recs, found...) {
		if r.Bulletin.ID == id && r.Bulletin.Origin == "MX" {
			return true
		}
	}
	return false
}

// TestWithdrawSignedBy: the received rows of MX resting on key K, and
// the one whose key is not known (fail closed), are withdrawn; a row
// signed by another key, another origin's and this node's own stay. A
// withdrawn row is kept (Get returns it marked) but not listed nor
// found; withdrawing again changes nothing. A copy signed by another key
// puts it back: the same content reinstated, other content replacing it
// (whatever its revision), the replaced row kept as evidence.
func TestWithdrawSignedBy(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	const genuine, forged, other, unknown = "01JWGENUINE000000000000000", "01JWFORGED0000000000000000", "01JWOTHER00000000000000000", "01JWUNKNOWN000000000000000"
	applySigned(t, st, sample(genuine), "K")
	rev := sample(forged)
	rev.Revision, rev.FirstCreatedAt, rev.CreatedAt, rev.Title = 3, rev.CreatedAt, rev.CreatedAt.Add(time.Minute), "forged MANPADS"
	applySigned(t, st, rev, "K")
	applySigned(t, st, sample(other), "K2")
	put(t, st, sample(unknown), store.Received) // stored before keys were recorded
	fromUS := sample(genuine)
	fromUS.Origin = "US"
	applySigned(t, st, fromUS, "K")
	own := sample("01JWOWN0000000000000000000")
	put(t, st, own, store.Sent)

	ws, err := st.WithdrawSignedBy(ctx, "MX", []string{"K"}, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		got[w.ID] = w.SignKey
	}
	if len(got) != 3 || got[genuine] != "K" || got[forged] != "K" || got[unknown] != "" {
		t.Errorf("WithdrawSignedBy(MX, K) withdrew %+v, want %s and %s (K) and %s (key not known)", ws, genuine, forged, unknown)
	}
	for _, id := range []string{genuine, forged, unknown} {
		rec, err := st.Get(ctx, "MX", id)
		if err != nil || !rec.Withdrawn() {
			t.Errorf("Get(MX, %s) = withdrawn %v, %v; want the withdrawn record", id, rec.Withdrawn(), err)
		}
		if listed(t, st, id) {
			t.Errorf("MX/%s is listed or found after its withdrawal", id)
		}
	}
	if recs, _ := st.List(ctx, store.Filter{Origins: []string{"MX"}}); len(recs) != 2 {
		t.Errorf("List(MX) after the withdrawal = %d records, want 2 (%s and this node's own)", len(recs), other)
	}
	if again, err := st.WithdrawSignedBy(ctx, "MX", []string{"K"}, t0.Add(4*time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("WithdrawSignedBy again = %+v, %v; want nothing", again, err)
	}

	// A genuine copy under a retired key (not the origin's current one)
	// is older than the mark: it puts nothing back.
	_, err = st.Apply(ctx, store.Change{Bulletin: sample(forged), Direction: store.Received, At: t0.Add(4 * time.Hour),
		Delivery: store.Delivery{Copy: []byte("sealed by K0"), SignKey: "K0"}})
	if !errors.Is(err, store.ErrStale) {
		t.Errorf("revision 1 under a retired key over withdrawn revision 3 = %v, want ErrStale", err)
	}
	_, err = st.Apply(ctx, store.Change{Bulletin: sample(genuine), Direction: store.Received, At: t0.Add(4 * time.Hour),
		Delivery: store.Delivery{Copy: []byte("sealed by K0"), SignKey: "K0"}})
	for id, revision := range map[string]int{genuine: 1, forged: 3} {
		if rec, gerr := st.Get(ctx, "MX", id); err != nil || gerr != nil || !rec.Withdrawn() || rec.Bulletin.RevisionNumber() != revision {
			t.Errorf("MX/%s after copies under a retired key = withdrawn %v revision %d, %v, %v; want it withdrawn as it was", id, rec.Withdrawn(),
				rec.Bulletin.RevisionNumber(), err, gerr)
		}
	}

	a := applySigned(t, st, sample(genuine), "K2")
	if !a.Reinstated || a.Record.Withdrawn() {
		t.Errorf("the same content signed by K2: %+v, want reinstated", a)
	}
	a = applySigned(t, st, sample(forged), "K2")
	if !a.Replaced || a.Record.Bulletin.Title != sample(forged).Title || a.Record.Bulletin.RevisionNumber() != 1 {
		t.Errorf("the genuine revision 1 over a withdrawn forged revision 3: %+v, want it replaced", a)
	}
	if n, err := st.WithdrawnReplaced(ctx, "MX", forged); err != nil || n != 1 {
		t.Errorf("WithdrawnReplaced(MX, %s) = %d, %v; want 1", forged, n, err)
	}
	for _, id := range []string{genuine, forged} {
		if !listed(t, st, id) {
			t.Errorf("MX/%s is not listed once put back", id)
		}
	}
	// Put back, they rest on K2: withdrawing K again leaves them.
	if again, err := st.WithdrawSignedBy(ctx, "MX", []string{"K"}, t0.Add(5*time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("WithdrawSignedBy(K) after the re-attestation = %+v, %v; want nothing", again, err)
	}
	_, err = st.AddTranslation(ctx, store.Translation{Origin: "MX", ID: unknown, Revision: 1,
		Translation: bulletin.Translation{Language: bulletin.English, Title: "t", Body: "b", By: "US"}, At: t0.Add(5 * time.Hour)})
	if !errors.Is(err, store.ErrWithdrawn) {
		t.Errorf("AddTranslation to a withdrawn bulletin = %v, want ErrWithdrawn", err)
	}
}

// TestAcknowledgeRefusesAWithdrawnRow: the store checks the withdrawal in
// the transaction that writes the acknowledgement, so a withdrawal
// committed after the node read the row is not acknowledged (and sent as
// a receipt) anyway.
func TestAcknowledgeRefusesAWithdrawnRow(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	const id = "01JWACKED00000000000000000"
	applySigned(t, st, sample(id), "K")
	if _, err := st.WithdrawSignedBy(ctx, "MX", []string{"K"}, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, first, err := st.Acknowledge(ctx, "MX", id, "spiffe://iant.test/state/US/focal-point/fp", t0.Add(4*time.Hour)); !errors.Is(err, store.ErrWithdrawn) || first {
		t.Errorf("Acknowledge of a withdrawn row = first %v, %v; want ErrWithdrawn", first, err)
	}
	if rec, err := st.Get(ctx, "MX", id); err != nil || !rec.AckedAt.IsZero() {
		t.Errorf("the withdrawn row after Acknowledge: acked %v, %v; want it not acknowledged", rec.AckedAt, err)
	}
}

// TestWithdrawalQueuesItsReceipts: the refusal receipts of the rows a
// withdrawal withdraws are queued in its transaction, so no crash can
// leave a row withdrawn without its audit (the rows, withdrawn, are not
// withdrawn again, so a receipt queued after the commit and lost with a
// crash was never sent); a receipt that cannot be made rolls the
// withdrawal back, for the next try.
func TestWithdrawalQueuesItsReceipts(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	const a, b = "01JWRECEIPTA00000000000000", "01JWRECEIPTB00000000000000"
	applySigned(t, st, sample(a), "K")
	applySigned(t, st, sample(b), "K")
	before, err := st.PendingReceipts(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	fail := errors.New("no receipt")
	if ws, err := st.WithdrawSignedByAudited(ctx, "MX", []string{"K"}, t0.Add(3*time.Hour), func(store.Withdrawal) (store.Receipt, error) {
		return store.Receipt{}, fail
	}); !errors.Is(err, fail) || len(ws) != 0 {
		t.Errorf("WithdrawSignedByAudited with a failing receipt = %+v, %v; want nothing withdrawn, the error", ws, err)
	}
	if rec, err := st.Get(ctx, "MX", a); err != nil || rec.Withdrawn() {
		t.Errorf("MX/%s after the failed withdrawal: withdrawn %v, %v; want it as it was", a, rec.Withdrawn(), err)
	}
	ws, err := st.WithdrawSignedByAudited(ctx, "MX", []string{"K"}, t0.Add(3*time.Hour), func(w store.Withdrawal) (store.Receipt, error) {
		return store.Receipt{ID: "withdrawn-" + w.ID, Event: []byte("refused " + w.ID)}, nil
	})
	if err != nil || len(ws) != 2 {
		t.Fatalf("WithdrawSignedByAudited = %+v, %v; want 2 withdrawn", ws, err)
	}
	after, err := st.PendingReceipts(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range after {
		got[r.ID] = true
	}
	if len(after)-len(before) != 2 || !got["withdrawn-"+a] || !got["withdrawn-"+b] {
		t.Errorf("receipts queued with the withdrawal = %v, want one for each of %s and %s", got, a, b)
	}
}
