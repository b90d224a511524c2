package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// postState is where a planned bulletin stands.
type postState int

const (
	notSent postState = iota
	inFlight
	posted
	failed
	refused // answered with ResourceExhausted: admission control
)

// arrival is one recipient's copy of one bulletin.
type arrival struct {
	stored, pushed time.Time
	seen           bool
}

// tracked is a planned bulletin with what happened to it.
type tracked struct {
	m     message
	state postState
	start time.Time // when the post was due (open loop) or sent (closed)
	took  time.Duration
	got   []arrival // aligned with m.recipients
}

// collector gathers one phase's posts and deliveries. Deliveries may be
// seen before the post is answered; posts are registered before they are
// sent, so every delivery finds its bulletin.
type collector struct {
	wake chan struct{} // signalled (non-blocking) on every change

	mu         sync.Mutex
	msgs       []tracked
	begun      int
	ended      int
	expected   int // recipients of posted bulletins
	delivered  int // first copies at recipients of posted or in-flight bulletins
	dups       int
	unexpected int
	firstErr   string
	hinted     int // refusals that carried a retry hint
	first      time.Time
	last       time.Time // latest answer or delivery
	lastAny    time.Time // latest call of end or arrive, counted or not
}

func newCollector(plan []message) *collector {
	c := &collector{wake: make(chan struct{}, 1), msgs: make([]tracked, len(plan))}
	for i, m := range plan {
		c.msgs[i] = tracked{m: m, got: make([]arrival, len(m.recipients))}
	}
	return c
}

func (c *collector) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// begin registers bulletin seq as posted at start.
func (c *collector) begin(seq int, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &c.msgs[seq]
	t.state, t.start = inFlight, start
	if c.begun == 0 || start.Before(c.first) {
		c.first = start
	}
	c.begun++
}

// end records the answer to the post of seq.
func (c *collector) end(seq int, err error, at time.Time) {
	defer c.signal()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastAny = time.Now()
	t := &c.msgs[seq]
	t.took = at.Sub(t.start)
	c.ended++
	c.last = later(c.last, at)
	if err != nil {
		t.state = failed
		var r *refusal
		switch {
		case errors.As(err, &r):
			t.state = refused
			if r.retryAfter > 0 {
				c.hinted++
			}
		case c.firstErr == "":
			c.firstErr = err.Error()
		}
		for _, a := range t.got {
			if a.seen {
				c.delivered--
				c.unexpected++
			}
		}
		return
	}
	t.state = posted
	c.expected += len(t.got)
}

// arrive records that state holds bulletin seq: stored at its node at
// stored, pushed to its analyst (or consumer) at pushed.
func (c *collector) arrive(seq int, state string, stored, pushed time.Time) {
	defer c.signal()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastAny = time.Now()
	if seq < 0 || seq >= len(c.msgs) {
		c.unexpected++
		return
	}
	t := &c.msgs[seq]
	i := slices.Index(t.m.recipients, state)
	switch {
	case i < 0 || t.state == notSent || t.state == failed || t.state == refused:
		c.unexpected++
	case t.got[i].seen:
		c.dups++
	default:
		t.got[i] = arrival{stored: stored, pushed: pushed, seen: true}
		c.delivered++
		c.last = later(c.last, pushed)
	}
}

// counts returns progress figures: posts begun, answered, deliveries due
// so far (to bulletins answered with success) and seen.
func (c *collector) counts() (begun, ended, expected, delivered int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.begun, c.ended, c.expected, c.delivered
}

// complete reports whether every post begun is answered and every copy
// owed has arrived.
func (c *collector) complete() bool {
	begun, ended, expected, delivered := c.counts()
	return ended == begun && delivered >= expected
}

