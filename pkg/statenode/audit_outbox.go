package statenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/store"
)

// Receipt publisher timings.
const (
	outboxBatch      = 64
	firstPublishWait = 100 * time.Millisecond
	maxPublishWait   = 10 * time.Second
	// outboxPoll is how often an idle publisher looks at the outbox even
	// when nothing woke it (a receipt queued just as it went to sleep).
	outboxPoll = 30 * time.Second
	// emitTimeout bounds the work a user's call spends queuing a receipt.
	emitTimeout = 5 * time.Second
	// receiptLinger is how long the publisher, woken by a receipt queued,
	// waits before it publishes: a delivery's "delivered" receipt and the
	// analyst's "read" that follows it within milliseconds go in one
	// batch, one synced write on the backbone instead of two. Receipts
	// are not on any user's path; the audit's deadlines are minutes.
	receiptLinger = 20 * time.Millisecond
)

// The receipt outbox is a table of the node's database (store.Receipt):
// an event queued survives a restart of the node and any outage of the
// backbone or the secretariat, and events that report a post or a
// delivery commit in the same transaction as it. Events are signed as
// receipts when they are published, with the SVID current then.

// publishFunc signs and publishes one queued receipt.
type publishFunc func(ctx context.Context, r store.Receipt) error

// publishAllFunc signs and publishes queued receipts as one atomic batch:
// all of them are stored, or (an error) none may be.
type publishAllFunc func(ctx context.Context, rs []store.Receipt) error

// receiptPublisher is how the receipt outbox is published: a round as one
// batch (all, nil for none), or receipt by receipt (one), which is also
// what a round the backbone did not take as a batch falls back to.
type receiptPublisher struct {
	one publishFunc
	all publishAllFunc
}

// drainReceipts publishes the receipts queued in st with publish until
// ctx ends, oldest first, a round at a time, retrying a failed publish
// with a doubling wait (100ms to 10s). A receipt is marked published only after publish
// returned nil, so one lost in flight is sent again; the audit log's
// idempotent append (by event) makes that harmless.
func drainReceipts(ctx context.Context, st *store.Store, wake <-chan struct{}, publish receiptPublisher, now func() time.Time, log *slog.Logger) {
	drainer{
		round: func(ctx context.Context) (bool, error) {
			batch, err := st.PendingReceipts(ctx, outboxBatch)
			if err == nil {
				err = publishReceiptBatch(ctx, st, batch, publish, now, log)
			}
			return len(batch) == outboxBatch, err
		},
		wake: wake, firstWait: firstPublishWait, maxWait: maxPublishWait, poll: outboxPoll, linger: receiptLinger,
		failed: func(err error, first bool) {
			if first {
				log.Warn("receipts not published, retrying", "err", err)
			}
		},
		recovered: func() { log.Info("receipts published again after a failure") },
	}.run(ctx)
}

// publishReceiptBatch publishes a round's receipts as one atomic batch
// (one round trip; on a single server, one sync for all) and then marks
// them published in one transaction. When the backbone does not take the
// batch (atomic publish not allowed, a timeout), it publishes them one
// after the other, each waiting for its synced acknowledgement, and marks
// those published. A receipt whose publish failed stays pending and is
// sent again; so may one published but not yet marked, or a batch stored
// but whose acknowledgement was lost: the audit log, idempotent by event,
// logs each once.
//
// Publishing a node's receipts concurrently was tried and made things
// worse: with every node doing it, thousands of publishes queue at the
// server, which syncs them one by one, and they time out.
func publishReceiptBatch(ctx context.Context, st *store.Store, batch []store.Receipt, publish receiptPublisher, now func() time.Time, log *slog.Logger) error {
	if publish.all != nil && len(batch) > 1 {
		err := publish.all(ctx, batch)
		if err == nil {
			done := make([]string, len(batch))
			for i, r := range batch {
				done[i] = r.ID
			}
			return markReceiptsSent(ctx, st, done, now, nil)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("publish %d receipts: %w", len(batch), err)
		}
		log.Debug("batch of receipts not published; publishing them one by one", "receipts", len(batch), "err", err)
	}
	done := make([]string, 0, len(batch))
	var perr error
	for _, r := range batch {
		if err := publish.one(ctx, r); err != nil {
			perr = fmt.Errorf("publish receipt %s: %w", r.ID, err)
			break
		}
		done = append(done, r.ID)
	}
	return markReceiptsSent(ctx, st, done, now, perr)
}

// markReceiptsSent marks the receipts done published, and returns perr
// joined with the failure to mark them.
func markReceiptsSent(ctx context.Context, st *store.Store, done []string, now func() time.Time, perr error) error {
	if err := st.MarkReceiptsSent(context.WithoutCancel(ctx), done, now()); err != nil {
		return errors.Join(perr, fmt.Errorf("mark %d receipts published: %w", len(done), err))
	}
	return perr
}

// publishReceipts drains the receipt outbox onto the backbone until ctx
// ends, signing each event with the node's current SVID as it publishes
// it, a round as one atomic batch while the backbone takes them.
func (n *Node) publishReceipts(ctx context.Context) {
	drainReceipts(ctx, n.store, n.audit.wake, receiptPublisher{
		one: func(ctx context.Context, r store.Receipt) error {
			data, err := n.signReceipt(r)
			if err != nil {
				return err
			}
			_, err = n.bb.PublishEvent(ctx, r.ID, data)
			return err
		},
		all: n.publishReceiptsAtOnce,
	}, n.now, n.log)
}

// publishReceiptsAtOnce signs rs and publishes them as one atomic batch,
// while the event stream takes batches.
func (n *Node) publishReceiptsAtOnce(ctx context.Context, rs []store.Receipt) error {
	if !n.bb.EventBatchEnabled() {
		return backbone.ErrBatchRefused
	}
	events := make([]backbone.EventData, len(rs))
	for i, r := range rs {
		data, err := n.signReceipt(r)
		if err != nil {
			return err
		}
		events[i] = backbone.EventData{ID: r.ID, Data: data}
	}
	_, err := n.bb.PublishEventBatch(ctx, events)
	return err
}

// signReceipt signs queued receipt r with the node's current SVID.
func (n *Node) signReceipt(r store.Receipt) ([]byte, error) {
	svid, err := n.cfg.SVID.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("get SVID: %w", err)
	}
	data, err := audit.SignEncodedReceipt(r.Event, audit.Evidence{Header: r.Header, Forward: r.Forward}, svid)
	if err != nil {
		return nil, fmt.Errorf("sign receipt: %w", err)
	}
	return data, nil
}
