package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Timing of a phase.
const (
	// postTimeout bounds one post (IANT) or one message's publishes.
	postTimeout = 30 * time.Second
	// maxInFlight bounds open-loop posts outstanding at once; past it the
	// schedule waits, and the wait counts in the latency (each post's
	// clock starts when it was due).
	maxInFlight = 1024
	// progressEvery is how often the progress line is written.
	progressEvery = time.Second
	// quietPeriod is how long a phase must see no delivery at all before
	// the next phase starts.
	quietPeriod = 2 * time.Second
)

// sender sends planned bulletin m and returns when its author has the
// answer.
type sender func(ctx context.Context, m message) error

// phase is one measured run of a plan through a sender.
type phase struct {
	label    string
	plan     []message
	send     sender
	opts     Options
	nodes    int
	progress io.Writer
}

// run sends the plan (open or closed loop, bounded by Count and
// Duration), waits for the deliveries, and returns the figures. The
// collector must be registered with whoever reports deliveries first.
func (p *phase) run(ctx context.Context, c *collector) Result {
	resetPeak()
	cpu0, disk0 := cpuTime(), diskWrites()
	stop := p.startProgress(c)
	if p.opts.Rate > 0 {
		p.openLoop(ctx, c)
	} else {
		p.closedLoop(ctx, c)
	}
	c.wait(ctx, p.opts.DrainTimeout)
	stop()
	cpu, disk := cpuTime()-cpu0, diskWrites()-disk0
	_, peak := memory()
	r := c.result()
	if r.Posted > 0 {
		r.CPUPerBulletin = round6(cpu.Seconds() / float64(r.Posted))
		r.DiskWritesPerBulletin = disk / int64(r.Posted)
	}
	if r.Delivered > 0 {
		r.DiskWritesPerDelivery = disk / int64(r.Delivered)
	}
	r.PeakRSS = peak
	if p.nodes > 0 {
		r.PeakRSSPerNode = peak / int64(p.nodes)
	}
	if r.Missing > 0 || r.Failed > 0 || r.Unexpected > 0 || r.Refused > 0 {
		c.quiet(ctx, quietPeriod, p.opts.DrainTimeout)
	}
	return r
}

// closedLoop runs Concurrency posters, each posting again as soon as its
// previous post is answered.
func (p *phase) closedLoop(ctx context.Context, c *collector) {
	deadline := time.Now().Add(p.opts.Duration)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range p.opts.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.plan) || ctx.Err() != nil || time.Now().After(deadline) {
					return
				}
				p.post(ctx, c, i, time.Now())
			}
		})
	}
	wg.Wait()
}

// openLoop starts post i at start + i/Rate whether or not earlier posts
// have been answered; each post's clock starts when it was due.
func (p *phase) openLoop(ctx context.Context, c *collector) {
	interval := time.Duration(float64(time.Second) / p.opts.Rate)
	start := time.Now()
	deadline := start.Add(p.opts.Duration)
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range p.plan {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(deadline) || !sleepUntil(ctx, due) {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			p.post(ctx, c, i, due)
		})
	}
}

// post sends plan[i] and records it; its clock starts at start.
func (p *phase) post(ctx context.Context, c *collector, i int, start time.Time) {
	c.begin(i, start)
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	err := p.send(ctx, p.plan[i])
	cancel()
	c.end(i, err, time.Now())
}

// startProgress writes a progress line every second until the returned
// func is called, and a last one then (so even a phase shorter than a
// second reports); that func waits for the writer goroutine to end.
func (p *phase) startProgress(c *collector) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	t0 := time.Now()
	line := func() {
		begun, ended, expected, delivered := c.counts()
		fmt.Fprintf(p.progress, "bench %s: %.0fs, posted %d/%d, answered %d, delivered %d (%d owed to answered posts)\n",
			p.label, time.Since(t0).Seconds(), begun, len(p.plan), ended, delivered, expected)
	}
	wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				line()
				return
			case <-t.C:
				line()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// sleepUntil waits until t; it returns false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func round6(v float64) float64 { return float64(int64(v*1e6+0.5)) / 1e6 }
