package statenode

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/problem"
)

// Admission control. A node that cannot keep up refuses a post at once
// with ResourceExhausted and a retry hint (problem.Exhausted) instead of
// queuing it behind an unbounded backlog. It cannot keep up when its
// inbox consumer has copies waiting longer than a lag (the machine is
// too busy to take what others send), when its outbox's oldest copy has
// waited longer than that (the backbone does not take its copies fast
// enough: it is slow or throttles this state; one that takes none is
// down, an outage the outbox rides out), or when too
// many posts are being sealed and committed at once. Each precedence has
// its own bound, FLASH the loosest: while ROUTINE posts are refused, FLASH
// ones are still taken, so FLASH keeps priority when the node is
// overloaded. Posts in progress are bounded, so memory is too.

// Defaults of [AdmissionConfig].
const (
	DefaultAdmissionLag = 2 * time.Second
	DefaultMaxPosts     = 8
)

// Admission timings.
const (
	// outboxAgeEvery bounds how often the outbox's oldest copy is read.
	outboxAgeEvery = 100 * time.Millisecond
	// minRetryAfter and maxRetryAfter bound a refusal's retry hint.
	minRetryAfter = 250 * time.Millisecond
	maxRetryAfter = 30 * time.Second
	// refusalLogEvery bounds how often refusals are logged (counted
	// meanwhile).
	refusalLogEvery = 10 * time.Second
)

// AdmissionConfig bounds the work a node takes before it refuses posts
// (ResourceExhausted). Zero fields mean the defaults.
type AdmissionConfig struct {
	// Lag is how far behind the node may be (its inbox's or its outbox's
	// oldest waiting copy) before it refuses ROUTINE posts; PRIORITY ones
	// are refused at twice it, IMMEDIATE at four times, FLASH at eight
	// times. Default [DefaultAdmissionLag].
	Lag time.Duration
	// MaxPosts bounds the posts being sealed and committed at once:
	// ROUTINE, PRIORITY and IMMEDIATE posts beyond it are refused, FLASH
	// ones beyond twice it. Default [DefaultMaxPosts].
	MaxPosts int
}

func (c AdmissionConfig) validate() error {
	switch {
	case c.Lag < 0:
		return errors.New("statenode: config: Admission.Lag is negative")
	case c.MaxPosts < 0:
		return errors.New("statenode: config: Admission.MaxPosts is negative")
	}
	return nil
}

// admission is the node's admission state.
type admission struct {
	inflight atomic.Int64  // posts being sealed and committed
	refused  atomic.Uint64 // posts refused since start

	mu        sync.Mutex
	ageAt     time.Time // when oldest was read
	oldest    time.Time // the outbox's oldest waiting copy; zero if none
	loggedAt  time.Time
	loggedCnt uint64
}

// factor is how many times the lag a precedence may wait before its posts
// are refused: FLASH the most.
func factor(p iantv1.Precedence) int64 {
	switch p {
	case iantv1.Precedence_PRECEDENCE_FLASH:
		return 8
	case iantv1.Precedence_PRECEDENCE_IMMEDIATE:
		return 4
	case iantv1.Precedence_PRECEDENCE_PRIORITY:
		return 2
	}
	return 1
}

// admitPost takes a post of precedence p, or refuses it with
// problem.Exhausted; release must be called once the post is done.
func (n *Node) admitPost(ctx context.Context, p iantv1.Precedence) (release func(), err error) {
	a := &n.admitted
	maxPosts := int64(n.cfg.Admission.MaxPosts)
	if maxPosts == 0 {
		maxPosts = DefaultMaxPosts
	}
	if p == iantv1.Precedence_PRECEDENCE_FLASH {
		maxPosts *= 2
	}
	if a.inflight.Add(1) > maxPosts {
		a.inflight.Add(-1)
		return nil, n.refuse(p, minRetryAfter, "%d posts are already being sealed and sent", maxPosts)
	}
	release = func() { a.inflight.Add(-1) }
	limit := n.admissionLag() * time.Duration(factor(p))
	now := n.now()
	lag, what := n.bb.InboxBacklog().Lag(), "its inbox"
	if out := n.outboxLag(ctx, now); out > lag {
		lag, what = out, "its outbox"
	}
	if lag > limit {
		release()
		return nil, n.refuse(p, lag-limit, "this node is %s behind (%s); %s posts are taken up to %s behind",
			lag.Round(time.Millisecond), what, precedenceName(p), limit)
	}
	return release, nil
}

// refuse counts and (at most every refusalLogEvery) logs a refusal and
// returns it with a retry hint of about wait.
func (n *Node) refuse(p iantv1.Precedence, wait time.Duration, format string, args ...any) error {
	a := &n.admitted
	total := a.refused.Add(1)
	a.mu.Lock()
	if now := time.Now(); now.Sub(a.loggedAt) >= refusalLogEvery {
		n.log.Warn("posts refused: the node is overloaded", "precedence", precedenceName(p), "refused", total-a.loggedCnt)
		a.loggedAt, a.loggedCnt = now, total
	}
	a.mu.Unlock()
	retry := min(max(wait.Round(10*time.Millisecond), minRetryAfter), maxRetryAfter)
	return problem.Exhausted(retry, "refused for now: "+format+"; post again in %s", append(args, retry)...)
}

// outboxLag is how long the outbox's oldest waiting copy has waited,
// read at most every outboxAgeEvery; copies to a recipient whose inbox
// the backbone reports full wait for it, not for this node, and are not
// counted. While the backbone takes none of the copies (none since the
// node started, or none for longer than FLASH's limit: it is down, or a
// leaf node is cut off) the lag is 0: that is an outage, which the
// durable outbox is for (posts are taken up to its cap,
// Config.MaxPendingCopies), not a node that cannot keep up with a
// backbone that takes its copies.
func (n *Node) outboxLag(ctx context.Context, now time.Time) time.Duration {
	taken := n.out.takenAt.Load()
	if taken == 0 || now.Sub(time.Unix(0, taken)) > n.admissionLag()*time.Duration(factor(iantv1.Precedence_PRECEDENCE_FLASH)) {
		return 0
	}
	a := &n.admitted
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.ageAt) >= outboxAgeEvery || now.Before(a.ageAt) {
		at, ok, err := n.store.OldestPendingCopy(ctx, n.out.fullRecipients()...)
		switch {
		case err != nil:
			n.log.Debug("outbox age not read", "err", err)
		case !ok:
			a.oldest = time.Time{}
		default:
			a.oldest = at
		}
		a.ageAt = now
	}
	if a.oldest.IsZero() || !now.After(a.oldest) {
		return 0
	}
	return now.Sub(a.oldest)
}

// forgetOldest makes the next outboxLag read the outbox's oldest copy
// again (copies were taken since it was read).
func (a *admission) forgetOldest() {
	a.mu.Lock()
	a.ageAt = time.Time{}
	a.mu.Unlock()
}

func (n *Node) admissionLag() time.Duration {
	if n.cfg.Admission.Lag == 0 {
		return DefaultAdmissionLag
	}
	return n.cfg.Admission.Lag
}

// precedenceName is p as people read it, e.g. "ROUTINE".
func precedenceName(p iantv1.Precedence) string {
	switch p {
	case iantv1.Precedence_PRECEDENCE_FLASH:
		return "FLASH"
	case iantv1.Precedence_PRECEDENCE_IMMEDIATE:
		return "IMMEDIATE"
	case iantv1.Precedence_PRECEDENCE_PRIORITY:
		return "PRIORITY"
	}
	return "ROUTINE"
}
