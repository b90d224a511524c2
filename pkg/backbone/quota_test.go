package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// quotaEnv is newEnv with quotas.
func quotaEnv(t *testing.T, q backbone.QuotaConfig, states ...string) *env {
	t.Helper()
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{backbonetest.Secretariat}
	for _, s := range states {
		nodes = append(nodes, backbonetest.Node(s))
	}
	cfg := backbonetest.Config(t, ca, nodes...)
	cfg.Quotas = q
	e := &env{ca: ca, cfg: cfg, srv: backbonetest.StartServerConfig(t, cfg)}
	e.sec = backbonetest.Provision(t, ca, e.srv, states...)
	return e
}

func tryPublish(c *backbone.Client, recipient, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := c.PublishInbox(ctx, recipient, c.Principal().State, id, []byte(id))
	return err
}

// TestQuotaOriginRate: MX, with its genuine SVID, publishes to CA as
// fast as it can; past its quota (20 copies a second, a second of burst)
// the server refuses its copies with ErrThrottled and stores nothing of
// them, while BR's copies to CA are taken and delivered. Once MX stops,
// its quota refills and it may publish again.
func TestQuotaOriginRate(t *testing.T) {
	t.Parallel()
	e := quotaEnv(t, backbone.QuotaConfig{OriginCopiesPerSecond: 20, Burst: time.Second}, "MX", "CA", "BR")
	mx, br := e.connect(t, "MX"), e.connect(t, "BR")
	start := time.Now()
	acked, refused := 0, 0
	for i := range 400 {
		err := tryPublish(mx, "CA", fmt.Sprintf("flood%03d", i))
		switch {
		case err == nil:
			acked++
		case errors.Is(err, backbone.ErrThrottled) && !errors.Is(err, backbone.ErrInboxFull):
			refused++
		default:
			t.Fatalf("flood publish %d = %v, want success or ErrThrottled", i, err)
		}
		if i%40 == 0 {
			if err := tryPublish(br, "CA", fmt.Sprintf("br%03d", i)); err != nil {
				t.Fatalf("BR's publish during MX's flood = %v", err)
			}
		}
	}
	// What got through is the burst, the rate meanwhile, and what was
	// stored before the keeper saw it: how much depends on the machine's
	// speed, so only the refusal is asserted (the count is logged below).
	if refused == 0 {
		t.Errorf("flood of 400: %d stored, none refused; want the flood refused past its quota", acked)
	}
	in := make(chan backbone.Msg, 1000)
	consume(t, e.connect(t, "CA"), collect(in))
	var brIDs []string
	for i := 0; i < 400; i += 40 {
		brIDs = append(brIDs, fmt.Sprintf("br%03d", i))
	}
	got := map[string]int{}
	deadline := time.After(wait)
	for got["br360"] == 0 {
		select {
		case m := <-in:
			got[m.ID]++
		case <-deadline:
			t.Fatalf("BR's copies not all delivered to CA: got %v", got)
		}
	}
	for _, id := range brIDs {
		if got[id] != 1 {
			t.Errorf("CA got BR's %s %d times, want once", id, got[id])
		}
	}
	// Tried at 4 a second, under the rate: a refused copy counts too, so
	// an origin that keeps flooding stays refused.
	deadline = time.After(wait)
	for tick := time.Tick(250 * time.Millisecond); tryPublish(mx, "CA", "after") != nil; {
		select {
		case <-tick:
		case <-deadline:
			t.Fatal("MX may not publish again once it stopped flooding")
		}
	}
	t.Logf("flood of 400 in %s: %d stored, %d refused", time.Since(start).Round(time.Millisecond), acked, refused)
}

// TestQuotaInboxPending: CA's node reads nothing; once more than 10
// copies wait in its inbox, copies to CA are refused (ErrInboxFull), to
// BR still taken; once CA reads its inbox, copies to it are taken again.
func TestQuotaInboxPending(t *testing.T) {
	t.Parallel()
	e := quotaEnv(t, backbone.QuotaConfig{InboxPending: 10}, "MX", "CA", "BR")
	mx := e.connect(t, "MX")
	i := 0
	waitFor(t, "copies to CA refused as its inbox is full", func() bool {
		i++
		err := tryPublish(mx, "CA", fmt.Sprintf("c%03d", i))
		if err != nil && !errors.Is(err, backbone.ErrInboxFull) {
			t.Fatalf("publish to CA = %v, want success or ErrInboxFull", err)
		}
		return err != nil
	})
	if err := tryPublish(mx, "BR", "to-br"); err != nil {
		t.Fatalf("publish to BR while CA's inbox is full = %v", err)
	}
	in := make(chan backbone.Msg, 1000)
	consume(t, e.connect(t, "CA"), collect(in))
	waitFor(t, "copies to CA taken again once it read its inbox", func() bool {
		return tryPublish(mx, "CA", "after") == nil
	})
	t.Logf("CA's inbox refused copies after %d", i-1)
}
