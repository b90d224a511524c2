package backbone_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func TestDeliverToRecipientOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA", "BR")
	mx, ca, br := e.connect(t, "MX"), e.connect(t, "CA"), e.connect(t, "BR")
	caIn, brIn := make(chan backbone.Msg, 8), make(chan backbone.Msg, 8)
	consume(t, ca, collect(caIn))
	consume(t, br, collect(brIn))

	data := []byte("sealed bulletin")
	before := time.Now()
	ack := publish(t, mx, "CA", "01JBULLETIN0000000000000001", data)
	if ack.Stream != backbone.InboxStream || ack.Seq == 0 || ack.Duplicate {
		t.Fatalf("PublishInbox() = %+v, want a new copy in %s", ack, backbone.InboxStream)
	}
	m := next(t, caIn)
	want := backbone.Msg{
		Subject: "iant.inbox.CA.MX.01JBULLETIN0000000000000001", Recipient: "CA", Origin: "MX",
		ID: "01JBULLETIN0000000000000001", Data: data, StreamSeq: ack.Seq, NumDelivered: 1,
	}
	if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(backbone.Msg{}, "Published")); diff != "" {
		t.Errorf("delivered copy (-want +got):\n%s", diff)
	}
	if m.Published.Before(before.Add(-time.Second)) || m.Published.After(time.Now().Add(time.Second)) {
		t.Errorf("Published = %v, want between %v and now", m.Published, before)
	}
	// BR got nothing: its first delivery is the marker published after.
	publish(t, mx, "BR", "marker", nil)
	expectNext(t, brIn, "marker")
}

func TestDuplicatePublish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	first := publish(t, mx, "CA", "dup", []byte("one"))
	again := publish(t, mx, "CA", "dup", []byte("one"))
	if !again.Duplicate || again.Seq != first.Seq {
		t.Errorf("second PublishInbox() = %+v, want Duplicate of seq %d", again, first.Seq)
	}
	// The same id to another recipient is another copy.
	if other := publish(t, mx, "MX", "dup", nil); other.Duplicate {
		t.Errorf("PublishInbox(MX, dup) = %+v, want a new copy", other)
	}
	publish(t, mx, "CA", "marker", nil)
	in := make(chan backbone.Msg, 8)
	consume(t, ca, collect(in))
	expectNext(t, in, "dup", "marker")
}

func TestCatchUpAfterRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx := e.connect(t, "MX")

	ca := e.connect(t, "CA")
	in := make(chan backbone.Msg, 8)
	stop := consume(t, ca, collect(in))
	publish(t, mx, "CA", "before", nil)
	expectNext(t, in, "before")
	stop()
	if err := ca.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	var ids []string
	for i := range 5 {
		ids = append(ids, fmt.Sprintf("down%d", i))
		publish(t, mx, "CA", ids[i], nil)
	}
	ca = e.connect(t, "CA")
	in = make(chan backbone.Msg, 8)
	consume(t, ca, collect(in))
	got := expectNext(t, in, ids...)
	for i := 1; i < len(got); i++ {
		if got[i].StreamSeq <= got[i-1].StreamSeq {
			t.Errorf("seq %d after %d: out of stream order", got[i].StreamSeq, got[i-1].StreamSeq)
		}
	}
	publish(t, mx, "CA", "marker", nil)
	expectNext(t, in, "marker")
}

func TestServerRestartKeepsInbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx := e.connect(t, "MX")
	first := publish(t, mx, "CA", "kept", nil)
	if err := mx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.sec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}

	e.srv = backbonetest.StartServerConfig(t, e.cfg)
	mx = e.connect(t, "MX")
	if again := publish(t, mx, "CA", "kept", nil); !again.Duplicate || again.Seq != first.Seq {
		t.Errorf("PublishInbox after restart = %+v, want Duplicate of seq %d", again, first.Seq)
	}
	publish(t, mx, "CA", "after", nil)
	in := make(chan backbone.Msg, 8)
	consume(t, e.connect(t, "CA"), collect(in))
	expectNext(t, in, "kept", "after")
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	in := make(chan backbone.Msg, 8)
	consume(t, ca, func(ctx context.Context, m backbone.Msg) error {
		in <- m
		switch {
		case m.ID == "bad":
			return fmt.Errorf("%w: forged signature", backbone.ErrReject)
		case m.ID == "flaky" && m.NumDelivered == 1:
			return errors.New("store busy")
		}
		return nil
	})
	publish(t, mx, "CA", "bad", nil)
	publish(t, mx, "CA", "flaky", nil)
	publish(t, mx, "CA", "marker", nil)
	got := expectNext(t, in, "bad", "flaky", "flaky", "marker")
	for i, want := range []uint64{1, 1, 2, 1} {
		if got[i].NumDelivered != want {
			t.Errorf("delivery %d of %s: NumDelivered = %d, want %d", i, got[i].ID, got[i].NumDelivered, want)
		}
	}
	// Nothing is left pending or waiting for redelivery.
	info := consumerInfo(t, e, "CA")
	if info.NumAckPending != 0 || info.NumRedelivered != 0 || info.NumPending != 0 {
		t.Errorf("consumer info: ack pending %d, redelivered %d, pending %d; want all 0",
			info.NumAckPending, info.NumRedelivered, info.NumPending)
	}
}

func TestConsumeBeforeProvision(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	in := make(chan backbone.Msg, 8)
	consume(t, ca, collect(in))

	// A stream may be electing a leader, so the publish keeps trying for
	// a while before it concludes there is none.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := mx.PublishInbox(ctx, "CA", "MX", "early", nil); !errors.Is(err, backbone.ErrNotProvisioned) {
		t.Fatalf("PublishInbox before Provision = %v, want ErrNotProvisioned", err)
	}
	backbonetest.Provision(t, e.ca, e.srv, "MX", "CA")
	publish(t, mx, "CA", "late", nil)
	expectNext(t, in, "late")
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx := e.connect(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	nop := func(context.Context, backbone.Msg) error { return nil }
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"publish as other origin", func() error { _, err := mx.PublishInbox(ctx, "CA", "CA", "x", nil); return err }, backbone.ErrForbidden},
		{"publish to non-member", func() error { _, err := mx.PublishInbox(ctx, "XX", "MX", "x", nil); return err }, backbone.ErrInvalidSubject},
		{"publish id with dot", func() error { _, err := mx.PublishInbox(ctx, "CA", "MX", "a.b", nil); return err }, backbone.ErrInvalidSubject},
		{"publish wildcard id", func() error { _, err := mx.PublishInbox(ctx, "CA", "MX", ">", nil); return err }, backbone.ErrInvalidSubject},
		{"publish too large", func() error {
			_, err := mx.PublishInbox(ctx, "CA", "MX", "x", make([]byte, backbone.MaxDataSize+1))
			return err
		}, backbone.ErrTooLarge},
		{"state provisions", func() error { return mx.Provision(ctx, []string{"MX"}) }, backbone.ErrForbidden},
		{"secretariat publishes", func() error { _, err := e.sec.PublishInbox(ctx, "CA", "", "x", nil); return err }, backbone.ErrForbidden},
		{"secretariat consumes", func() error { return e.sec.ConsumeInbox(ctx, nop) }, backbone.ErrForbidden},
		{"provision non-member", func() error { return e.sec.Provision(ctx, []string{"XX"}) }, backbone.ErrInvalidSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	ca := e.connect(t, "CA")
	errc := make(chan error, 1)
	go func() {
		errc <- ca.ConsumeInbox(context.Background(), func(context.Context, backbone.Msg) error { return nil })
	}()
	// Close stops a running ConsumeInbox.
	for i := range 2 {
		if err := ca.Close(); err != nil {
			t.Fatalf("Close() #%d = %v", i+1, err)
		}
	}
	if err := <-errc; !errors.Is(err, backbone.ErrClosed) {
		t.Errorf("ConsumeInbox() after Close = %v, want ErrClosed", err)
	}
	ctx := context.Background()
	if _, err := ca.PublishInbox(ctx, "MX", "CA", "x", nil); !errors.Is(err, backbone.ErrClosed) {
		t.Errorf("PublishInbox() after Close = %v, want ErrClosed", err)
	}
	if err := ca.ConsumeInbox(ctx, func(context.Context, backbone.Msg) error { return nil }); !errors.Is(err, backbone.ErrClosed) {
		t.Errorf("ConsumeInbox() after Close = %v, want ErrClosed", err)
	}
	if err := e.sec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.sec.Provision(ctx, []string{"MX"}); !errors.Is(err, backbone.ErrClosed) {
		t.Errorf("Provision() after Close = %v, want ErrClosed", err)
	}
}

