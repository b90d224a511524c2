package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PruneOutbox drops the markers the outboxes keep of what left the node
// before cutoff: the rows of copies published and of receipts sent (their
// bytes were dropped when they left). Until then a marker keeps the same
// copy or receipt from being queued again; after it, one queued again is
// published again, and the backbone (within its de-duplication window)
// or the recipient's store and the audit log (by bulletin and event id)
// take it once. Pending copies and receipts are never dropped. It returns
// how many of each it dropped. [ErrClosed] after Close.
func (s *Store) PruneOutbox(ctx context.Context, cutoff time.Time) (copies, receipts int, err error) {
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox_copies WHERE published_at IS NOT NULL AND published_at < ?`,
			cutoff.UnixNano())
		if err != nil {
			return false, err
		}
		if copies, err = affected(res); err != nil {
			return false, err
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM receipts WHERE sent_at IS NOT NULL AND sent_at < ?`, cutoff.UnixNano())
		if err != nil {
			return false, err
		}
		receipts, err = affected(res)
		return err == nil && copies+receipts > 0, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: prune outbox markers: %w", err)
	}
	return copies, receipts, nil
}

func affected(res sql.Result) (int, error) {
	n, err := res.RowsAffected()
	return int(n), err
}
