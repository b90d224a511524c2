package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OldestPendingCopy returns when the oldest copy still waiting in the
// outbox was queued, and false when none waits: how far behind the
// drainer is (the node's admission control). [ErrClosed] after Close.
func (s *Store) OldestPendingCopy(ctx context.Context) (time.Time, bool, error) {
	leave, err := s.enter()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: oldest pending copy: %w", err)
	}
	defer leave()
	var at int64
	err = s.db.QueryRowContext(ctx, `SELECT queued_at FROM outbox_copies WHERE published_at IS NULL ORDER BY seq LIMIT 1`).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("store: oldest pending copy: %w", err)
	}
	return fromNanos(at), true, nil
}
