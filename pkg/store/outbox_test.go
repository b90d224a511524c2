package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// samplePost is a post of bulletin id to US and CA with its receipts.
func samplePost(id string) store.Post {
	b := sample(id)
	b.Recipients = []string{"US", "CA"}
	return store.Post{
		Bulletin: b,
		At:       t0,
		Copies: []store.Copy{
			{Recipient: "US", Origin: "MX", BulletinID: id, Data: []byte("copy for US")},
			{Recipient: "CA", Origin: "MX", BulletinID: id, Data: []byte("copy for CA")},
		},
		Receipts: []store.Receipt{{ID: "posted-" + id, Event: []byte("posted")}, {ID: "released-" + id, Event: []byte("released")}},
	}
}

func withKey(p store.Post, author, key, draft string) store.Post {
	p.Key = &store.PostKey{Author: author, Key: key, DraftHash: sha256.Sum256([]byte(draft))}
	return p
}

// committed reports what st holds of post p: whether its bulletin is
// stored, its pending recipients and whether its receipts are queued.
func committed(t *testing.T, st *store.Store, p store.Post) (stored bool, pending []string, receipts int) {
	t.Helper()
	ctx := context.Background()
	_, err := st.Get(ctx, "", p.Bulletin.ID)
	stored = err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	pending, err = st.PendingRecipients(ctx, "MX", p.Bulletin.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Receipts {
		if ok, err := st.HasReceipt(ctx, r.ID); err != nil {
			t.Fatal(err)
		} else if ok {
			receipts++
		}
	}
	return stored, pending, receipts
}

func TestCommitPostStoresAllOrNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mutate    func(*store.Post)
		wantField string
	}{
		{"copy without data", func(p *store.Post) { p.Copies[1].Data = nil }, "copies.data"},
		{"copy without recipient", func(p *store.Post) { p.Copies[0].Recipient = "" }, "copies.recipient"},
		// Found inside the transaction, after the bulletin and the copies
		// were written: the rollback must take them back.
		{"receipt without event", func(p *store.Post) { p.Receipts[1].Event = nil }, ""},
		{"bulletin without id", func(p *store.Post) { p.Bulletin.ID = "" }, "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t)
			p := withKey(samplePost("01JALLORNOTHING"), "spiffe://iant.test/state/MX/focal-point/ana", "k1", "draft")
			tc.mutate(&p)
			_, _, err := st.CommitPost(context.Background(), p)
			if err == nil {
				t.Fatal("CommitPost(bad post) = nil error")
			}
			var pe *problem.Error
			if tc.wantField != "" && (!errors.As(err, &pe) || pe.Field != tc.wantField) {
				t.Errorf("CommitPost(bad post) = %v, want kind invalid naming %s", err, tc.wantField)
			}
			p.Bulletin.ID = "01JALLORNOTHING"
			stored, pending, receipts := committed(t, st, p)
			if stored || len(pending) != 0 || receipts != 0 {
				t.Errorf("after a failed commit: stored %v, pending %v, %d receipts; want nothing", stored, pending, receipts)
			}
			if n, err := st.CountPendingCopies(context.Background()); err != nil || n != 0 {
				t.Errorf("CountPendingCopies() = %d, %v; want 0", n, err)
			}
			if _, found, err := st.LookupPost(context.Background(), *p.Key); err != nil || found {
				t.Errorf("LookupPost(key) after a failed commit = %v, %v; want not found", found, err)
			}
		})
	}
}

func TestCommitPostIsIdempotentByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	const ana, bob = "spiffe://iant.test/state/MX/focal-point/ana", "spiffe://iant.test/state/MX/focal-point/bob"
	first := withKey(samplePost("01JFIRST"), ana, "key-1", "draft A")
	rec, existing, err := st.CommitPost(ctx, first)
	if err != nil || existing {
		t.Fatalf("CommitPost(first) = _, %v, %v; want new", existing, err)
	}
	// The retry sealed again under a new id; the key returns the first.
	retry := withKey(samplePost("01JRETRY"), ana, "key-1", "draft A")
	again, existing, err := st.CommitPost(ctx, retry)
	if err != nil || !existing {
		t.Fatalf("CommitPost(retry) = _, %v, %v; want the existing post", existing, err)
	}
	if diff := cmp.Diff(rec, again); diff != "" {
		t.Errorf("retry's record (-first +retry):\n%s", diff)
	}
	if stored, pending, receipts := committed(t, st, retry); stored || len(pending) != 0 || receipts != 0 {
		t.Errorf("the retry stored %v, queued %v and %d receipts; want nothing", stored, pending, receipts)
	}
	if got, found, err := st.LookupPost(ctx, *retry.Key); err != nil || !found || got.Bulletin.ID != "01JFIRST" {
		t.Errorf("LookupPost(key-1) = %s, %v, %v; want 01JFIRST", got.Bulletin.ID, found, err)
	}

	other := withKey(samplePost("01JOTHER"), ana, "key-1", "draft B")
	_, _, err = st.CommitPost(ctx, other)
	var pe *problem.Error
	if !errors.Is(err, store.ErrKeyReused) || !errors.As(err, &pe) || pe.Kind != problem.KindInvalid || pe.Field != "idempotency_key" {
		t.Errorf("CommitPost(same key, other draft) = %v; want ErrKeyReused, invalid idempotency_key", err)
	}
	if _, _, err := st.LookupPost(ctx, *other.Key); !errors.Is(err, store.ErrKeyReused) {
		t.Errorf("LookupPost(same key, other draft) = %v; want ErrKeyReused", err)
	}
	// Keys are the author's own: another focal point's key-1 is another post.
	if _, existing, err := st.CommitPost(ctx, withKey(samplePost("01JBOB"), bob, "key-1", "draft A")); err != nil || existing {
		t.Errorf("CommitPost(bob's key-1) = _, %v, %v; want a new post", existing, err)
	}
}

