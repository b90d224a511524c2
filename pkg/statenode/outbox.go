package statenode

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// The copy outbox (DESIGN.md, "Nothing acknowledged is lost"). A post
// commits its sealed copies in the node's database, in the same
// transaction as the sent bulletin and its receipts, before the author
// is answered; one drainer publishes them to the recipients' inboxes and
// marks each published once the backbone acknowledged it. It is the one
// way copies leave the node, whether it connects to the backbone directly
// or through its leaf node, so a post cut short by a failing backbone, a
// client's deadline or a crash is completed, not repeated: after a restart
// the drainer takes up what is pending.

// Defaults of the copy outbox.
const (
	// DefaultPostWait is how long a committed post waits for its copies
	// to be published before it answers with those still pending.
	DefaultPostWait = 3 * time.Second
	// DefaultMaxPendingCopies bounds the copies waiting in the outbox:
	// about 65 MB of broadcast copies.
	DefaultMaxPendingCopies = 10000
)

// Drainer timings and sizes.
const (
	copyBatch          = 256
	copyPublishTimeout = 15 * time.Second // one publish, a cluster's election included
	firstCopyRetry     = 100 * time.Millisecond
	maxCopyRetry       = 5 * time.Second
	copyPoll           = 30 * time.Second
)

// MaxInflightCopies bounds the copies being published at once, across
// recipients (each recipient's copies go one after the other, in commit
// order). A few in flight save most of the round trips; all 34 of a
// broadcast at once made the backbone collapse at 20 broadcasts/s: the
// server syncs each copy in turn, queued copies wait past the publish
// attempt timeout (2 s) and are sent again, and the resends queue too.
const MaxInflightCopies = 8

// copyOutbox is the state of the node's copy drainer.
type copyOutbox struct {
	wake      chan struct{} // has a token when copies were committed
	published *hub          // notified after each drain round
	// publish publishes one copy: the backbone's PublishInbox (a test
	// may wrap it to inject failures in front of the backbone).
	publish atomic.Pointer[publishCopyFunc]
	// batch publishes a round's copies as one atomic batch
	// (outbox_batch.go); nil publishes them one by one.
	batch      atomic.Pointer[publishBatchFunc]
	full       fullInboxes   // recipients whose inbox the backbone says is full
	count      atomic.Uint64 // copies acknowledged since start
	duplicates atomic.Uint64 // of those, acknowledged as duplicates
	// rounds counts the drain rounds started; ended is the last round
	// ended, shifted left by one, with its lowest bit set if it failed.
	rounds, ended atomic.Uint64
	// takenAt is when (UnixNano, on the node's clock) a round last had
	// copies taken by the backbone; 0 if none since start.
	takenAt atomic.Int64
}

// failedSince reports whether a drain round started after round r ended
// with a failure: copies committed before it that still wait were tried
// and the backbone did not take them.
func (o *copyOutbox) failedSince(r uint64) bool {
	e := o.ended.Load()
	return e>>1 > r && e&1 == 1
}

// publishCopyFunc publishes one copy and returns the backbone's
// acknowledgement.
type publishCopyFunc func(ctx context.Context, c store.Copy) (backbone.PubAck, error)

func (n *Node) newCopyOutbox() {
	n.out.wake, n.out.published = make(chan struct{}, 1), newHub()
	publish := publishCopyFunc(func(ctx context.Context, c store.Copy) (backbone.PubAck, error) {
		return n.bb.PublishInbox(ctx, c.Recipient, c.Origin, c.BulletinID, c.Data)
	})
	n.out.publish.Store(&publish)
	batch := n.newBatchPublish()
	n.out.batch.Store(&batch)
}

// drainCopies publishes the outbox's copies until ctx ends.
func (n *Node) drainCopies(ctx context.Context) {
	drainer{
		round: func(ctx context.Context) (bool, error) {
			r := n.out.rounds.Add(1)
			taken, began := n.out.count.Load(), n.now()
			batch, err := n.store.PendingCopies(ctx, copyBatch)
			if err == nil {
				err = n.publishCopies(ctx, batch)
			}
			if n.out.count.Load() != taken {
				// When the round began: the backbone took copies it
				// read then, whenever the round ends.
				n.out.takenAt.Store(began.UnixNano())
				n.admitted.forgetOldest() // admission reads the outbox again
			}
			failed := uint64(0)
			if err != nil {
				failed = 1
			}
			n.out.ended.Store(r<<1 | failed)
			n.out.published.notify()
			return len(batch) == copyBatch, err
		},
		wake: n.out.wake, firstWait: firstCopyRetry, maxWait: maxCopyRetry, poll: copyPoll, wakeRetries: true,
		failed: func(err error, first bool) {
			switch {
			case permanent(err):
				// The post checked what the backbone checks: a broken
				// invariant. The copy stays and is retried.
				n.log.Error("the backbone refuses a committed copy; retrying", "err", err)
			case first:
				n.log.Warn("copies not published, retrying until the backbone takes them", "err", err)
			}
		},
		recovered: func() { n.log.Info("copies published again after a failure") },
	}.run(ctx)
}

