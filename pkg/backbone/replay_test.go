package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

// replayIDs replays c's inbox up to upTo and returns the ids handed over.
func replayIDs(t *testing.T, c *backbone.Client, upTo uint64) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var ids []string
	n, err := c.ReplayInbox(ctx, upTo, func(_ context.Context, m backbone.Msg) error {
		ids = append(ids, m.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("ReplayInbox(%d) = %v", upTo, err)
	}
	if n != len(ids) {
		t.Errorf("ReplayInbox(%d) = %d, handed %d", upTo, n, len(ids))
	}
	return ids
}

func ackFloor(t *testing.T, c *backbone.Client) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	floor, err := c.InboxAckFloor(ctx)
	if err != nil {
		t.Fatalf("InboxAckFloor() = %v", err)
	}
	return floor
}

func TestReplayInbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "US", "CA")
	us, mx := e.connect(t, "US"), e.connect(t, "MX")
	if got := ackFloor(t, mx); got != 0 {
		t.Errorf("InboxAckFloor() before any delivery = %d, want 0", got)
	}
	// MX's copies interleaved with CA's, which MX must never see.
	var want []string
	for i := range 100 {
		id := fmt.Sprintf("b%03d", i)
		publish(t, us, "MX", id, []byte(id))
		publish(t, us, "CA", "ca"+id, nil)
		want = append(want, id)
	}
	in := make(chan backbone.Msg, len(want))
	stop := consume(t, mx, collect(in))
	got := expectNext(t, in, want...)
	stop()
	floor := ackFloor(t, mx)
	if last := got[len(got)-1].StreamSeq; floor < last {
		t.Fatalf("InboxAckFloor() = %d, below the last handled copy's sequence %d", floor, last)
	}
	later := publish(t, us, "MX", "later", nil) // after the floor: not the replay's

	for round := range 2 { // a second replay starts from the start again
		ids := replayIDs(t, mx, floor)
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("replay %d handed %d copies %v, want %d in stream order", round, len(ids), ids, len(want))
		}
	}
	if ids := replayIDs(t, mx, later.Seq); len(ids) != len(want)+1 || ids[len(ids)-1] != "later" {
		t.Errorf("replay up to the later copy handed %v", ids)
	}
	// The inbox consumer was left where it was: it delivers only the
	// later copy, for the first time.
	consume(t, mx, collect(in))
	if m := expectNext(t, in, "later")[0]; m.NumDelivered != 1 {
		t.Errorf("later copy NumDelivered = %d, want 1", m.NumDelivered)
	}
	t.Logf("replayed %d copies up to seq %d; CA's %d copies never handed to MX", len(want), floor, len(want))
}

func TestReplayInboxHandlerErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "US")
	us, mx := e.connect(t, "US"), e.connect(t, "MX")
	var last backbone.PubAck
	for i := range 10 {
		last = publish(t, us, "MX", fmt.Sprintf("b%d", i), nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	// A rejected copy counts as handled; a transient error stops the
	// replay, and the next replay hands everything again.
	errBusy := errors.New("store busy")
	seen := 0
	n, err := mx.ReplayInbox(ctx, last.Seq, func(_ context.Context, m backbone.Msg) error {
		seen++
		switch m.ID {
		case "b2":
			return fmt.Errorf("%w: forged", backbone.ErrReject)
		case "b5":
			return errBusy
		}
		return nil
	})
	if !errors.Is(err, errBusy) || n != 6 || seen != 6 {
		t.Errorf("ReplayInbox() = %d, %v after %d copies; want 6, %v", n, err, seen, errBusy)
	}
	if ids := replayIDs(t, mx, last.Seq); len(ids) != 10 {
		t.Errorf("replay after a failed one handed %v, want all 10", ids)
	}
	if n, err := mx.ReplayInbox(ctx, 0, func(context.Context, backbone.Msg) error { return nil }); n != 0 || err != nil {
		t.Errorf("ReplayInbox(0) = %d, %v; want nothing", n, err)
	}
	sec := e.sec
	if _, err := sec.ReplayInbox(ctx, 1, func(context.Context, backbone.Msg) error { return nil }); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("secretariat ReplayInbox() = %v, want ErrForbidden", err)
	}
	if _, err := sec.InboxAckFloor(ctx); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("secretariat InboxAckFloor() = %v, want ErrForbidden", err)
	}
}

