package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Receipt is an audit event waiting in the node's receipt outbox, to be
// signed and published for the secretariat. A receipt is queued once per
// id: its row stays after it was published, so the same event queued again
// (a "read" by the same person, a "delivered" after a replay) is dropped.
type Receipt struct {
	// ID is the event id (audit.EventID), the key of de-duplication.
	ID string
	// Event is the event's canonical encoding.
	Event []byte
	// Header and Forward are the evidence the receipt carries, opaque
	// here (audit.Evidence): the origin's header attestation, a
	// forwarder's statement; either may be empty.
	Header, Forward []byte
}

// insertReceipts queues receipts whose id is new, in the order given,
// and returns how many.
func insertReceipts(ctx context.Context, tx *sql.Tx, rs []Receipt, at time.Time) (int, error) {
	added := 0
	for _, r := range rs {
		if r.ID == "" || len(r.Event) == 0 {
			return 0, fmt.Errorf("receipt %q is incomplete", r.ID)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO receipts (id, event, header, forward, queued_at, seq)
			VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM receipts))
			ON CONFLICT (id) DO NOTHING`, r.ID, r.Event, nilIfEmpty(r.Header), nilIfEmpty(r.Forward), at.UnixNano())
		if err != nil {
			return 0, fmt.Errorf("queue receipt %s: %w", r.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("queue receipt %s: %w", r.ID, err)
		}
		added += int(n)
	}
	return added, nil
}

// QueueReceipts queues receipts whose id was never queued, in one
// transaction, and returns how many it queued. When none is new it writes
// nothing. [ErrClosed] after Close.
func (s *Store) QueueReceipts(ctx context.Context, rs []Receipt, at time.Time) (int, error) {
	fresh, err := s.newReceipts(ctx, rs)
	if err != nil || len(fresh) == 0 {
		return 0, wrapErr("store: queue receipts", err)
	}
	added := 0
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		added, err = insertReceipts(ctx, tx, fresh, at)
		return added > 0, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue receipts: %w", err)
	}
	return added, nil
}

// newReceipts returns the receipts of rs whose id is not queued yet: a
// read, so that a receipt reported again (every read of a bulletin by the
// same person) costs no write.
func (s *Store) newReceipts(ctx context.Context, rs []Receipt) ([]Receipt, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	var out []Receipt
	for _, r := range rs {
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM receipts WHERE id = ?`, r.ID).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = append(out, r)
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// HasReceipt reports whether a receipt with id was ever queued.
// [ErrClosed] after Close.
func (s *Store) HasReceipt(ctx context.Context, id string) (bool, error) {
	fresh, err := s.newReceipts(ctx, []Receipt{{ID: id}})
	if err != nil {
		return false, fmt.Errorf("store: receipt %s: %w", id, err)
	}
	return len(fresh) == 0, nil
}

// PendingReceipts returns up to limit receipts not yet published, oldest
// first. [ErrClosed] after Close.
func (s *Store) PendingReceipts(ctx context.Context, limit int) ([]Receipt, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: pending receipts: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT id, event, header, forward FROM receipts
		WHERE sent_at IS NULL ORDER BY seq IS NOT NULL, seq, queued_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending receipts: %w", err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		var r Receipt
		if err := rows.Scan(&r.ID, &r.Event, &r.Header, &r.Forward); err != nil {
			return nil, fmt.Errorf("store: pending receipts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending receipts: %w", err)
	}
	return out, nil
}

// MarkReceiptsSent records that the receipts ids were published, dropping
// their bytes, in one transaction, not synced to disk: a crash may forget
// it, and the receipts are then published again (the backbone and the
// audit log drop duplicates by event). [ErrClosed] after Close.
func (s *Store) MarkReceiptsSent(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.writeUnsynced(ctx, func(tx *sql.Tx) (bool, error) {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE receipts SET event = NULL, header = NULL, forward = NULL, sent_at = ?
				WHERE id = ? AND sent_at IS NULL`,
				at.UnixNano(), id); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("store: mark %d receipts sent: %w", len(ids), err)
	}
	return nil
}

// CountPendingReceipts returns how many receipts wait to be published.
// [ErrClosed] after Close.
func (s *Store) CountPendingReceipts(ctx context.Context) (int, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: count pending receipts: %w", err)
	}
	defer leave()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM receipts WHERE sent_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count pending receipts: %w", err)
	}
	return n, nil
}

// ImportReceipts takes over the receipts of a receipt outbox kept in its
// own SQLite file at path by earlier versions (table receipts: id, event,
// queued_at, sent_at): pending ones are queued, published ones remembered,
// ids already known kept as they are. It is idempotent, so a crash before
// the caller removed the old file is harmless; it returns how many rows it
// added. [ErrClosed] after Close.
func (s *Store) ImportReceipts(ctx context.Context, path string) (int, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: import receipts: %w", err)
	}
	defer leave()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := s.importReceipts(ctx, path)
	if err != nil {
		return 0, fmt.Errorf("store: import receipts from %s: %w", path, err)
	}
	return n, nil
}

// importReceipts attaches the old file on one connection (ATTACH cannot
// run inside a transaction) and copies its rows in one transaction.
func (s *Store) importReceipts(ctx context.Context, path string) (added int, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, path); err != nil {
		return 0, fmt.Errorf("attach: %w", err)
	}
	defer func() {
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`); derr != nil && err == nil {
			err = fmt.Errorf("detach: %w", derr)
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `INSERT INTO main.receipts (id, event, queued_at, sent_at)
		SELECT id, event, queued_at, sent_at FROM old.receipts WHERE true
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("copy rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int(n), nil
}

// nilIfEmpty stores an empty blob as NULL.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