func TestOutboxKeepsCommitOrderAcrossReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := openStore(t)
	for i := range 3 {
		if _, _, err := st.CommitPost(ctx, samplePost(fmt.Sprintf("01JORDER%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	fwd := []store.Copy{{Recipient: "BR", Origin: "MX", BulletinID: "01JFORWARDED", Data: []byte("forward")}}
	for range 2 { // the second is the same copy: skipped
		if _, err := st.QueueCopies(ctx, fwd, t0, 0); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	cs, err := st.PendingCopies(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range cs {
		got = append(got, c.Recipient+"/"+c.BulletinID)
		if i > 0 && c.Seq <= cs[i-1].Seq {
			t.Errorf("copy %d has seq %d after %d", i, c.Seq, cs[i-1].Seq)
		}
	}
	want := []string{"US/01JORDER0", "CA/01JORDER0", "US/01JORDER1", "CA/01JORDER1", "US/01JORDER2", "CA/01JORDER2", "BR/01JFORWARDED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("PendingCopies() (-want +got):\n%s", diff)
	}
	if err := st.MarkCopiesPublished(ctx, []uint64{cs[0].Seq, cs[3].Seq}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{{"01JORDER0", []string{"CA"}}, {"01JORDER1", []string{"US"}}, {"01JORDER2", []string{"US", "CA"}}} {
		if got, err := st.PendingRecipients(ctx, "MX", tc.id); err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("PendingRecipients(%s) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	if n, err := st.CountPendingCopies(ctx); err != nil || n != 5 {
		t.Errorf("CountPendingCopies() = %d, %v; want 5", n, err)
	}
}

func TestOutboxBoundRefusesPosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	p := samplePost("01JBOUND1")
	p.MaxPending = 2
	if _, _, err := st.CommitPost(ctx, p); err != nil {
		t.Fatalf("CommitPost with an empty outbox = %v", err)
	}
	p = samplePost("01JBOUND2")
	p.MaxPending = 2
	_, _, err := st.CommitPost(ctx, p)
	if !errors.Is(err, store.ErrOutboxFull) || problem.KindOf(err) != problem.KindUnavailable {
		t.Fatalf("CommitPost with 2 of 2 pending = %v; want ErrOutboxFull of kind unavailable", err)
	}
	if stored, pending, receipts := committed(t, st, p); stored || len(pending) != 0 || receipts != 0 {
		t.Errorf("a refused post stored %v, queued %v and %d receipts", stored, pending, receipts)
	}
	if _, err := st.QueueCopies(ctx, p.Copies, t0, 2); !errors.Is(err, store.ErrOutboxFull) {
		t.Errorf("QueueCopies with 2 of 2 pending = %v; want ErrOutboxFull", err)
	}
	cs, err := st.PendingCopies(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkCopiesPublished(ctx, []uint64{cs[0].Seq}, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CommitPost(ctx, p); err != nil {
		t.Errorf("CommitPost once a copy was published = %v", err)
	}
}

// TestOldestPendingCopy: the queue time of the first copy still waiting.
func TestOldestPendingCopy(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	if _, ok, err := st.OldestPendingCopy(ctx); ok || err != nil {
		t.Fatalf("OldestPendingCopy(empty outbox) = %v, %v; want none", ok, err)
	}
	p := samplePost("01JOLDEST0000000000000001")
	if _, _, err := st.CommitPost(ctx, p); err != nil {
		t.Fatal(err)
	}
	at, ok, err := st.OldestPendingCopy(ctx)
	if err != nil || !ok || !at.Equal(p.At) {
		t.Fatalf("OldestPendingCopy() = %v, %v, %v; want %v", at, ok, err, p.At)
	}
	if at, ok, err := st.OldestPendingCopy(ctx, "CA"); err != nil || !ok || !at.Equal(p.At) {
		t.Fatalf("OldestPendingCopy(except CA) = %v, %v, %v; want US's copy, %v", at, ok, err, p.At)
	}
	if _, ok, err := st.OldestPendingCopy(ctx, "US", "CA"); ok || err != nil {
		t.Fatalf("OldestPendingCopy(except US and CA) = %v, %v; want none", ok, err)
	}
	pending, err := st.PendingCopies(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, c := range pending {
		seqs = append(seqs, c.Seq)
	}
	if err := st.MarkCopiesPublished(ctx, seqs, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.OldestPendingCopy(ctx); ok || err != nil {
		t.Fatalf("OldestPendingCopy(all published) = %v, %v; want none", ok, err)
	}
}

// TestRequeueWhilePublishingKeepsTheNewCopy: a publisher reads a pending
// copy; meanwhile the origin's re-attestation queues the message signed
// again in its place; the publisher then marks what it read published.
// The new copy stays pending, and is published in its turn: marking
// applies to the copy published, not to whatever holds its place.
func TestRequeueWhilePublishingKeepsTheNewCopy(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	old := store.Copy{Recipient: "US", Origin: "MX", BulletinID: "b1", Data: []byte("signed by the compromised key")}
	if _, err := st.QueueCopies(ctx, []store.Copy{old}, t0, 0); err != nil {
		t.Fatal(err)
	}
	inFlight, err := st.PendingCopies(ctx, 10)
	if err != nil || len(inFlight) != 1 {
		t.Fatalf("pending copies = %v, %v; want the one queued", inFlight, err)
	}
	fresh := old
	fresh.Data = []byte("signed again with the new key")
	if err := st.RequeueCopies(ctx, []store.Copy{fresh}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkCopiesPublished(ctx, []uint64{inFlight[0].Seq}, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingCopies(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || string(pending[0].Data) != string(fresh.Data) {
		t.Fatalf("after the old copy was marked published, pending = %+v; want the copy signed again (it was lost)", pending)
	}
	if err := st.MarkCopiesPublished(ctx, []uint64{pending[0].Seq}, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.CountPendingCopies(ctx); err != nil || n != 0 {
		t.Fatalf("pending after publishing the new copy = %d, %v; want 0", n, err)
	}
}
