package statenode

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/store"
)

// TestReceiptOutboxPublishesRoundsAsBatches: a round's receipts go as one
// batch; a batch the backbone refuses is published receipt by receipt;
// every receipt is published once and marked.
func TestReceiptOutboxPublishesRoundsAsBatches(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queue := func(ids ...string) {
		t.Helper()
		rs := make([]store.Receipt, len(ids))
		for i, id := range ids {
			rs[i] = store.Receipt{ID: id, Event: []byte("receipt " + id)}
		}
		if _, err := st.QueueReceipts(t.Context(), rs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	batches, published := 0, map[string]string{} // id → how
	pub := receiptPublisher{
		one: func(_ context.Context, r store.Receipt) error {
			mu.Lock()
			defer mu.Unlock()
			published[r.ID] += "one "
			return nil
		},
		all: func(_ context.Context, rs []store.Receipt) error {
			mu.Lock()
			defer mu.Unlock()
			batches++
			if batches == 1 {
				return backbone.ErrBatchRefused
			}
			for _, r := range rs {
				published[r.ID] += "batch "
			}
			return nil
		},
	}
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	queue("a", "b", "c")
	wg.Go(func() { drainReceipts(ctx, st, wake, pub, time.Now, discardLogger()) })
	drained := func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			n, err := st.CountPendingReceipts(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d receipts still pending", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	drained()
	queue("d", "e")
	wakeUp(wake)
	drained()
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{"a": "one ", "b": "one ", "c": "one ", "d": "batch ", "e": "batch "}
	if fmt.Sprint(published) != fmt.Sprint(want) {
		t.Errorf("published = %v, want %v", published, want)
	}
}
