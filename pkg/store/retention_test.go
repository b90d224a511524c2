package store_test

import (
	"context"
	"crypto/sha256"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/store"
)

// TestPruneOutbox: markers older than the cutoff go, younger ones and
// everything pending stay; a copy or receipt whose marker went can be
// queued again, one whose marker stays cannot.
func TestPruneOutbox(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	old, young := samplePost("01OLD"), samplePost("01YOUNG")
	young.At = t0.Add(time.Hour)
	pending := samplePost("01PENDING")
	for _, p := range []store.Post{old, young, pending} {
		if _, _, err := st.CommitPost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	publishAll := func(id string, at time.Time) {
		cs, err := st.PendingCopies(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, c := range cs {
			if c.BulletinID == id {
				seqs = append(seqs, c.Seq)
			}
		}
		if err := st.MarkCopiesPublished(ctx, seqs, at); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkReceiptsSent(ctx, []string{"posted-" + id, "released-" + id}, at); err != nil {
			t.Fatal(err)
		}
	}
	publishAll("01OLD", t0)
	publishAll("01YOUNG", t0.Add(2*time.Hour))

	copies, receipts, err := st.PruneOutbox(ctx, t0.Add(time.Hour))
	if err != nil || copies != 2 || receipts != 2 {
		t.Fatalf("PruneOutbox() = %d, %d, %v; want the 2 copies and 2 receipts of 01OLD", copies, receipts, err)
	}
	for _, tt := range []struct {
		receipt string
		kept    bool
	}{
		{"posted-01OLD", false}, {"released-01OLD", false},
		{"posted-01YOUNG", true}, {"released-01YOUNG", true},
		{"posted-01PENDING", true}, {"released-01PENDING", true},
	} {
		if ok, err := st.HasReceipt(ctx, tt.receipt); err != nil || ok != tt.kept {
			t.Errorf("HasReceipt(%s) = %v, %v; want %v", tt.receipt, ok, err, tt.kept)
		}
	}
	if got, err := st.PendingRecipients(ctx, "MX", "01PENDING"); err != nil || !cmp.Equal(got, []string{"US", "CA"}) {
		t.Errorf("pending copies after pruning = %v, %v; want US, CA", got, err)
	}
	// The markers that stay still de-duplicate; the pruned ones no longer do.
	again := func(id string) int {
		n, err := st.QueueCopies(ctx, []store.Copy{{Recipient: "US", Origin: "MX", BulletinID: id, Data: []byte("again")}}, t0.Add(3*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := again("01YOUNG"); n != 0 {
		t.Errorf("queueing a copy whose marker is kept added %d, want 0", n)
	}
	if n := again("01OLD"); n != 1 {
		t.Errorf("queueing a copy whose marker was pruned added %d, want 1", n)
	}
	// Nothing left to prune: no write.
	if c, r, err := st.PruneOutbox(ctx, t0.Add(time.Hour)); err != nil || c+r != 0 {
		t.Errorf("PruneOutbox() again = %d, %d, %v; want nothing", c, r, err)
	}
}

// TestDirectoryMarks: a mark survives closing the store, and is replaced
// as a whole, whatever its sequence (the caller decides).
func TestDirectoryMarks(t *testing.T) {
	st, path := openStore(t)
	ctx := context.Background()
	if _, found, err := st.DirectoryMark(ctx, "MX"); err != nil || found {
		t.Fatalf("DirectoryMark() of a fresh store = found %v, %v", found, err)
	}
	m := store.DirectoryMark{State: "MX", Sequence: math.MaxUint64 - 1, Digest: sha256.Sum256([]byte("entry")),
		NotAfter: t0.Add(30 * 24 * time.Hour), Entry: []byte("signed entry"), AcceptedAt: t0}
	if err := st.SetDirectoryMark(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got, found, err := st2.DirectoryMark(ctx, "MX")
	if err != nil || !found {
		t.Fatalf("DirectoryMark() after reopening = found %v, %v", found, err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("mark after reopening (-want +got):\n%s", diff)
	}
	m2 := m
	m2.Sequence, m2.Entry = 7, []byte("another")
	if err := st2.SetDirectoryMark(ctx, m2); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st2.DirectoryMark(ctx, "MX"); got.Sequence != 7 || string(got.Entry) != "another" {
		t.Errorf("mark after replacing = %+v", got)
	}
	if err := st2.SetDirectoryMark(ctx, store.DirectoryMark{State: "US"}); err == nil {
		t.Error("SetDirectoryMark(incomplete) succeeded")
	}
}