func TestStopWhileHandling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	started := make(chan struct{})
	stop := consume(t, ca, func(ctx context.Context, m backbone.Msg) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	publish(t, mx, "CA", "inflight", nil)
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("handler not called")
	}
	stop()
	// The copy was handed back, not left to time out after AckWait (30 s):
	// the next session gets it at once.
	in := make(chan backbone.Msg, 4)
	consume(t, ca, collect(in))
	if m := expectNext(t, in, "inflight")[0]; m.NumDelivered != 2 {
		t.Errorf("NumDelivered = %d, want 2", m.NumDelivered)
	}
}

func TestLargestCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	data := bytes.Repeat([]byte{0xA5}, backbone.MaxDataSize)
	publish(t, mx, "CA", "large", data)
	in := make(chan backbone.Msg, 1)
	consume(t, ca, collect(in))
	if m := expectNext(t, in, "large")[0]; !bytes.Equal(m.Data, data) {
		t.Errorf("delivered %d bytes, want the %d published", len(m.Data), len(data))
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	in := make(chan backbone.Msg, 4)
	consume(t, ca, collect(in))
	publish(t, mx, "CA", "before", nil)
	expectNext(t, in, "before")

	// Restart on the same port and store; the clients reconnect by themselves.
	url := e.srv.ClientURL()
	port, err := strconv.Atoi(url[strings.LastIndex(url, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Port = port
	e.srv = backbonetest.StartServerConfig(t, cfg)
	start := time.Now()
	publish(t, mx, "CA", "after", nil)
	expectNext(t, in, "after")
	t.Logf("delivered %v after restart", time.Since(start))
}

// TestBackboneDownFailsFast stops the only server: a publish answers
// ErrUnavailable, long before its deadline, and once the server is back
// the same client publishes again without being reconnected by hand.
func TestBackboneDownFailsFast(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	cfg := backbonetest.Config(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"), backbonetest.Node("CA"))
	cfg.Port = backbonetest.FreePorts(t, 1)[0] // the same URL after a restart
	srv := backbonetest.StartServerConfig(t, cfg)
	backbonetest.Provision(t, ca, srv, "MX", "CA")
	mx := backbonetest.Connect(t, ca, srv, backbonetest.Node("MX"))
	publish(t, mx, "CA", "before", nil)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := mx.PublishInbox(ctx, "CA", "MX", "during", nil)
	if !errors.Is(err, backbone.ErrUnavailable) {
		t.Fatalf("PublishInbox with the backbone down = %v, want ErrUnavailable", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("PublishInbox with the backbone down waited for its deadline")
	}

	backbonetest.StartServerConfig(t, cfg)
	deadline := time.Now().Add(wait)
	for {
		_, err := mx.PublishInbox(context.Background(), "CA", "MX", "after", nil)
		if err == nil {
			break
		}
		if !errors.Is(err, backbone.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("PublishInbox after the backbone came back = %v", err)
		}
	}
	in := make(chan backbone.Msg, 8)
	consume(t, backbonetest.Connect(t, ca, srv, backbonetest.Node("CA")), collect(in))
	expectNext(t, in, "before", "after")
}
