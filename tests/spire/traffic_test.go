package spire_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// poster posts bulletins from MX to US and remembers which the node
// acknowledged and which failed.
type poster struct {
	quit    chan struct{}
	stopped chan struct{}

	mu   sync.Mutex
	ids  []string // acknowledged, in order
	errs []error
}

// startPoster posts through c every postEvery until stop or ctx ends, in a
// goroutine wg owns.
func startPoster(ctx context.Context, wg *sync.WaitGroup, c iantv1.BulletinServiceClient) *poster {
	p := &poster{quit: make(chan struct{}), stopped: make(chan struct{})}
	wg.Go(func() {
		defer close(p.stopped)
		tick := time.NewTicker(postEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			p.post(ctx, c, "during rotation "+strconv.Itoa(i))
			select {
			case <-p.quit:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return p
}

// post posts one GREEN bulletin released to US and records the outcome.
func (p *poster) post(ctx context.Context, c iantv1.BulletinServiceClient, title string) {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	resp, err := c.PostBulletin(ctx, &iantv1.PostBulletinRequest{Bulletin: &iantv1.Bulletin{
		Title: "SPIRE test: " + title, Body: "body", Precedence: iantv1.Precedence_PRECEDENCE_ROUTINE,
		Category: iantv1.Category_CATEGORY_OTHER, Marking: iantv1.Marking_MARKING_GREEN,
		Language: iantv1.Language_LANGUAGE_ES, Releasability: &iantv1.Releasability{States: []string{"US"}},
	}})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("post %q: %w", title, err))
		return
	}
	p.ids = append(p.ids, resp.GetBulletin().GetBulletin().GetId())
}

// stop ends the posting goroutine and waits for it.
func (p *poster) stop() {
	close(p.quit)
	<-p.stopped
}

// count returns how many bulletins were acknowledged so far.
func (p *poster) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids)
}

// subscription is one Subscribe stream, counting what it receives.
type subscription struct {
	mu  sync.Mutex
	got map[string]int // bulletin id -> times received
	err error          // why the stream ended before the test closed it
}

// subscribe opens a Subscribe stream from the start of the node's store
// and receives on it in a goroutine wg owns, until ctx ends.
func subscribe(ctx context.Context, t *testing.T, wg *sync.WaitGroup, c iantv1.BulletinServiceClient) *subscription {
	t.Helper()
	stream, err := c.Subscribe(ctx, &iantv1.SubscribeRequest{FromStart: true})
	if err != nil {
		t.Fatalf("Subscribe at US: %v", err)
	}
	s := &subscription{got: map[string]int{}}
	wg.Go(func() {
		for {
			resp, err := stream.Recv()
			s.mu.Lock()
			if err != nil {
				if ctx.Err() == nil {
					s.err = err
				}
				s.mu.Unlock()
				return
			}
			s.got[resp.GetBulletin().GetBulletin().GetId()]++
			s.mu.Unlock()
		}
	})
	return s
}

// missing returns how many of ids the stream has not received, or the
// error that ended the stream.
func (s *subscription) missing(ids []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for _, id := range ids {
		if s.got[id] == 0 {
			n++
		}
	}
	return n, nil
}

// checkDelivery checks that every acknowledged bulletin reached the
// analyst's stream exactly once, that nothing else did, that no post
// failed, and that the US node's store agrees.
func checkDelivery(ctx context.Context, t *testing.T, p *poster, sub *subscription, us iantv1.BulletinServiceClient) {
	t.Helper()
	p.mu.Lock()
	posted, errs := append([]string(nil), p.ids...), append([]error(nil), p.errs...)
	p.mu.Unlock()
	for _, err := range errs {
		t.Errorf("a post failed during rotation: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	waitFor(wctx, t, "every acknowledged bulletin on the analyst's stream", func() error {
		n, err := sub.missing(posted)
		if err != nil {
			t.Fatalf("the analyst's Subscribe stream ended during the test: %v", err)
		}
		if n > 0 {
			return fmt.Errorf("%d of %d not received yet", n, len(posted))
		}
		return nil
	})
	want := map[string]bool{}
	for _, id := range posted {
		want[id] = true
	}
	sub.mu.Lock()
	received, dups := len(sub.got), 0
	for id, n := range sub.got {
		switch {
		case !want[id]:
			t.Errorf("received bulletin %s that was never acknowledged to the poster", id)
		case n != 1:
			dups++
			t.Errorf("bulletin %s received %d times, want once", id, n)
		}
	}
	sub.mu.Unlock()
	stored := listAll(ctx, t, us)
	if stored != len(posted) {
		t.Errorf("US node stores %d bulletins, want the %d posted", stored, len(posted))
	}
	t.Logf("posted %d (failed %d), received %d on one open stream, duplicated %d, stored at US %d",
		len(posted), len(errs), received, dups, stored)
}

// listAll counts the bulletins the node lists to the caller, page by page.
func listAll(ctx context.Context, t *testing.T, c iantv1.BulletinServiceClient) int {
	t.Helper()
	n, token := 0, ""
	for {
		resp, err := c.ListBulletins(ctx, &iantv1.ListBulletinsRequest{PageSize: 500, PageToken: token})
		if err != nil {
			t.Fatalf("ListBulletins at US: %v", err)
		}
		n += len(resp.GetBulletins())
		if token = resp.GetNextPageToken(); token == "" {
			return n
		}
	}
}
