package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// QueueForward is [Store.QueueCopies] for a forward: its copy and the
// receipts that report it (the forwarder's "forwarded") commit in one
// transaction, both or neither. Receipts whose id was queued before are
// skipped, as [Store.QueueReceipts] does; when the copy was queued before,
// nothing is added.
func (s *Store) QueueForward(ctx context.Context, c Copy, rs []Receipt, at time.Time, maxPending int) (int, error) {
	return s.queueCopies(ctx, []Copy{c}, rs, at, maxPending)
}

// queueCopies queues cs and, if any of them is new, rs, in one
// transaction.
func (s *Store) queueCopies(ctx context.Context, cs []Copy, rs []Receipt, at time.Time, maxPending int) (int, error) {
	if err := checkCopies(cs); err != nil {
		return 0, fmt.Errorf("store: queue copies: %w", err)
	}
	added := 0
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		if err := checkRoom(ctx, tx, maxPending); err != nil {
			return false, err
		}
		var err error
		if added, err = insertCopies(ctx, tx, cs, at); err != nil || added == 0 {
			return false, err
		}
		_, err = insertReceipts(ctx, tx, rs, at)
		return true, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue copies: %w", err)
	}
	return added, nil
}
