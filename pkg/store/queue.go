package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

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
