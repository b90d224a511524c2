package statenode

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/sqlitedb"
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

// outboxMigrations is the outbox schema. A row is kept after its receipt
// was published (event NULL, sent_at set): the id then remembers that
// the event was reported, so it is reported once ("read" once per person,
// "delivered" once per bulletin), across restarts.
var outboxMigrations = []string{`
CREATE TABLE receipts (
	id        TEXT    PRIMARY KEY, -- event id: hex SHA-256 of the event key
	event     BLOB,                -- the event's canonical encoding; NULL once published
	queued_at INTEGER NOT NULL,    -- Unix nanoseconds
	sent_at   INTEGER              -- Unix nanoseconds; NULL while pending
) STRICT, WITHOUT ROWID;
CREATE INDEX receipts_pending ON receipts (queued_at) WHERE sent_at IS NULL;
`,
	// 2: the evidence a receipt carries (audit.Evidence): the origin's
	// header attestation, a forwarder's statement. NULL once published.
	`
ALTER TABLE receipts ADD COLUMN header BLOB;
ALTER TABLE receipts ADD COLUMN forward BLOB;
`}

// outbox is a state node's queue of audit events waiting for the
// backbone, in its own SQLite file: an event queued survives a restart of
// the node and any outage of the backbone or the secretariat. Events are
// signed as receipts when they are published, with the SVID current then.
type outbox struct {
	db   *sql.DB
	wake chan struct{} // has a token when something was queued
}

func openOutbox(ctx context.Context, path string) (*outbox, error) {
	db, err := sqlitedb.Open(ctx, path, outboxMigrations, nil)
	if err != nil {
		return nil, err
	}
	return &outbox{db: db, wake: make(chan struct{}, 1)}, nil
}

func (o *outbox) close() error { return o.db.Close() }

// has reports whether the event id was queued before.
func (o *outbox) has(ctx context.Context, id string) (bool, error) {
	var one int
	err := o.db.QueryRowContext(ctx, `SELECT 1 FROM receipts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// add queues encoded events, in one transaction, except those whose id
// was queued before; it returns how many it queued and wakes the
// publisher.
func (o *outbox) add(ctx context.Context, items []queued, now time.Time) (int, error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	added := 0
	for _, q := range items {
		res, err := tx.ExecContext(ctx, `INSERT INTO receipts (id, event, header, forward, queued_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, q.id, q.event, nilIfEmpty(q.ev.Header), nilIfEmpty(q.ev.Forward), now.UnixNano())
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += int(n)
	}
	if added == 0 {
		return 0, nil
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return added, nil
}

// queued is one event waiting to be published, with the evidence its
// receipt carries.
type queued struct {
	id    string
	event []byte
	ev    audit.Evidence
}

// nilIfEmpty stores an absent evidence field as NULL.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// pending returns up to limit events not yet published, oldest first.
func (o *outbox) pending(ctx context.Context, limit int) ([]queued, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT id, event, header, forward FROM receipts
		WHERE sent_at IS NULL ORDER BY queued_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.id, &q.event, &q.ev.Header, &q.ev.Forward); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// sent records that the events ids were published, dropping their bytes,
// in one transaction (one disk sync for the lot).
func (o *outbox) sent(ctx context.Context, ids []string, now time.Time) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE receipts SET event = NULL, header = NULL, forward = NULL, sent_at = ? WHERE id = ?`, now.UnixNano(), id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// countPending returns how many receipts wait to be published.
func (o *outbox) countPending(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT count(*) FROM receipts WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

// publishFunc signs and publishes one encoded event, with its evidence,
// under its id.
type publishFunc func(ctx context.Context, q queued) error

// drain publishes the outbox's receipts with publish until ctx ends,
// oldest first, retrying a failed publish with a doubling wait (100ms to
// 10s). A receipt is marked published only after publish returned nil, so
// one lost in flight is sent again; the backbone's de-duplication by event
// id and the log's idempotent append make that harmless.
func (o *outbox) drain(ctx context.Context, publish publishFunc, now func() time.Time, log *slog.Logger) {
	wait := firstPublishWait
	failing := false
	for ctx.Err() == nil {
		batch, err := o.pending(ctx, outboxBatch)
		if err == nil {
			err = o.publishAll(ctx, batch, publish, now)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				log.Warn("receipts not published, retrying", "err", err)
			}
			failing = true
			if !sleepCtx(ctx, wait) {
				return
			}
			wait = min(2*wait, maxPublishWait)
			continue
		}
		if failing {
			log.Info("receipts published again after a failure")
		}
		failing, wait = false, firstPublishWait
		if len(batch) == outboxBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-time.After(outboxPoll):
		}
	}
}

// publishAll publishes a batch of receipts one after the other, each
// waiting for its synced acknowledgement, and then marks those published
// in one transaction (one disk sync for the batch). A receipt whose
// publish failed stays pending and is sent again; so may one published
// but not yet marked, which the backbone de-duplicates.
//
// Publishing a node's receipts concurrently was tried and made things
// worse: with every node doing it, thousands of publishes queue at the
// server, which syncs them one by one, and they time out.
func (o *outbox) publishAll(ctx context.Context, batch []queued, publish publishFunc, now func() time.Time) error {
	done := make([]string, 0, len(batch))
	var perr error
	for _, q := range batch {
		if err := publish(ctx, q); err != nil {
			perr = fmt.Errorf("publish receipt %s: %w", q.id, err)
			break
		}
		done = append(done, q.id)
	}
	if len(done) > 0 {
		if err := o.sent(ctx, done, now()); err != nil {
			return errors.Join(perr, fmt.Errorf("mark %d receipts published: %w", len(done), err))
		}
	}
	return perr
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

// publishReceipts drains the outbox onto the backbone until ctx ends,
// signing each event with the node's current SVID as it publishes it.
func (n *Node) publishReceipts(ctx context.Context) {
	n.audit.outbox.drain(ctx, func(ctx context.Context, q queued) error {
		svid, err := n.cfg.SVID.GetX509SVID()
		if err != nil {
			return fmt.Errorf("get SVID: %w", err)
		}
		data, err := audit.SignEncodedReceipt(q.event, q.ev, svid)
		if err != nil {
			return fmt.Errorf("sign receipt: %w", err)
		}
		_, err = n.bb.PublishEvent(ctx, q.id, data)
		return err
	}, n.now, n.log)
}