// permanent reports an error that retrying will not cure.
func permanent(err error) bool {
	return errors.Is(err, backbone.ErrForbidden) || errors.Is(err, backbone.ErrInvalidSubject) || errors.Is(err, backbone.ErrTooLarge)
}

// publishCopies publishes a batch: each recipient's copies one after the
// other in commit order, up to [MaxInflightCopies] recipients at a time. A
// recipient's first failure holds back its later copies (its inbox stays
// in order) but not other recipients'. The copies acknowledged are marked
// published in one transaction; the first failure is returned.
func (n *Node) publishCopies(ctx context.Context, batch []store.Copy) error {
	if ok, err := n.publishBatch(ctx, batch); ok {
		return err
	}
	groups := byRecipient(batch)
	done := make([][]uint64, len(groups))
	errs := make([]error, len(groups))
	forEachLimit(len(groups), MaxInflightCopies, func(i int) {
		for _, c := range groups[i] {
			if err := n.publishCopy(ctx, c); err != nil {
				errs[i] = err
				return
			}
			done[i] = append(done[i], c.Seq)
		}
	})
	var seqs []uint64
	for _, d := range done {
		seqs = append(seqs, d...)
	}
	if err := n.store.MarkCopiesPublished(context.WithoutCancel(ctx), seqs, n.now()); err != nil {
		return fmt.Errorf("mark %d copies published: %w", len(seqs), err)
	}
	return errors.Join(errs...)
}

