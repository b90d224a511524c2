package wan

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/tests/procnet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iant-wan-bin-")
	if err == nil {
		bin, err = procnet.Build(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// deliverWithin bounds every wait for deliveries over the WAN.
const deliverWithin = 2 * time.Minute

// TestWAN runs the network on the simulated WAN and, in turn: bulletins
// flow between every pair of states; JM's link (its node behind its leaf
// node) is cut and healed; hub-3 is partitioned from the other two
// backbone servers and healed; `iant bench` runs over the WAN against the
// cluster. Behaviour is asserted (everything acknowledged delivered, once,
// in order); latencies are reported.
func TestWAN(t *testing.T) {
	w := newWAN(t, 0.1, 0.01)
	for _, h := range hubSites {
		w.Add(h.name, h.site)
	}
	for _, s := range nodeSites {
		w.Add(s.name, s.site)
	}
	w.Add("bench", "bog")
	rep := newReport(t)
	rep.line("links: RTT by site pair (20-150 ms), jitter ±10%%, loss 1%% each way (IPv4 frames)")
	for _, p := range [][2]string{{"hub-1", "hub-2"}, {"hub-1", "hub-3"}, {"hub-2", "hub-3"}, {"mx", "hub-1"}, {"ar", "hub-1"}, {"br", "hub-3"}} {
		rtts, err := w.connectRTT(p[0], p[1], 5)
		if err != nil {
			t.Fatalf("measure %s-%s: %v", p[0], p[1], err)
		}
		rep.line("  TCP connect %s -> %s (configured RTT %s): median %s", p[0], p[1], w.RTT(p[0], p[1]), ms(rtts[len(rtts)/2]))
	}
	nw := startNetwork(t, w, rep)
	t.Run("bulletins flow", func(t *testing.T) { flow(t, nw, rep) })
	t.Run("a leaf state's link cut and healed", func(t *testing.T) { cutLeaf(t, nw, rep) })
	t.Run("a backbone server partitioned", func(t *testing.T) { partition(t, nw, rep) })
	t.Run("bench", func(t *testing.T) { benchWAN(t, nw, rep) })
	frames, cut, lost := w.sw.Stats()
	rep.line("switch: %d frames, %d dropped on cut links, %d lost (%.2f%%)", frames, cut, lost, 100*float64(lost)/float64(max(frames, 1)))
}

// arrivals follows the analysts' subscriptions: when each bulletin was
// pushed to each state's analyst, and how often.
type arrivals struct {
	mu    sync.Mutex
	first map[[2]string]time.Time // (state, id)
	count map[[2]string]int
}

func subscribeAll(t *testing.T, nw *network) *arrivals {
	t.Helper()
	a := &arrivals{first: map[[2]string]time.Time{}, count: map[[2]string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, s := range states {
		stream, err := nw.analyst[s].Subscribe(ctx, &iantv1.SubscribeRequest{})
		if err != nil {
			t.Fatalf("subscribe at %s: %v", s, err)
		}
		wg.Go(func() {
			for {
				resp, err := stream.Recv()
				if err != nil {
					return
				}
				k := [2]string{s, resp.GetBulletin().GetBulletin().GetId()}
				a.mu.Lock()
				if a.count[k] == 0 {
					a.first[k] = time.Now()
				}
				a.count[k]++
				a.mu.Unlock()
			}
		})
	}
	return a
}

// posted is one acknowledged post.
type posted struct {
	id, origin string
	recipients []string
	at         time.Time // when the post was sent
}

// postFrom posts title from origin to recipients and returns it, failing
// the test if the post is not acknowledged.
func postFrom(t *testing.T, nw *network, origin, title string, recipients []string) (posted, *iantv1.PostBulletinResponse) {
	t.Helper()
	p, resp, err := tryPost(nw, origin, title, recipients)
	if err != nil {
		t.Fatal(err)
	}
	return p, resp
}

// tryPost posts title from origin to recipients; it is safe on any
// goroutine.
func tryPost(nw *network, origin, title string, recipients []string) (posted, *iantv1.PostBulletinResponse, error) {
	at := time.Now()
	resp, err := procnet.Post(nw.focal[origin], procnet.Draft(title, recipients...), time.Minute)
	if err != nil {
		return posted{}, nil, fmt.Errorf("post %q at %s: %w", title, origin, err)
	}
	return posted{id: resp.GetBulletin().GetBulletin().GetId(), origin: origin, recipients: recipients, at: at}, resp, nil
}

// expectDelivered waits until every post is stored at each of its
// recipients, and checks each once; it returns, per recipient, the ids
// stored in order.
func expectDelivered(t *testing.T, nw *network, posts []posted) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	for _, p := range posts {
		for _, r := range p.recipients {
			want[r] = append(want[r], p.id)
		}
	}
	orders := map[string][]string{}
	for r, ids := range want {
		order, count := procnet.WaitStored(t, nw.analyst[r], ids, deliverWithin)
		for _, id := range ids {
			if count[id] != 1 {
				t.Errorf("%s holds %s %d times, want once", r, id, count[id])
			}
		}
		orders[r] = order
	}
	return orders
}

// flow: each state posts to every other, three rounds; every copy is
// stored once at every recipient and pushed to its analyst.
func flow(t *testing.T, nw *network, rep *report) {
	arr := subscribeAll(t, nw)
	var posts []posted
	var answer []time.Duration
	for round := range 3 {
		for _, s := range states {
			p, resp := postFrom(t, nw, s, fmt.Sprintf("flow %d from %s", round, s), others(s))
			answer = append(answer, time.Since(p.at))
			if len(resp.GetPendingRecipients()) > 0 {
				rep.line("  post %s from %s answered with copies still waiting for %v", p.id, s, resp.GetPendingRecipients())
			}
			posts = append(posts, p)
		}
	}
	expectDelivered(t, nw, posts)
	if !procnet.Eventually(deliverWithin, func() bool { return arr.all(posts) }) {
		t.Errorf("not every analyst was pushed every bulletin released to its state")
	}
	rep.line("bulletins flow: %d posts, each to the 4 other states (%d deliveries)", len(posts), 4*len(posts))
	rep.latencies("post -> answer to the author", answer)
	stored, pushed := map[string][]time.Duration{}, map[string][]time.Duration{}
	var allStored, allPushed []time.Duration
	for _, r := range states {
		for _, rec := range storedRecords(t, nw, r) {
			d := rec.GetReceiveTime().AsTime().Sub(rec.GetBulletin().GetCreateTime().AsTime())
			stored[r] = append(stored[r], d)
			allStored = append(allStored, d)
		}
	}
	for _, p := range posts {
		for _, r := range p.recipients {
			if d, ok := arr.latency(r, p); ok {
				pushed[r] = append(pushed[r], d)
				allPushed = append(allPushed, d)
			}
		}
	}
	rep.latencies("post -> stored at the recipient, all", allStored)
	for _, r := range states {
		rep.latencies("  at "+r, stored[r])
	}
	rep.latencies("post -> pushed to the recipient's analyst, all", allPushed)
	arr.checkOnce(t)
}

// all reports whether every post reached the analyst of every recipient.
func (a *arrivals) all(posts []posted) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range posts {
		for _, r := range p.recipients {
			if a.count[[2]string{r, p.id}] == 0 {
				return false
			}
		}
	}
	return true
}

// latency is from p's post to its push to r's analyst.
func (a *arrivals) latency(r string, p posted) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.first[[2]string{r, p.id}]
	return at.Sub(p.at), ok
}

// checkOnce fails the test for a bulletin pushed twice to an analyst.
func (a *arrivals) checkOnce(t *testing.T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, n := range a.count {
		if n > 1 {
			t.Errorf("%s's analyst was pushed %s %d times", k[0], k[1], n)
		}
	}
}

// storedRecords lists what state's node received.
func storedRecords(t *testing.T, nw *network, state string) []*iantv1.StoredBulletin {
	t.Helper()
	var out []*iantv1.StoredBulletin
	resp, err := nw.analyst[state].ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatalf("list at %s: %v", state, err)
	}
	for _, b := range resp.GetBulletins() {
		if b.GetDirection() == iantv1.Direction_DIRECTION_RECEIVED {
			out = append(out, b)
		}
	}
	return out
}

