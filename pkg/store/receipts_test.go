package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/store"
)

func pendingIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	rs, err := st.PendingReceipts(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestReceiptsAreQueuedOncePerID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	if n, err := st.QueueReceipts(ctx, []store.Receipt{{ID: "a", Event: []byte("A")}, {ID: "b", Event: []byte("B")}}, t0); err != nil || n != 2 {
		t.Fatalf("QueueReceipts(a, b) = %d, %v; want 2", n, err)
	}
	if err := st.MarkReceiptsSent(ctx, []string{"a"}, t0); err != nil {
		t.Fatal(err)
	}
	// a was published: it is remembered, not queued again.
	if n, err := st.QueueReceipts(ctx, []store.Receipt{{ID: "a", Event: []byte("A")}, {ID: "c", Event: []byte("C")}}, t0); err != nil || n != 1 {
		t.Errorf("QueueReceipts(a again, c) = %d, %v; want 1", n, err)
	}
	if diff := cmp.Diff([]string{"b", "c"}, pendingIDs(t, st)); diff != "" {
		t.Errorf("pending receipts (-want +got):\n%s", diff)
	}
	if n, err := st.CountPendingReceipts(ctx); err != nil || n != 2 {
		t.Errorf("CountPendingReceipts() = %d, %v; want 2", n, err)
	}
}

func TestPutWithReceiptsStoresBothOrNeither(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JDELIVERED")
	bad := []store.Receipt{{ID: "delivered", Event: []byte("D")}, {ID: "broken", Event: nil}}
	if _, _, err := st.PutWithReceipts(ctx, b, store.Received, t0, bad); err == nil {
		t.Fatal("PutWithReceipts(a broken receipt) = nil error")
	}
	if _, err := st.Get(ctx, "", b.ID); err == nil {
		t.Error("the bulletin was stored although its receipt failed")
	}
	if ok, err := st.HasReceipt(ctx, "delivered"); err != nil || ok {
		t.Errorf("HasReceipt(delivered) = %v, %v after a failed put; want false", ok, err)
	}
	good := []store.Receipt{{ID: "delivered", Event: []byte("D")}}
	if _, inserted, err := st.PutWithReceipts(ctx, b, store.Received, t0, good); err != nil || !inserted {
		t.Fatalf("PutWithReceipts = %v, %v; want inserted", inserted, err)
	}
	if diff := cmp.Diff([]string{"delivered"}, pendingIDs(t, st)); diff != "" {
		t.Errorf("pending receipts (-want +got):\n%s", diff)
	}
}

// TestImportReceiptsFromTheOldOutbox takes over a receipt outbox kept in
// its own file by earlier versions: pending receipts stay pending, sent
// ones stay remembered, and importing twice adds nothing.
func TestImportReceiptsFromTheOldOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	if _, err := st.QueueReceipts(ctx, []store.Receipt{{ID: "known", Event: []byte("K")}}, t0); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "outbox.db")
	raw, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE receipts (id TEXT PRIMARY KEY, event BLOB, queued_at INTEGER NOT NULL, sent_at INTEGER) STRICT, WITHOUT ROWID`,
		`INSERT INTO receipts VALUES ('pending', x'50', 1, NULL), ('sent', NULL, 2, 3), ('known', x'4b', 4, NULL)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	if n, err := st.ImportReceipts(ctx, old); err != nil || n != 2 {
		t.Fatalf("ImportReceipts() = %d, %v; want 2", n, err)
	}
	if n, err := st.ImportReceipts(ctx, old); err != nil || n != 0 {
		t.Errorf("ImportReceipts() again = %d, %v; want 0", n, err)
	}
	if diff := cmp.Diff([]string{"pending", "known"}, pendingIDs(t, st)); diff != "" {
		t.Errorf("pending receipts (-want +got):\n%s", diff)
	}
	if ok, err := st.HasReceipt(ctx, "sent"); err != nil || !ok {
		t.Errorf("HasReceipt(sent) = %v, %v; want true", ok, err)
	}
	// The store still works after the old file was detached.
	if _, err := st.QueueReceipts(ctx, []store.Receipt{{ID: "after", Event: []byte("A")}}, t0); err != nil {
		t.Error(err)
	}
}
