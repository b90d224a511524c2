package backbone_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait for something that should happen.
const wait = 10 * time.Second

// env is one backbone with a provisioned inbox per state.
type env struct {
	ca  *identitytest.CA
	cfg backbone.ServerConfig
	srv *backbone.Server
	sec *backbone.Client
}

// newEnv starts a server allowing the secretariat and one node per state,
// and provisions the states' inboxes.
func newEnv(t *testing.T, states ...string) *env {
	t.Helper()
	e := startEnv(t, states...)
	e.sec = backbonetest.Provision(t, e.ca, e.srv, states...)
	return e
}

// startEnv is newEnv without provisioning.
func startEnv(t *testing.T, states ...string) *env {
	t.Helper()
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{backbonetest.Secretariat}
	for _, s := range states {
		nodes = append(nodes, backbonetest.Node(s))
	}
	cfg := backbonetest.Config(t, ca, nodes...)
	return &env{ca: ca, cfg: cfg, srv: backbonetest.StartServerConfig(t, cfg)}
}

func (e *env) connect(t *testing.T, state string) *backbone.Client {
	t.Helper()
	return backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node(state))
}

// consume runs c.ConsumeInbox(h) in the background; the returned stop
// (also run by t.Cleanup) cancels it and checks it returned nil.
func consume(t *testing.T, c *backbone.Client, h backbone.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.ConsumeInbox(ctx, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("ConsumeInbox() = %v, want nil after cancel", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// collect is a handler that acks every copy and sends it to ch.
func collect(ch chan<- backbone.Msg) backbone.Handler {
	return func(ctx context.Context, m backbone.Msg) error {
		select {
		case ch <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// next returns the next delivered copy or fails the test.
func next(t *testing.T, ch <-chan backbone.Msg) backbone.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		t.Fatal("no message delivered within", wait)
		return backbone.Msg{}
	}
}

// expectNext checks that the next copies on ch have the given ids, in order.
func expectNext(t *testing.T, ch <-chan backbone.Msg, ids ...string) []backbone.Msg {
	t.Helper()
	var got []backbone.Msg
	for _, id := range ids {
		m := next(t, ch)
		if m.ID != id {
			t.Fatalf("delivered id %q (seq %d, delivery %d), want %q", m.ID, m.StreamSeq, m.NumDelivered, id)
		}
		got = append(got, m)
	}
	return got
}

func publish(t *testing.T, c *backbone.Client, recipient, id string, data []byte) backbone.PubAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ack, err := c.PublishInbox(ctx, recipient, c.Principal().State, id, data)
	if err != nil {
		t.Fatalf("PublishInbox(%s, %s) = %v", recipient, id, err)
	}
	return ack
}
