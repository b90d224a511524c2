package statenode_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestAdmissionRefusesWhenBehind: the backbone takes MX's copies for CA
// but not its copies for US (refused in front of the real one), so MX's
// outbox falls behind on MX's clock while the backbone
// still takes copies. Once it is more than Admission.Lag behind, a
// ROUTINE post is refused at once with ResourceExhausted, a retry hint
// and nothing committed, while FLASH posts are still taken; past eight
// times the lag FLASH is refused too. Once the copies go out, ROUTINE
// posts are taken again.
func TestAdmissionRefusesWhenBehind(t *testing.T) {
	t.Parallel()
	// MX's clock stands still at base, moved on by offset alone: how far
	// behind MX is must not depend on how long the machine takes between
	// two posts.
	var offset atomic.Int64
	base := time.Now()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "CA"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "MX" {
			c.Admission = statenode.AdmissionConfig{Lag: 500 * time.Millisecond}
			c.PostWait = 50 * time.Millisecond
			c.Now = func() time.Time { return base.Add(time.Duration(offset.Load())) }
		}
	}})
	var held atomic.Bool
	held.Store(true)
	statenode.WrapPublish(nw.Node("MX"), func(real statenode.PublishCopy) statenode.PublishCopy {
		return func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error) {
			if recipient == "US" && held.Load() {
				return backbone.PubAck{}, fmt.Errorf("%w: injected", backbone.ErrUnavailable)
			}
			return real(ctx, recipient, origin, id, data)
		}
	})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(title string, p iantv1.Precedence, to string) error {
		d := nettest.Draft(title, to)
		d.Precedence = p
		_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: d})
		return err
	}
	routine, flash := iantv1.Precedence_PRECEDENCE_ROUTINE, iantv1.Precedence_PRECEDENCE_FLASH
	if err := post("first", flash, "US"); err != nil {
		t.Fatalf("first post = %v", err)
	}
	pending := func() int {
		st, err := nw.Node("MX").Outbox(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.Pending
	}
	// The backbone takes a copy for CA now, on MX's clock: it is up.
	taken := func() {
		if err := post("to CA", flash, "CA"); err != nil {
			t.Fatalf("post to CA = %v", err)
		}
		waitOutboxPending(t, nw, "MX", 1) // only the held copy for US
	}

	offset.Store(int64(time.Second)) // the copy for US has waited 1s: twice the lag
	taken()
	before := pending()
	err := post("routine while behind", routine, "CA")
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "ROUTINE") {
		t.Fatalf("ROUTINE post while 1s behind = %v, want ResourceExhausted naming ROUTINE", err)
	}
	var retry time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri.GetRetryDelay().AsDuration()
		}
	}
	if retry <= 0 || retry > 30*time.Second {
		t.Errorf("refusal's retry hint = %v, want one between 0 and 30s", retry)
	}
	if got := pending(); got != before {
		t.Errorf("refused post: outbox holds %d copies, held %d before; want nothing committed", got, before)
	}
	if err := post("flash while behind", flash, "CA"); err != nil {
		t.Errorf("FLASH post while 1s behind (ROUTINE refused) = %v, want it taken", err)
	}
	// Its copy goes out before MX's clock moves on: taken later, it would
	// make the backbone look up at 10s, and the outbox 10s behind.
	waitOutboxPending(t, nw, "MX", 1)

	// Past eight times the lag. (The post to CA is taken: no copy taken
	// for 9s, longer than FLASH's limit, reads as an outage until the
	// backbone takes that copy.)
	offset.Store(int64(10 * time.Second))
	taken()
	if err := post("flash far behind", flash, "CA"); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("FLASH post 10s behind = %v, want ResourceExhausted", err)
	}

	held.Store(false)
	waitOutboxEmpty(t, nw, "MX")
	// Admission reads the outbox's age at most every 100ms: poll.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := post("routine caught up", routine, "US")
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("ROUTINE post once the outbox is empty = %v, want it taken", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutboxPending waits until cc's outbox holds n copies.
func waitOutboxPending(t *testing.T, nw *testenv.Network, cc string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := nw.Node(cc).Outbox(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's outbox holds %d copies, want %d", cc, st.Pending, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAdmissionRidesOutAnOutage: the backbone refuses every copy of MX's
// (it is down, as a leaf node cut off is), so MX's outbox is 5s behind,
// ten times its lag; that is an outage, which the durable outbox is for,
// not a node that cannot keep up: once a drain round has failed, ROUTINE
// posts are taken (committed, to go out later) and not refused.
func TestAdmissionRidesOutAnOutage(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "MX" {
			c.Admission = statenode.AdmissionConfig{Lag: 500 * time.Millisecond}
			c.PostWait = 50 * time.Millisecond
			c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		}
	}})
	statenode.WrapPublish(nw.Node("MX"), func(statenode.PublishCopy) statenode.PublishCopy {
		return func(context.Context, string, string, string, []byte) (backbone.PubAck, error) {
			return backbone.PubAck{}, backbone.ErrUnavailable
		}
	})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(title string) error {
		d := nettest.Draft(title, "US")
		d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
		_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: d})
		return err
	}
	if err := post("first"); err != nil {
		t.Fatalf("first post = %v", err)
	}
	offset.Store(int64(5 * time.Second))
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		err := post(fmt.Sprintf("during the outage %d", i))
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("ROUTINE post during an outage = %v, want it taken once a drain round failed", err)
		}
		time.Sleep(50 * time.Millisecond) // poll: the round's failure is asynchronous
	}
	st, err := nw.Node("MX").Outbox(t.Context())
	if err != nil || st.Pending != 2 || st.Published != 0 {
		t.Errorf("outbox = %+v, %v; want the 2 taken posts' copies waiting, none published", st, err)
	}
}
