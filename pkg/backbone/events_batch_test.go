package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

// eventsOf is n receipts with ids prefix0..prefix<n-1>.
func eventsOf(prefix string, n int) []backbone.EventData {
	out := make([]backbone.EventData, n)
	for i := range out {
		id := fmt.Sprintf("%s%d", prefix, i)
		out[i] = backbone.EventData{ID: id, Data: []byte("receipt " + id)}
	}
	return out
}

// TestPublishEventBatch publishes receipts as one atomic batch: the
// secretariat reads each once, in order, under the publisher's scope; a
// batch published again is stored again (the log de-duplicates, not the
// backbone); bad ids and oversized batches are refused before anything is
// sent; a batch of one is a plain publish.
func TestPublishEventBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	mx := e.connect(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if !mx.EventBatchEnabled() {
		t.Fatal("EventBatchEnabled() = false on a fresh client")
	}
	batch := eventsOf("ev", 5)
	acks, err := mx.PublishEventBatch(ctx, batch)
	if err != nil || len(acks) != 5 {
		t.Fatalf("PublishEventBatch() = %v, %v", acks, err)
	}
	for i := 1; i < len(acks); i++ {
		if acks[i].Stream != backbone.EventStream || acks[i].Seq != acks[i-1].Seq+1 {
			t.Errorf("acks = %+v, want consecutive sequences on %s", acks, backbone.EventStream)
		}
	}
	again, err := mx.PublishEventBatch(ctx, batch)
	if err != nil || again[0].Seq <= acks[4].Seq {
		t.Errorf("PublishEventBatch() again = %+v, %v; want stored again after the first", again, err)
	}
	if _, err := mx.PublishEventBatch(ctx, eventsOf("one", 1)); err != nil {
		t.Errorf("PublishEventBatch(one receipt) = %v", err)
	}
	bad := eventsOf("bad", 3)
	bad[1].ID = "bad.id"
	if _, err := mx.PublishEventBatch(ctx, bad); !errors.Is(err, backbone.ErrInvalidSubject) {
		t.Errorf("PublishEventBatch(bad id) = %v, want ErrInvalidSubject", err)
	}
	if _, err := mx.PublishEventBatch(ctx, eventsOf("big", backbone.MaxEventBatchPublish+1)); !errors.Is(err, backbone.ErrTooLarge) {
		t.Errorf("PublishEventBatch(too many) = %v, want ErrTooLarge", err)
	}

	got := readEvents(t, e, 11)
	var want []string
	for range 2 {
		for i := range 5 {
			want = append(want, "MX/ev"+strconv.Itoa(i))
		}
	}
	want = append(want, "MX/one0")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("receipts read = %v, want %v", got, want)
	}
}

// TestEventBatchOnlyOwnScope: a state node that slips a receipt under
// another state's scope into its batch stores none of the batch (the
// server drops the message it may not publish, and the batch, missing a
// sequence, is not committed).
func TestEventBatchOnlyOwnScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	p := dialProbe(t, e, backbonetest.Node("MX"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	subjects := []string{"iant.event.MX.a", "iant.event.CA.b", "iant.event.MX.c"}
	var err error
	for i, s := range subjects {
		m := nats.NewMsg(s)
		m.Data = []byte("forged")
		m.Header.Set("Nats-Batch-Id", "hostile")
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		switch i {
		case 0:
			_, err = p.nc.RequestMsgWithContext(ctx, m)
		case len(subjects) - 1:
			m.Header.Set("Nats-Batch-Commit", "1")
			var r *nats.Msg
			r, err = p.nc.RequestMsgWithContext(ctx, m)
			if err == nil && !strings.Contains(string(r.Data), "error") {
				t.Errorf("commit of a batch with another's receipt answered %s, want an error", r.Data)
			}
		default:
			err = p.nc.PublishMsg(m)
		}
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	// MX's own later receipt is the first the secretariat reads.
	mx := e.connect(t, "MX")
	if _, err := mx.PublishEvent(ctx, "after", []byte("receipt")); err != nil {
		t.Fatal(err)
	}
	if got := readEvents(t, e, 1); fmt.Sprint(got) != "[MX/after]" {
		t.Errorf("receipts read = %v, want [MX/after]", got)
	}
}

// readEvents reads n receipts as the secretariat, as origin/id.
func readEvents(t *testing.T, e *env, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var mu sync.Mutex
	var got []string
	errc := make(chan error, 1)
	go func() {
		errc <- e.sec.ConsumeEventBatches(ctx, func(_ context.Context, ms []backbone.Msg) []error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				got = append(got, m.Origin+"/"+m.ID)
			}
			if len(got) >= n {
				cancel()
			}
			return make([]error, len(ms))
		})
	}()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	if len(got) < n {
		t.Fatalf("read %d receipts %v within the deadline, want %d", len(got), got, n)
	}
	return got
}