// cutLeaf cuts JM's link to the backbone (its node runs behind its leaf
// node): JM's posts are queued at JM, copies for JM wait on the backbone;
// healed, every one arrives once, in the order posted.
func cutLeaf(t *testing.T, nw *network, rep *report) {
	hubs := []string{"hub-1", "hub-2", "hub-3"}
	nw.w.Cut("jm", hubs...)
	cutAt := time.Now()
	if !procnet.Eventually(time.Minute, func() bool { return !nw.status(t, "JM").GetBackbone().GetLeafLinked() }) {
		t.Fatal("JM's node still reports its leaf link up with the link cut")
	}
	rep.line("JM's link cut: its node saw the leaf link down after %s", ms(time.Since(cutAt)))
	var fromJM, toJM []posted
	for i := range 5 {
		p, resp := postFrom(t, nw, "JM", fmt.Sprintf("from JM during the cut %d", i), []string{"MX"})
		if !slices.Equal(resp.GetPendingRecipients(), []string{"MX"}) {
			t.Errorf("post %d at JM with its link cut: pending %v, want [MX] (queued at JM)", i, resp.GetPendingRecipients())
		}
		fromJM = append(fromJM, p)
	}
	for i := range 3 {
		p, _ := postFrom(t, nw, "MX", fmt.Sprintf("to JM during the cut %d", i), []string{"JM"})
		toJM = append(toJM, p)
	}
	if st := nw.status(t, "JM"); st.GetServing() || st.GetQueues().GetCopiesPending() != 5 {
		t.Errorf("JM during the cut: serving %v, %d copies waiting; want NOT serving (backbone check) and 5", st.GetServing(), st.GetQueues().GetCopiesPending())
	}
	nw.w.Heal("jm", hubs...)
	healAt := time.Now()
	orders := expectDelivered(t, nw, append(slices.Clone(fromJM), toJM...))
	rep.line("JM's link healed after %s: its 5 queued posts and MX's 3 for it all delivered %s after the heal", ms(healAt.Sub(cutAt)), ms(time.Since(healAt)))
	if got, want := procnet.OnlyIn(orders["MX"], ids(fromJM)), ids(fromJM); !slices.Equal(got, want) {
		t.Errorf("MX stored JM's posts in the order %v, want %v", got, want)
	}
	if got, want := procnet.OnlyIn(orders["JM"], ids(toJM)), ids(toJM); !slices.Equal(got, want) {
		t.Errorf("JM stored MX's posts in the order %v, want %v", got, want)
	}
	nw.waitServing(t, "JM")
}

