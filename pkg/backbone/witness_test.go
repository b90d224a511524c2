package backbone_test

import (
	"context"
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

// serveProofs runs ServeProofs with a handler that answers "<state>:<request>"
// until the test ends.
func serveProofs(t *testing.T, sec *backbone.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		close(ready)
		errc <- sec.ServeProofs(ctx, func(_ context.Context, state string, req []byte) []byte {
			return append([]byte(state+":"), req...)
		})
	}()
	<-ready
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("ServeProofs() = %v, want nil after cancel", err)
		}
	})
}

// requestProof asks until the secretariat's subscription is in place (the
// first request may come before it), then returns the reply.
func requestProof(t *testing.T, c *backbone.Client, req string) string {
	t.Helper()
	var reply []byte
	waitFor(t, "a proof reply", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		var err error
		reply, err = c.RequestProof(ctx, []byte(req))
		if err != nil && !errors.Is(err, backbone.ErrUnavailable) {
			t.Fatalf("RequestProof() = %v", err)
		}
		return err == nil
	})
	return string(reply)
}

func TestProofRequestsAndWitnessedCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := mx.RequestProof(ctx, []byte("early")); !errors.Is(err, backbone.ErrUnavailable) {
		t.Errorf("RequestProof(no secretariat serving) = %v, want ErrUnavailable", err)
	}
	serveProofs(t, e.sec)
	if got := requestProof(t, mx, "0-7"); got != "MX:0-7" {
		t.Errorf("MX's proof reply = %q, want the secretariat to see MX", got)
	}
	if got := requestProof(t, ca, "3-9"); got != "CA:3-9" {
		t.Errorf("CA's proof reply = %q, want the secretariat to see CA", got)
	}
	if err := mx.PublishWitnessed(ctx, []byte("mx saw 7")); err != nil {
		t.Fatal(err)
	}
	if err := mx.PublishWitnessed(ctx, []byte("mx saw 9")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*backbone.Client{ca, e.sec} {
		if got, err := c.Witnessed(ctx, "MX"); err != nil || string(got) != "mx saw 9" {
			t.Errorf("%s: Witnessed(MX) = %q, %v; want the last one", c.Principal(), got, err)
		}
	}
	if _, err := ca.Witnessed(ctx, "CA"); !errors.Is(err, backbone.ErrNoWitness) {
		t.Errorf("Witnessed(CA, none yet) = %v, want ErrNoWitness", err)
	}
	if err := e.sec.PublishWitnessed(ctx, []byte("x")); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("secretariat PublishWitnessed = %v, want ErrForbidden", err)
	}
	if err := mx.ServeProofs(ctx, func(context.Context, string, []byte) []byte { return nil }); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("MX ServeProofs = %v, want ErrForbidden", err)
	}
}

// TestWitnessBehindALeafNode asks for proofs and publishes a witnessed
// checkpoint from a node behind its leaf node.
func TestWitnessBehindALeafNode(t *testing.T) {
	t.Parallel()
	e := newLeafEnv(t, "MX", "CA")
	sec := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Secretariat)
	serveProofs(t, sec)
	if got := requestProof(t, e.mx, "1-2"); got != "MX:1-2" {
		t.Errorf("proof reply through the leaf = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := e.mx.PublishWitnessed(ctx, []byte("behind a leaf")); err != nil {
		t.Fatal(err)
	}
	if got, err := sec.Witnessed(ctx, "MX"); err != nil || string(got) != "behind a leaf" {
		t.Errorf("Witnessed(MX) = %q, %v", got, err)
	}
}
