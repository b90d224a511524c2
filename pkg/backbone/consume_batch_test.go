package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
)

// TestConsumeEventBatches checks that a batch handler sees every receipt,
// and that each result settles its own receipt: nil acks it, ErrReject
// terminates it, another error has it redelivered.
func TestConsumeEventBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	mx := e.connect(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := mx.ConsumeEventBatches(ctx, func(context.Context, []backbone.Msg) []error { return nil }); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("state node ConsumeEventBatches() = %v, want ErrForbidden", err)
	}
	for i := range 5 {
		if _, err := mx.PublishEvent(ctx, fmt.Sprintf("ev%d", i), []byte("receipt")); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	seen := map[string][]uint64{} // deliveries (NumDelivered) by id
	done := make(chan struct{})
	h := func(_ context.Context, ms []backbone.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		out := make([]error, len(ms))
		for i, m := range ms {
			seen[m.ID] = append(seen[m.ID], m.NumDelivered)
			switch {
			case m.ID == "ev2":
				out[i] = fmt.Errorf("%w: bad receipt", backbone.ErrReject)
			case m.ID == "ev4" && m.NumDelivered == 1:
				out[i] = errors.New("log busy")
			case m.ID == "ev4":
				close(done)
			}
		}
		return out
	}
	cctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.sec.ConsumeEventBatches(cctx, h) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("ev4 was not redelivered after a failure")
	}
	time.Sleep(200 * time.Millisecond) // room for a wrong redelivery to show
	stop()
	if err := <-errc; err != nil {
		t.Errorf("ConsumeEventBatches() = %v, want nil after cancel", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 4 {
		id := fmt.Sprintf("ev%d", i)
		if got := seen[id]; len(got) != 1 {
			t.Errorf("%s delivered %v times, want once", id, got)
		}
	}
	if got := seen["ev4"]; len(got) != 2 || got[1] != 2 {
		t.Errorf("ev4 deliveries = %v, want [1 2]", got)
	}
}
