package backbone_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

// TestForgedMsgIDDoesNotSuppressACopy has US, holding its genuine SVID,
// publish to CA's inbox under its own origin first, with the Nats-Msg-Id
// headers MX's copy of the same bulletin id could be expected to carry
// (the old "<recipient>/<id>", and "<recipient>/<origin>/<id>"): the
// stream de-duplicates by that header across subjects, yet MX's genuine
// copy is stored as new, and CA receives it after US's.
func TestForgedMsgIDDoesNotSuppressACopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA", "US")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	us := backbonetest.Node("US")
	raw, err := backbonetest.DialNATS(t, e.ca, e.srv, e.ca.SVID(t, us), "US")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(raw)
	if err != nil {
		t.Fatal(err)
	}
	const id = "01JTARGETED"
	for _, forged := range []string{"CA/" + id, "CA/MX/" + id} {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		m := &nats.Msg{Subject: backbone.InboxSubject("CA", "US", id), Header: nats.Header{}, Data: []byte("squat")}
		m.Header.Set(jetstream.MsgIDHeader, forged)
		ack, err := js.PublishMsg(ctx, m)
		cancel()
		if err != nil || ack.Duplicate {
			t.Fatalf("US's publish with Nats-Msg-Id %q = %+v, %v; want stored", forged, ack, err)
		}
	}
	genuine := publish(t, mx, "CA", id, []byte("MX's sealed copy"))
	if genuine.Duplicate {
		t.Fatalf("MX's copy = %+v: suppressed as a duplicate of US's", genuine)
	}
	if again := publish(t, mx, "CA", id, []byte("MX's sealed copy")); !again.Duplicate || again.Seq != genuine.Seq {
		t.Errorf("MX's retry = %+v, want a duplicate of seq %d", again, genuine.Seq)
	}
	got := make(chan backbone.Msg, 8)
	consume(t, ca, collect(got))
	for _, want := range []string{"US", "US", "MX"} {
		if m := next(t, got); m.ID != id || m.Origin != want {
			t.Errorf("CA received %s from %s, want %s from %s", m.ID, m.Origin, id, want)
		}
	}
}