func ids(ps []posted) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}

// partition cuts hub-3 off from hub-1 and hub-2 (the nodes still reach
// all three) while every state posts; healed, every acknowledged post is
// delivered once at each recipient.
func partition(t *testing.T, nw *network, rep *report) {
	hub3 := nw.hubs[2]
	healthz := strings.TrimSuffix(hub3.MetricsURL(), "metrics") + "healthz"
	nw.w.Cut("hub-3", "hub-1", "hub-2")
	cutAt := time.Now()
	if !procnet.Eventually(time.Minute, func() bool {
		code, _ := procnet.HTTPGet(healthz)
		return code == 503
	}) {
		code, body := procnet.HTTPGet(healthz)
		t.Errorf("hub-3's /healthz during the partition = %d %s, want 503 naming its routes", code, body)
	}
	_, why := procnet.HTTPGet(healthz)
	rep.line("hub-3 partitioned from hub-1 and hub-2: its /healthz answered 503 after %s: %s", ms(time.Since(cutAt)), strings.TrimSpace(why))
	var (
		mu             sync.Mutex
		posts          []posted
		answer         []time.Duration
		pendingAnswers int
		refusedPosts   int // refused by admission control, with a retry hint
		wg             sync.WaitGroup
	)
	for _, s := range states { // each state's focal point posts twice, all at once
		wg.Go(func() {
			for round := range 2 {
				p, resp, err := tryPost(nw, s, fmt.Sprintf("during the partition %d from %s", round, s), others(s))
				if status.Code(err) == codes.ResourceExhausted {
					// Admission control: a node whose copies wait for a
					// server cut off from its quorum may refuse new posts
					// at once with a retry hint. Not acknowledged: it
					// need not arrive.
					mu.Lock()
					refusedPosts++
					mu.Unlock()
					continue
				}
				if err != nil {
					t.Error(err) // not acknowledged: it need not arrive
					continue
				}
				mu.Lock()
				answer = append(answer, time.Since(p.at))
				if len(resp.GetPendingRecipients()) > 0 {
					pendingAnswers++
				}
				posts = append(posts, p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.latencies("post -> answer during the partition", answer)
	rep.line("  %d of %d posts answered with copies still waiting at their node", pendingAnswers, len(posts))
	rep.line("  %d posts refused by admission control (ResourceExhausted, with a retry hint)", refusedPosts)
	nw.w.Heal("hub-3", "hub-1", "hub-2")
	healAt := time.Now()
	expectDelivered(t, nw, posts)
	rep.line("partition healed after %s: all %d acknowledged posts delivered once, %s after the heal", ms(healAt.Sub(cutAt)), len(posts), ms(time.Since(healAt)))
	if !procnet.Eventually(time.Minute, func() bool { code, _ := procnet.HTTPGet(healthz); return code == 200 }) {
		code, body := procnet.HTTPGet(healthz)
		t.Errorf("hub-3's /healthz after the partition healed = %d %s", code, body)
	}
}
