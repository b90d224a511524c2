package backbone_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

// consumeEvents runs c.ConsumeEvents(h) in the background until the test
// ends.
func consumeEvents(t *testing.T, c *backbone.Client, h backbone.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.ConsumeEvents(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("ConsumeEvents() = %v, want nil after cancel", err)
		}
	})
}

func TestPublishAndConsumeEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	first, err := mx.PublishEvent(ctx, "ev1", []byte("receipt 1"))
	if err != nil || first.Stream != backbone.EventStream || first.Duplicate {
		t.Fatalf("PublishEvent(ev1) = %+v, %v", first, err)
	}
	// No de-duplication by id on the backbone (the log de-duplicates).
	again, err := mx.PublishEvent(ctx, "ev1", []byte("receipt 1"))
	if err != nil || again.Duplicate || again.Seq == first.Seq {
		t.Errorf("PublishEvent(ev1) again = %+v, %v; want stored again", again, err)
	}
	if _, err := ca.PublishEvent(ctx, "ev2", []byte("receipt 2")); err != nil {
		t.Fatal(err)
	}
	// Another node cannot pre-empt MX's next receipt by publishing first
	// with its (predictable) id as Nats-Msg-Id.
	pre := nats.NewMsg("iant.event.CA.ev3")
	pre.Header.Set(jetstream.MsgIDHeader, "ev3")
	if _, err := dialProbe(t, e, backbonetest.Node("CA")).js.PublishMsg(ctx, pre); err != nil {
		t.Fatal(err)
	}
	if own, err := mx.PublishEvent(ctx, "ev3", []byte("receipt 3")); err != nil || own.Duplicate {
		t.Errorf("MX PublishEvent(ev3) after CA's = %+v, %v; want stored, not a duplicate", own, err)
	}
	if _, err := mx.PublishEvent(ctx, "bad.id", nil); !errors.Is(err, backbone.ErrInvalidSubject) {
		t.Errorf("PublishEvent(bad.id) = %v, want ErrInvalidSubject", err)
	}
	if _, err := mx.PublishEvent(ctx, "big", make([]byte, backbone.MaxEventSize+1)); !errors.Is(err, backbone.ErrTooLarge) {
		t.Errorf("PublishEvent(too large) = %v, want ErrTooLarge", err)
	}
	if err := mx.ConsumeEvents(ctx, collect(make(chan backbone.Msg))); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("state node ConsumeEvents() = %v, want ErrForbidden", err)
	}

	in := make(chan backbone.Msg, 8)
	consumeEvents(t, e.sec, collect(in))
	got := map[string]backbone.Msg{}
	for range 5 {
		m := next(t, in)
		got[m.Origin+"/"+m.ID] = m
	}
	if m := got["MX/ev3"]; string(m.Data) != "receipt 3" {
		t.Errorf("MX's ev3 delivered as %+v", m)
	}
	if m := got["MX/ev1"]; m.Origin != "MX" || string(m.Data) != "receipt 1" || m.Subject != backbone.EventSubject("MX", "ev1") || m.Recipient != "" {
		t.Errorf("ev1 delivered as %+v", m)
	}
	if m := got["CA/ev2"]; m.Origin != "CA" {
		t.Errorf("ev2 delivered as %+v, want origin CA", m)
	}
	select {
	case m := <-in:
		t.Errorf("extra receipt delivered: %+v", m)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestEventPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx := dialProbe(t, e, backbonetest.Node("MX"))
	events := "$JS.API.STREAM.MSG.GET." + backbone.EventStream
	tests := []struct {
		name    string
		subject string
		op      func(context.Context) error
	}{
		{"publish CA's receipt", "iant.event.CA.x", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.event.CA.x", nil)
			return err
		}},
		{"publish as the secretariat", "iant.event.SECRETARIAT.x", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.event.SECRETARIAT.x", nil)
			return err
		}},
		{"look up the events stream", "$JS.API.STREAM.INFO.IANT_EVENTS", func(ctx context.Context) error {
			_, err := mx.js.Stream(ctx, backbone.EventStream)
			return err
		}},
		{"read a receipt", events, request(mx, events, `{"seq":1}`)},
		{"direct get a receipt", "$JS.API.DIRECT.GET.IANT_EVENTS", request(mx, "$JS.API.DIRECT.GET.IANT_EVENTS", `{"seq":1}`)},
		{"pull the audit consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_EVENTS.audit",
			request(mx, "$JS.API.CONSUMER.MSG.NEXT.IANT_EVENTS.audit", `{"batch":1,"expires":5000000000}`)},
		{"create a consumer", "$JS.API.CONSUMER.CREATE.IANT_EVENTS.steal.iant.event.>", func(ctx context.Context) error {
			_, err := mx.js.CreateOrUpdateConsumer(ctx, backbone.EventStream, jetstream.ConsumerConfig{Durable: "steal", FilterSubject: "iant.event.>"})
			return err
		}},
		{"delete the stream", "$JS.API.STREAM.DELETE.IANT_EVENTS", request(mx, "$JS.API.STREAM.DELETE.IANT_EVENTS", "")},
		{"purge the stream", "$JS.API.STREAM.PURGE.IANT_EVENTS", request(mx, "$JS.API.STREAM.PURGE.IANT_EVENTS", "{}")},
		{"subscribe to receipts", "iant.event.>", subscribe(mx, "iant.event.>")},
		{"publish a checkpoint", "iant.checkpoint", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.checkpoint", nil)
			return err
		}},
		{"purge the checkpoints", "$JS.API.STREAM.PURGE.IANT_CHECKPOINTS", request(mx, "$JS.API.STREAM.PURGE.IANT_CHECKPOINTS", "{}")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mx.denied(t, tt.subject, tt.op) })
	}

	sec := dialProbe(t, e, backbonetest.Secretariat)
	sec.denied(t, "$JS.API.STREAM.DELETE.IANT_EVENTS", request(sec, "$JS.API.STREAM.DELETE.IANT_EVENTS", ""))
	sec.denied(t, "$JS.API.STREAM.PURGE.IANT_EVENTS", request(sec, "$JS.API.STREAM.PURGE.IANT_EVENTS", "{}"))
	sec.denied(t, "$JS.API.STREAM.PURGE.IANT_CHECKPOINTS", request(sec, "$JS.API.STREAM.PURGE.IANT_CHECKPOINTS", "{}"))
	sec.denied(t, "iant.event.MX.x", request(sec, "iant.event.MX.x", ""))
}

func TestEventStreamConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	sec := dialProbe(t, e, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := sec.js.Stream(ctx, backbone.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.CachedInfo().Config
	if sc.Storage != jetstream.FileStorage || sc.Duplicates != 24*time.Hour || !sc.DenyDelete || !sc.DenyPurge ||
		len(sc.Subjects) != 1 || sc.Subjects[0] != "iant.event.>" {
		t.Errorf("event stream config = %+v", sc)
	}
	c, err := sec.js.Consumer(ctx, backbone.EventStream, backbone.EventConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if cc := c.CachedInfo().Config; cc.Durable != "audit" || cc.AckPolicy != jetstream.AckExplicitPolicy || cc.DeliverPolicy != jetstream.DeliverAllPolicy {
		t.Errorf("audit consumer config = %+v", cc)
	}
	cs, err := sec.js.Stream(ctx, backbone.CheckpointStream)
	if err != nil {
		t.Fatal(err)
	}
	if cc := cs.CachedInfo().Config; !cc.AllowDirect || !cc.DenyDelete || !cc.DenyPurge || cc.Storage != jetstream.FileStorage {
		t.Errorf("checkpoint stream config = %+v", cc)
	}
}

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	mx := e.connect(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, _, err := mx.LatestCheckpoint(ctx); !errors.Is(err, backbone.ErrNoCheckpoint) {
		t.Errorf("LatestCheckpoint() before any = %v, want ErrNoCheckpoint", err)
	}
	if _, err := mx.PublishCheckpoint(ctx, []byte("cp")); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("state node PublishCheckpoint() = %v, want ErrForbidden", err)
	}
	s1, err := e.sec.PublishCheckpoint(ctx, []byte("cp1"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := e.sec.PublishCheckpoint(ctx, []byte("cp2"))
	if err != nil {
		t.Fatal(err)
	}
	seq, data, err := mx.LatestCheckpoint(ctx)
	if err != nil || seq != s2 || string(data) != "cp2" {
		t.Errorf("LatestCheckpoint() = %d, %q, %v; want %d, cp2", seq, data, err, s2)
	}
	if data, err := mx.CheckpointAt(ctx, s1); err != nil || string(data) != "cp1" {
		t.Errorf("CheckpointAt(%d) = %q, %v; want cp1", s1, data, err)
	}
	if _, err := mx.CheckpointAt(ctx, s2+5); !errors.Is(err, backbone.ErrNoCheckpoint) {
		t.Errorf("CheckpointAt(past the end) = %v, want ErrNoCheckpoint", err)
	}
}
