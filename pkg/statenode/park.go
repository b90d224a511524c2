package statenode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/store"
)

// Parked copies. The inbox consumer hands this node one unacknowledged
// copy at a time (so that copies are stored and shown in order), so a
// copy redelivered again and again would hold back every copy behind it:
// any state could stall another's inbox by publishing copies no node can
// decide (an unknown format version, a signer whose directory entry never
// appears). A copy that cannot be decided now is therefore parked: kept
// in node.db (store.Park, with its subject, origin, id, bytes, when it
// was first seen, how often it was tried and why it waits) and
// acknowledged on the backbone, and the inbox moves on at once. Only
// local, brief failures (the node closing, a busy store) still have a
// copy redelivered (receive.go).
//
// Parking is idempotent by (origin, id, copy hash), so a crash between
// parking and acknowledging parks nothing twice; and bounded per
// publishing state ([ParkConfig]): beyond the bound, that state's further
// undecidable copies are rejected (receive.park_full, audited), never
// another state's. The state bounded is the one that published the copy
// (the backbone lets a node publish only as itself): the bulletin's
// origin, or the forwarder of a forward.
//
// The node tries parked copies again, in park order: every one at start
// (the node may have been upgraded to a version that reads them), the
// ones waiting for a state's directory entry as soon as the node sees
// that entry (it vouches for one of the state's keys: sealing.go), and
// each on its own schedule, backing off from parkFirstRetry. A parked
// copy decided leaves the park: stored, after what arrived meanwhile (it
// gets a new cursor), or rejected as a verdict (audited) — e.g. a signer
// still unvouched once EntryWait has passed since the copy was published.
// A rebuild (rebuild.go) parks what it cannot decide, through the same
// receive path.

// Park reasons, stored with each parked copy (frozen: node.db keeps them).
const (
	// reasonSigner: the signer's state's directory entry is missing or
	// does not verify now.
	reasonSigner = "signer"
	// reasonVersion: a sealed format version this node does not know.
	reasonVersion = "version"
	// reasonRetry: a temporary failure that lasted parkAfterDeliveries
	// deliveries.
	reasonRetry = "retry"
)

// Park timings.
const (
	// parkAfterDeliveries is how many deliveries of a copy a temporary
	// failure may last before the copy is parked rather than
	// redelivered.
	parkAfterDeliveries = 4
	// parkFirstRetry is the first wait before a parked copy is tried
	// again; each further attempt doubles it, up to parkMaxRetry (a
	// copy waiting for an upgrade: parkVersionRetry).
	parkFirstRetry   = time.Second
	parkMaxRetry     = time.Minute
	parkVersionRetry = time.Hour
	// parkBatch is how many parked copies are read at a time.
	parkBatch = 64
)

// Defaults of [ParkConfig].
const (
	DefaultParkMaxCopies = 1000
	DefaultParkMaxBytes  = 16 << 20
)

// ParkConfig bounds the copies a node parks for each state that
// published them (see [Node.Parked]). Zero values mean the defaults.
type ParkConfig struct {
	// MaxCopies bounds the copies parked from one state; default
	// [DefaultParkMaxCopies].
	MaxCopies int
	// MaxBytes bounds their bytes; default [DefaultParkMaxBytes] (16 MiB:
	// the 34 other states together at most about 550 MB).
	MaxBytes int64
}

func (c ParkConfig) validate() error {
	switch {
	case c.MaxCopies < 0:
		return errors.New("statenode: config: Park.MaxCopies is negative")
	case c.MaxBytes < 0:
		return errors.New("statenode: config: Park.MaxBytes is negative")
	}
	return nil
}

// limits are c's bounds, defaults applied.
func (c ParkConfig) limits() store.ParkLimits {
	l := store.ParkLimits{MaxCopies: c.MaxCopies, MaxBytes: c.MaxBytes}
	if l.MaxCopies == 0 {
		l.MaxCopies = DefaultParkMaxCopies
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultParkMaxBytes
	}
	return l
}

// parkState is the node's side of its parked copies: which states'
// entries they wait for, and the wake-up of the retry loop.
type parkState struct {
	wake chan struct{}

	mu sync.Mutex
	// waiting: states whose directory entries parked copies wait for.
	waiting map[string]bool
	// seen: of those, the states the node has since seen vouched for.
	seen map[string]bool
}

