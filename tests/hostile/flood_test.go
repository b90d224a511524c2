package hostile_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestFloodingNodeIsHeldToItsQuota: MX, compromised, floods US's inbox
// through the backbone with its genuine SVID, 256 publishes in flight at
// a time, bypassing its node's outbox and admission control. The backbone
// stores no more of it than its quota (50 copies a second, a second of
// burst) allows and refuses the rest with a 429 (its subjects are mapped
// away from the stream while it is over), while CA keeps posting to US:
// every one of CA's bulletins is posted and held by US exactly once.
func TestFloodingNodeIsHeldToItsQuota(t *testing.T) {
	quota := backbone.QuotaConfig{OriginCopiesPerSecond: 50, Burst: time.Second}
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "CA"}, Quotas: quota})
	ca := nettest.Dial(t, nw, testenv.FocalPoint("CA"))
	usAnalyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	js, err := jetstream.New(nettest.NodeConn(t, nw, "MX"), jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		t.Fatal(err)
	}

	const flood = 3000
	start := time.Now()
	done := make(chan [2]int)
	go func() {
		stored, refused := 0, 0
		settle := func(f jetstream.PubAckFuture) {
			select {
			case <-f.Ok():
				stored++
			case err := <-f.Err():
				if apiErr := (*jetstream.APIError)(nil); errors.As(err, &apiErr) && apiErr.Code == 429 {
					refused++
				}
			}
		}
		var inflight []jetstream.PubAckFuture
		for i := range flood {
			m := nats.NewMsg(backbone.InboxSubject("US", "MX", fmt.Sprintf("FLOOD%05d", i)))
			m.Data = []byte("not a bulletin")
			for {
				f, err := js.PublishMsgAsync(m)
				if err == nil {
					inflight = append(inflight, f)
					break
				}
				if len(inflight) == 0 {
					t.Errorf("flood publish %d: %v", i, err)
					done <- [2]int{stored, refused}
					return
				}
				settle(inflight[0]) // stalled: 256 in flight
				inflight = inflight[1:]
			}
		}
		for _, f := range inflight {
			settle(f)
		}
		done <- [2]int{stored, refused}
	}()

	var ids []string
	for i := range 10 {
		ids = append(ids, nettest.Post(t, ca, nettest.Draft(fmt.Sprintf("posted during the flood %d", i), "US")).GetBulletin().GetId())
	}
	var got [2]int
	select {
	case got = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the flood's publishes were not all answered")
	}
	elapsed := time.Since(start)
	stored, refused := got[0], got[1]
	// How much got through before the keeper refused depends on the
	// machine's speed: the refusal is asserted, the counts logged.
	if refused == 0 {
		t.Errorf("flood of %d: %d stored, none refused in %s; want the flood refused past its quota", flood, stored, elapsed)
	}
	t.Logf("flood of %d: %d stored, %d refused in %s", flood, stored, refused, elapsed)
	nettest.HeldOnce(t, usAnalyst, ids...)
	t.Logf("flood of %d in %s: %d stored, %d refused; CA's 10 bulletins held by US once each", flood, elapsed.Round(time.Millisecond), stored, refused)
}