func TestReplayNotProvisioned(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "MX")
	mx := e.connect(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := mx.InboxAckFloor(ctx); !errors.Is(err, backbone.ErrNotProvisioned) {
		t.Errorf("InboxAckFloor() = %v, want ErrNotProvisioned", err)
	}
	if _, err := mx.ReplayInbox(ctx, 5, func(context.Context, backbone.Msg) error { return nil }); !errors.Is(err, backbone.ErrNotProvisioned) {
		t.Errorf("ReplayInbox() = %v, want ErrNotProvisioned", err)
	}
}

// TestReplayPermissions checks at the server that a state node can reset
// and read only its own replay consumer and still create no consumer at
// all, not even its replay consumer over its own inbox.
func TestReplayPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "US")
	mx := dialProbe(t, e, backbonetest.Node("MX"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := mx.js.ResetConsumerToSequence(ctx, backbone.InboxStream, "replay-MX", 1); err != nil {
		t.Fatalf("MX reset replay-MX = %v, want allowed", err)
	}

	create := func(name, filter string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := mx.js.CreateOrUpdateConsumer(ctx, backbone.InboxStream, jetstream.ConsumerConfig{Durable: name, FilterSubject: filter})
			return err
		}
	}
	reset := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := mx.js.ResetConsumerToSequence(ctx, backbone.InboxStream, name, 1)
			return err
		}
	}
	const api = "$JS.API.CONSUMER."
	tests := []struct {
		name    string
		subject string
		op      func(context.Context) error
	}{
		{"create replay-MX over own inbox", api + "CREATE.IANT_INBOX.replay-MX.iant.inbox.MX.>", create("replay-MX", "iant.inbox.MX.>")},
		{"create replay-MX over US's inbox", api + "CREATE.IANT_INBOX.replay-MX.iant.inbox.US.>", create("replay-MX", "iant.inbox.US.>")},
		{"create replay-MX over every inbox", api + "CREATE.IANT_INBOX.replay-MX.iant.inbox.>", create("replay-MX", "iant.inbox.>")},
		{"create another name over own inbox", api + "CREATE.IANT_INBOX.mine.iant.inbox.MX.>", create("mine", "iant.inbox.MX.>")},
		{"create replay-US", api + "CREATE.IANT_INBOX.replay-US.iant.inbox.US.>", create("replay-US", "iant.inbox.US.>")},
		{"create without filter", api + "CREATE.IANT_INBOX.replay-MX", create("replay-MX", "")},
		{"reset US's replay consumer", api + "RESET.IANT_INBOX.replay-US", reset("replay-US")},
		{"reset own inbox consumer", api + "RESET.IANT_INBOX.inbox-MX", reset("inbox-MX")},
		{"look up US's replay consumer", api + "INFO.IANT_INBOX.replay-US", func(ctx context.Context) error {
			_, err := mx.js.Consumer(ctx, backbone.InboxStream, "replay-US")
			return err
		}},
		{"pull US's replay consumer", api + "MSG.NEXT.IANT_INBOX.replay-US", request(mx, api+"MSG.NEXT.IANT_INBOX.replay-US", `{"batch":1,"expires":5000000000}`)},
		{"ack on US's replay consumer", "$JS.ACK.IANT_INBOX.replay-US.1.1.1.0.0", request(mx, "$JS.ACK.IANT_INBOX.replay-US.1.1.1.0.0", "+ACK")},
		{"delete own replay consumer", api + "DELETE.IANT_INBOX.replay-MX", func(ctx context.Context) error {
			return mx.js.DeleteConsumer(ctx, backbone.InboxStream, "replay-MX")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mx.denied(t, tt.subject, tt.op) })
	}
}