func (p *parkState) init() {
	p.wake = make(chan struct{}, 1)
	p.waiting, p.seen = map[string]bool{}, map[string]bool{}
}

// park keeps copy m, which cannot be decided now (w), and returns nil so
// that the backbone acknowledges it; or rejects it (through reject) when
// its publishing state's parked copies are at their bound; or returns a
// temporary error (redelivered) when it cannot be kept.
func (n *Node) park(ctx context.Context, m backbone.Msg, w *wait, reject rejectFunc) error {
	now := n.now()
	p := store.ParkedCopy{Subject: m.Subject, Origin: m.Origin, BulletinID: m.ID, Data: m.Data, StreamSeq: m.StreamSeq,
		Published: m.Published, FirstSeen: now, Attempts: 1, Reason: w.reason, WaitingFor: w.state,
		NextTry: n.nextTry(m, w, 1, now)}
	added, err := n.store.Park(ctx, p, n.cfg.Park.limits())
	switch {
	case errors.Is(err, store.ErrParkFull):
		return reject(m, "park_full", fmt.Errorf("%w; the copy waits for %s: %v", err, w.reason, w.cause))
	case err != nil:
		n.log.Warn("copy not parked; it is redelivered", "bulletin_id", m.ID, "origin", m.Origin, "err", err)
		return fmt.Errorf("park copy %s from %s: %w", m.ID, m.Origin, err)
	}
	if w.state != "" {
		n.parked.mu.Lock()
		n.parked.waiting[w.state] = true
		n.parked.mu.Unlock()
	}
	if added {
		n.log.Warn("copy parked: it cannot be decided now, the inbox moves on", "subject", m.Subject, "bulletin_id", m.ID,
			"origin", m.Origin, "reason", w.reason, "waiting_for", w.state, "err", w.cause)
		wakeUp(n.parked.wake)
	}
	return nil
}

// nextTry is when copy m, tried attempts times and waiting for w, is
// tried again: backing off from parkFirstRetry, and, for a signer not
// vouched for yet, no later than when EntryWait runs out (the verdict).
func (n *Node) nextTry(m backbone.Msg, w *wait, attempts int, now time.Time) time.Time {
	limit := parkMaxRetry
	if w.reason == reasonVersion {
		limit = parkVersionRetry
	}
	d := parkFirstRetry
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	next := now.Add(min(d, limit))
	if w.reason == reasonSigner && !m.Published.IsZero() {
		if due := m.Published.Add(n.entryWait()); due.Before(next) {
			next = due
		}
	}
	return next
}

// entrySeen tells the park that the node has seen state's directory
// entry vouch for a key: the copies waiting for it are tried at once.
func (n *Node) entrySeen(state string) {
	n.parked.mu.Lock()
	hurry := n.parked.waiting[state] && !n.parked.seen[state]
	if hurry {
		n.parked.seen[state] = true
	}
	n.parked.mu.Unlock()
	if hurry {
		wakeUp(n.parked.wake)
	}
}