// byRecipient splits copies by recipient, keeping commit order within
// each and ordering the groups by their first copy.
func byRecipient(batch []store.Copy) [][]store.Copy {
	at := map[string]int{}
	var groups [][]store.Copy
	for _, c := range batch {
		i, ok := at[c.Recipient]
		if !ok {
			i = len(groups)
			at[c.Recipient] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// publishCopy publishes one copy and waits for its acknowledgement.
func (n *Node) publishCopy(ctx context.Context, c store.Copy) error {
	ctx, cancel := context.WithTimeout(ctx, copyPublishTimeout)
	defer cancel()
	ack, err := (*n.out.publish.Load())(ctx, c)
	n.out.noteFull(c.Recipient, errors.Is(err, backbone.ErrInboxFull))
	if err != nil {
		return fmt.Errorf("publish copy of %s for %s: %w", c.BulletinID, c.Recipient, err)
	}
	n.out.count.Add(1)
	n.ops.met.CopyPublished()
	if ack.Duplicate {
		// The Nats-Msg-Id binds recipient, origin, id and these bytes,
		// which no other state saw before they were stored: this is the
		// node's own earlier publish of this copy, whose acknowledgement
		// was lost or whose marking a crash undid. Nothing new was
		// stored; it is counted, and logged as it is rare.
		n.out.duplicates.Add(1)
		n.log.Info("copy was already on the backbone (this node's earlier publish)", "bulletin_id", c.BulletinID,
			"recipient", c.Recipient, "seq", ack.Seq)
		return nil
	}
	n.log.Debug("copy published", "bulletin_id", c.BulletinID, "recipient", c.Recipient, "seq", ack.Seq)
	return nil
}

// awaitCopies waits, up to PostWait, until no copy of bulletin id of
// origin (this state's, or one it forwards) waits in the outbox, and returns the recipients whose copies still wait. It
// returns early when a drain round that started after the call failed
// (the backbone, or the leaf's link, is down: no use waiting), when ctx
// ends or the node closes. since is [copyOutbox.rounds] read before the
// copies were committed.
func (n *Node) awaitCopies(ctx context.Context, since uint64, origin, id string, recipients []string) []string {
	timer := time.NewTimer(n.postWait())
	defer timer.Stop()
	for {
		ch := n.out.published.changed()
		failed := n.out.failedSince(since)
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emitTimeout)
		pending, err := n.store.PendingRecipients(qctx, origin, id)
		cancel()
		if err != nil {
			// Not known to be on the backbone: say so.
			n.log.Warn("pending copies not read", "bulletin_id", id, "err", err)
			return recipients
		}
		if len(pending) == 0 {
			return nil
		}
		if failed {
			return pending
		}
		select {
		case <-ch:
		case <-timer.C:
			return pending
		case <-ctx.Done():
			return pending
		case <-n.closing:
			return pending
		}
	}
}

func (n *Node) postWait() time.Duration {
	if n.cfg.PostWait == 0 {
		return DefaultPostWait
	}
	return n.cfg.PostWait
}

// outboxFull is the refusal of a post or forward while the outbox holds
// MaxPendingCopies copies: Unavailable, naming the bound.
func (n *Node) outboxFull(cause error) error {
	bound := n.maxPendingCopies()
	n.log.Warn("refused: the outbox is full", "bound", bound)
	n.ops.met.Refused("node.outbox_full")
	return problem.Unavailable(cause, "this node's outbox is full: %d copies wait for the backbone, its bound "+
		"(max_pending_copies); post again once the backbone has taken them", bound)
}

func (n *Node) maxPendingCopies() int {
	if n.cfg.MaxPendingCopies == 0 {
		return DefaultMaxPendingCopies
	}
	return n.cfg.MaxPendingCopies
}

// takeLegacyOutbox moves the copies an earlier version left in its leaf
// node's outbox stream into the node's outbox, in their order.
func (n *Node) takeLegacyOutbox(ctx context.Context) error {
	_, err := n.bb.TakeLegacyOutbox(ctx, func(old []backbone.LegacyCopy) error {
		cs := make([]store.Copy, len(old))
		for i, c := range old {
			cs[i] = store.Copy{Recipient: c.Recipient, Origin: c.Origin, BulletinID: c.ID, Data: c.Data}
		}
		_, err := n.store.QueueCopies(ctx, cs, n.now(), 0)
		return err
	})
	return err
}

// OutboxStats describes the node's copy outbox.
type OutboxStats struct {
	// Pending is how many copies are committed at this node and not yet
	// acknowledged by the backbone.
	Pending int
	// Published is how many copies the backbone acknowledged to this
	// node since it started, duplicates included.
	Published uint64
	// Duplicates is how many of those the backbone acknowledged as
	// duplicates: copies this node had published before (an
	// acknowledgement lost, or a crash before it was recorded).
	Duplicates uint64
}

// Outbox describes the node's copy outbox, whether the node connects to
// the backbone directly or through its leaf node.
func (n *Node) Outbox(ctx context.Context) (OutboxStats, error) {
	p, err := n.store.CountPendingCopies(ctx)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("statenode: %w", err)
	}
	return OutboxStats{Pending: p, Published: n.out.count.Load(), Duplicates: n.out.duplicates.Load()}, nil
}

// queueForward commits a forward's copy in the outbox, with the receipts
// rs that report it, the record of the forward and the use of consent
// grant (if not ""), and waits, as a post does, up to PostWait for it to
// be published; one that still waits is published later. The same copy
// queued again is queued once.
func (n *Node) queueForward(ctx context.Context, c store.Copy, grant string, rs ...store.Receipt) error {
	if len(c.Data) > backbone.MaxDataSize {
		return problem.Invalid("bulletin", "the sealed copy for %s is %d bytes, more than the backbone's %d", c.Recipient, len(c.Data), backbone.MaxDataSize)
	}
	added, err := n.store.QueueForward(ctx, c, grant, rs, n.now(), n.maxPendingCopies())
	switch {
	case errors.Is(err, store.ErrOutboxFull):
		return n.outboxFull(err)
	case errors.Is(err, store.ErrGrantUsed):
		return err
	case err != nil:
		return storeProblem(err)
	}
	if added > 0 && len(rs) > 0 {
		wakeUp(n.audit.wake)
	}
	since := n.out.rounds.Load() // rounds after the commit try the copy
	wakeUp(n.out.wake)
	origin := c.BulletinOrigin
	if origin == "" {
		origin = c.Origin
	}
	if pending := n.awaitCopies(ctx, since, origin, c.BulletinID, []string{c.Recipient}); len(pending) > 0 {
		n.log.Info("copy queued; it waits for the backbone", "bulletin_id", c.BulletinID, "recipient", c.Recipient)
	}
	return nil
}
