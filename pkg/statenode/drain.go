package statenode

import (
	"context"
	"time"
)

// drainer is how the node empties one of its outboxes (copies, receipts)
// onto the backbone: rounds of work, retried with a doubling wait while
// they fail, run again at once while there is more, and otherwise started
// by a wake-up or a poll.
type drainer struct {
	// round publishes one batch; full reports that the batch was as large
	// as a batch may be (more may wait).
	round func(ctx context.Context) (full bool, err error)
	// wake has a token when something was queued.
	wake <-chan struct{}
	// firstWait and maxWait bound the wait after a failed round.
	firstWait, maxWait time.Duration
	// poll is how often an idle drainer looks anyway (something queued
	// just as it went to sleep).
	poll time.Duration
	// linger is how long a round woken by a wake-up waits first, so that
	// what is queued just after joins it (0: none).
	linger time.Duration
	// wakeRetries lets a wake-up cut short the wait after a failure: what
	// was just queued is tried at once (a post waits for that try).
	wakeRetries bool
	// failed is told of each failure, first says whether it is the first
	// since the last success; recovered is told when a round succeeds
	// after failures.
	failed    func(err error, first bool)
	recovered func()
}

// run drains until ctx ends.
func (d drainer) run(ctx context.Context) {
	wait := d.firstWait
	failing := false
	for ctx.Err() == nil {
		full, err := d.round(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			d.failed(err, !failing)
			failing = true
			if !d.pause(ctx, wait) {
				return
			}
			wait = min(2*wait, d.maxWait)
			continue
		}
		if failing {
			d.recovered()
		}
		failing, wait = false, d.firstWait
		if full {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			if d.linger > 0 && !sleepCtx(ctx, d.linger) {
				return
			}
		case <-time.After(d.poll):
		}
	}
}

// pause waits d after a failure, or less when wakeRetries and a wake-up
// comes; it returns false if ctx ended first.
func (d drainer) pause(ctx context.Context, wait time.Duration) bool {
	if !d.wakeRetries {
		return sleepCtx(ctx, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-d.wake:
	}
	return true
}

// wakeUp puts a token in wake unless one is there.
func wakeUp(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// sleepCtx waits d; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
