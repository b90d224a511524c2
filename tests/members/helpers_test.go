package members_test

import (
	"context"
	"sync"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// traffic posts from one state to another in the background, as other
// states go on with their business while the membership changes.
type traffic struct {
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	posted []string
	failed []error
}

// minTraffic is how many bulletins the traffic posts at least.
const minTraffic = 30

// startTraffic has from's focal point post to to every 20 ms until stopped.
func startTraffic(t *testing.T, nw *testenv.Network, from, to string) *traffic {
	t.Helper()
	c := nettest.Dial(t, nw, testenv.FocalPoint(from))
	ctx, cancel := context.WithCancel(t.Context())
	tr := &traffic{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			resp, err := c.PostBulletin(ctx, &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("in flight", to)})
			tr.mu.Lock()
			switch {
			case err == nil:
				tr.posted = append(tr.posted, resp.GetBulletin().GetBulletin().GetId())
			case ctx.Err() == nil:
				tr.failed = append(tr.failed, err)
			}
			tr.mu.Unlock()
		}
	}()
	return tr
}

// end stops the traffic and checks, at to's analyst, that every bulletin
// posted was delivered exactly once: it logs posted, delivered, lost and
// duplicated.
func (tr *traffic) end(t *testing.T, nw *testenv.Network, to string) {
	t.Helper()
	until(t, "some traffic posted", func() bool { // the changes took less than a few posts
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.posted) >= minTraffic || len(tr.failed) > 0
	})
	tr.stop()
	<-tr.done
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, err := range tr.failed {
		t.Errorf("a post of the traffic failed: %v", err)
	}
	analyst := nettest.Dial(t, nw, testenv.Analyst(to))
	for _, id := range tr.posted {
		nettest.WaitStored(t, analyst, id)
	}
	held := map[string]int{}
	req := &iantv1.ListBulletinsRequest{PageSize: 500}
	for {
		resp, err := analyst.ListBulletins(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range resp.GetBulletins() {
			held[b.GetBulletin().GetId()]++
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	delivered, duplicated := 0, 0
	for _, id := range tr.posted {
		if held[id] > 0 {
			delivered++
		}
		duplicated += max(held[id]-1, 0)
	}
	lost := len(tr.posted) - delivered
	t.Logf("traffic to %s meanwhile: posted %d, delivered %d, lost %d, duplicated %d", to, len(tr.posted), delivered, lost, duplicated)
	if lost != 0 || duplicated != 0 || len(tr.posted) == 0 {
		t.Errorf("traffic to %s: posted %d, lost %d, duplicated %d; want some posted, none lost or duplicated", to, len(tr.posted), lost, duplicated)
	}
}

// nodeConns returns the backbone connection ids of the nodes of states.
func nodeConns(nw *testenv.Network, states ...string) map[string][]uint64 {
	all := nw.Backbone.Connected()
	out := map[string][]uint64{}
	for _, cc := range states {
		out[cc] = all[testenv.NodePrincipal(cc).ID(nw.TD).String()]
	}
	return out
}

// sameConns fails the test if a node's backbone connections changed: it
// was dropped (and came back with a new connection id).
func sameConns(t *testing.T, before, after map[string][]uint64) {
	t.Helper()
	for cc, ids := range before {
		if len(ids) == 0 || len(after[cc]) != len(ids) || after[cc][0] != ids[0] {
			t.Errorf("%s's node's backbone connections %v became %v: dropped", cc, ids, after[cc])
		}
	}
}

// connected reports whether state cc's node has a backbone connection.
func connected(nw *testenv.Network, cc string) bool {
	return len(nw.Backbone.Connected()[testenv.NodePrincipal(cc).ID(nw.TD).String()]) > 0
}

// until polls cond until it holds, failing the test after
// nettest.Eventually, and returns when it first held.
func until(t *testing.T, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, nettest.Eventually)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Now()
}

// regionDraft is a draft released to region r.
func regionDraft(title string, r iantv1.Region) *iantv1.Bulletin {
	d := nettest.Draft(title)
	d.Releasability = &iantv1.Releasability{Regions: []iantv1.Region{r}}
	return d
}
