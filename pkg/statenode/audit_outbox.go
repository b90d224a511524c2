package statenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
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
)

// The receipt outbox is a table of the node's database (store.Receipt):
// an event queued survives a restart of the node and any outage of the
// backbone or the secretariat, and events that report a post or a
// delivery commit in the same transaction as it. Events are signed as
// receipts when they are published, with the SVID current then.

// publishFunc signs and publishes one queued receipt.
type publishFunc func(ctx context.Context, r store.Receipt) error

// drainReceipts publishes the receipts queued in st with publish until
// ctx ends, oldest first, retrying a failed publish with a doubling wait
// (100ms to 10s). A receipt is marked published only after publish
// returned nil, so one lost in flight is sent again; the audit log's
// idempotent append (by event) makes that harmless.
func drainReceipts(ctx context.Context, st *store.Store, wake <-chan struct{}, publish publishFunc, now func() time.Time, log *slog.Logger) {
	drainer{
		round: func(ctx context.Context) (bool, error) {
			batch, err := st.PendingReceipts(ctx, outboxBatch)
			if err == nil {
				err = publishReceiptBatch(ctx, st, batch, publish, now)
			}
			return len(batch) == outboxBatch, err
		},
		wake: wake, firstWait: firstPublishWait, maxWait: maxPublishWait, poll: outboxPoll,
		failed: func(err error, first bool) {
			if first {
				log.Warn("receipts not published, retrying", "err", err)
			}
		},
		recovered: func() { log.Info("receipts published again after a failure") },
	}.run(ctx)
}

// publishReceiptBatch publishes a batch of receipts one after the other,
// each waiting for its synced acknowledgement, and then marks those
// published in one transaction (one disk sync for the batch). A receipt
// whose publish failed stays pending and is sent again; so may one
// published but not yet marked, which the backbone de-duplicates.
//
// Publishing a node's receipts concurrently was tried and made things
// worse: with every node doing it, thousands of publishes queue at the
// server, which syncs them one by one, and they time out.
func publishReceiptBatch(ctx context.Context, st *store.Store, batch []store.Receipt, publish publishFunc, now func() time.Time) error {
	done := make([]string, 0, len(batch))
	var perr error
	for _, r := range batch {
		if err := publish(ctx, r); err != nil {
			perr = fmt.Errorf("publish receipt %s: %w", r.ID, err)
			break
		}
		done = append(done, r.ID)
	}
	if err := st.MarkReceiptsSent(context.WithoutCancel(ctx), done, now()); err != nil {
		return errors.Join(perr, fmt.Errorf("mark %d receipts published: %w", len(done), err))
	}
	return perr
}

// publishReceipts drains the receipt outbox onto the backbone until ctx
// ends, signing each event with the node's current SVID as it publishes
// it.
func (n *Node) publishReceipts(ctx context.Context) {
	drainReceipts(ctx, n.store, n.audit.wake, func(ctx context.Context, r store.Receipt) error {
		svid, err := n.cfg.SVID.GetX509SVID()
		if err != nil {
			return fmt.Errorf("get SVID: %w", err)
		}
		data, err := audit.SignEncodedReceipt(r.Event, audit.Evidence{Header: r.Header, Forward: r.Forward}, svid)
		if err != nil {
			return fmt.Errorf("sign receipt: %w", err)
		}
		_, err = n.bb.PublishEvent(ctx, r.ID, data)
		return err
	}, n.now, n.log)
}