// wait returns when the phase is complete, or timeout or ctx ends.
func (c *collector) wait(ctx context.Context, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for !c.complete() {
		select {
		case <-c.wake:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// quiet returns once nothing has happened for period (no answer, no
// delivery, counted or not), or after limit, or when ctx ends. An
// overloaded network goes on delivering after a phase's drain timeout;
// the next phase must not start while it does.
func (c *collector) quiet(ctx context.Context, period, limit time.Duration) {
	end := time.Now().Add(limit)
	for {
		c.mu.Lock()
		idle := time.Since(c.lastAny)
		c.mu.Unlock()
		if idle >= period || !time.Now().Before(end) {
			return
		}
		if !sleepUntil(ctx, time.Now().Add(min(period-idle, time.Until(end)))) {
			return
		}
	}
}

// result computes the phase's figures.
func (c *collector) result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Expected: c.expected, Delivered: c.delivered, Duplicates: c.dups, Unexpected: c.unexpected, FirstError: c.firstErr,
		RefusedWithRetryHint: c.hinted}
	var post, stored, pushed, last []float64
	classes := newClasses(c.msgs)
	for _, t := range c.msgs {
		cl := classes.of(t.m)
		switch t.state {
		case failed:
			r.Failed++
			continue
		case refused:
			r.Refused++
			cl.refused()
			continue
		case posted:
			r.Posted++
		default:
			continue
		}
		post = append(post, ms(t.took))
		cl.posted(ms(t.took))
		complete, latest := true, time.Duration(0)
		for _, a := range t.got {
			if !a.seen {
				complete = false
				continue
			}
			stored = append(stored, ms(a.stored.Sub(t.start)))
			d := a.pushed.Sub(t.start)
			pushed = append(pushed, ms(d))
			latest = max(latest, d)
		}
		if complete {
			last = append(last, ms(latest))
			cl.complete(ms(latest))
		}
	}
	r.Classes = classes.results()
	r.Missing = r.Expected - r.Delivered
	r.Post, r.Stored, r.Pushed, r.LastRecipient = summarize(post), summarize(stored), summarize(pushed), summarize(last)
	r.LastRecipientSamples = last
	if el := c.last.Sub(c.first); c.begun > 0 && el > 0 {
		r.ElapsedSeconds = round3(el.Seconds())
		r.BulletinsPerSecond = round3(float64(r.Posted) / el.Seconds())
		r.DeliveriesPerSecond = round3(float64(r.Delivered) / el.Seconds())
	}
	return r
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// refusal is a post refused by admission control (ResourceExhausted),
// with the retry hint it carried, if any.
type refusal struct {
	retryAfter time.Duration
	err        error
}

func (r *refusal) Error() string { return "refused: " + r.err.Error() }

func (r *refusal) Unwrap() error { return r.err }

// classes gathers figures per precedence when a plan mixes them.
type classes struct {
	by    map[string]*class
	order []string
}

type class struct {
	name          string
	n, ok, refuse int
	post, last    []float64
}

func newClasses(msgs []tracked) *classes {
	cs := &classes{by: map[string]*class{}}
	for _, t := range msgs {
		p := t.m.precedence()
		if _, ok := cs.by[p]; !ok {
			cs.by[p] = &class{name: p}
			cs.order = append(cs.order, p)
		}
		if t.state != notSent {
			cs.by[p].n++
		}
	}
	return cs
}

func (cs *classes) of(m message) *class { return cs.by[m.precedence()] }

func (c *class) refused()            { c.refuse++ }
func (c *class) posted(ms float64)   { c.ok++; c.post = append(c.post, ms) }
func (c *class) complete(ms float64) { c.last = append(c.last, ms) }
func (c *class) result() PrecedenceClass {
	return PrecedenceClass{Precedence: c.name, Sent: c.n, Posted: c.ok, Refused: c.refuse,
		Post: summarize(c.post), LastRecipient: summarize(c.last)}
}

// results lists the classes, or nothing when the plan has one.
func (cs *classes) results() []PrecedenceClass {
	if len(cs.order) < 2 {
		return nil
	}
	out := make([]PrecedenceClass, 0, len(cs.order))
	for _, p := range cs.order {
		out = append(out, cs.by[p].result())
	}
	return out
}