// runPark tries parked copies again until ctx ends: all of them at
// start, then as they fall due or as the node sees the entries they wait
// for.
func (n *Node) runPark(ctx context.Context) {
	if _, err := n.store.HurryParked(ctx, "", n.now()); err != nil && ctx.Err() == nil {
		n.log.Warn("parked copies not tried at start", "err", err)
	}
	if counts, err := n.store.ParkedByOrigin(ctx); err == nil && len(counts) > 0 {
		n.log.Info("parked copies from before the start, tried again", "parked", sumParked(counts).Copies)
	}
	for {
		n.hurrySeen(ctx)
		n.retryParked(ctx)
		wait := parkMaxRetry
		if next, ok, err := n.store.NextParkedTry(ctx); err == nil && ok {
			wait = max(next.Sub(n.now()), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-n.parked.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// hurrySeen makes due the parked copies waiting for the entries the node
// has seen since, and learns again which states parked copies wait for.
func (n *Node) hurrySeen(ctx context.Context) {
	n.parked.mu.Lock()
	seen := n.parked.seen
	n.parked.seen = map[string]bool{}
	n.parked.mu.Unlock()
	for state := range seen {
		if _, err := n.store.HurryParked(ctx, state, n.now()); err != nil {
			n.log.Warn("parked copies not hurried", "state", state, "err", err)
		}
	}
	waiting, err := n.store.ParkedWaitingFor(ctx)
	if err != nil {
		return
	}
	n.parked.mu.Lock()
	n.parked.waiting = map[string]bool{}
	for _, s := range waiting {
		n.parked.waiting[s] = true
	}
	n.parked.mu.Unlock()
}

// retryParked tries every parked copy due now once, in park order, and
// records what came of each.
func (n *Node) retryParked(ctx context.Context) {
	round := n.now()
	unvouched := map[string]error{} // states whose entries still do not vouch, this round
	for ctx.Err() == nil {
		due, err := n.store.DueParked(ctx, round, parkBatch)
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("parked copies not read", "err", err)
			}
			return
		}
		var decided []uint64
		var later []store.ParkRetry
		for _, p := range due {
			r, ok := n.retryOne(ctx, p, unvouched)
			if ok {
				decided = append(decided, p.Seq)
			} else {
				later = append(later, r)
			}
		}
		if err := errors.Join(n.store.Unpark(ctx, decided...), n.store.RetryParked(ctx, later)); err != nil {
			if ctx.Err() == nil {
				n.log.Warn("parked copies not updated", "err", err)
			}
			return
		}
		if len(due) < parkBatch {
			return
		}
	}
}

// retryOne tries parked copy p: decided (stored or rejected), or when to
// try it again. A copy waiting for a state already found unvouched this
// round is not opened again, unless its EntryWait has run out.
func (n *Node) retryOne(ctx context.Context, p store.ParkedCopy, unvouched map[string]error) (store.ParkRetry, bool) {
	m := backbone.Msg{Subject: p.Subject, Recipient: n.self.State, Origin: p.Origin, ID: p.BulletinID, Data: p.Data,
		StreamSeq: p.StreamSeq, NumDelivered: uint64(p.Attempts) + 1, Published: p.Published}
	now := n.now()
	var d decision
	if cause, ok := unvouched[p.WaitingFor]; ok && p.Reason == reasonSigner && now.Sub(p.Published) < n.entryWait() {
		d.wait = &wait{reason: reasonSigner, state: p.WaitingFor, cause: cause}
	} else {
		d = n.decide(ctx, m, n.reject)
	}
	switch {
	case d.wait != nil:
		if d.wait.reason == reasonSigner {
			unvouched[d.wait.state] = d.wait.cause
		}
		n.log.Debug("parked copy still undecided", "bulletin_id", p.BulletinID, "origin", p.Origin, "reason", d.wait.reason, "err", d.wait.cause)
		return store.ParkRetry{Seq: p.Seq, Attempts: p.Attempts + 1, Reason: d.wait.reason, WaitingFor: d.wait.state,
			NextTry: n.nextTry(m, d.wait, p.Attempts+1, now)}, false
	case d.err == nil:
		n.log.Info("parked copy stored", "bulletin_id", p.BulletinID, "origin", p.Origin, "reason", p.Reason,
			"parked_for", now.Sub(p.FirstSeen).Round(time.Millisecond))
		return store.ParkRetry{}, true
	case errors.Is(d.err, backbone.ErrReject):
		return store.ParkRetry{}, true // reject logged and audited it
	}
	// A temporary failure: try again soon, as the copy was.
	return store.ParkRetry{Seq: p.Seq, Attempts: p.Attempts, Reason: p.Reason, WaitingFor: p.WaitingFor,
		NextTry: now.Add(parkFirstRetry)}, false
}

// ParkedStats describes the copies a node parked: copies from its inbox
// it could not decide yet, kept until they are (see [ParkConfig]).
type ParkedStats struct {
	// Copies and Bytes count every parked copy.
	Copies int
	Bytes  int64
	// ByOrigin counts them per publishing state, sorted by state.
	ByOrigin []store.ParkedCount
}

// Parked describes the copies the node parked.
func (n *Node) Parked(ctx context.Context) (ParkedStats, error) {
	counts, err := n.store.ParkedByOrigin(ctx)
	if err != nil {
		return ParkedStats{}, fmt.Errorf("statenode: %w", err)
	}
	s := sumParked(counts)
	s.ByOrigin = counts
	return s, nil
}

// sumParked totals counts.
func sumParked(counts []store.ParkedCount) ParkedStats {
	var s ParkedStats
	for _, c := range counts {
		s.Copies += c.Copies
		s.Bytes += c.Bytes
	}
	return s
}
