package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OldestPendingCopy returns when the oldest copy still waiting in the
// outbox was queued, copies to the recipients in except aside, and false
// when none waits: how far behind the drainer is (the node's admission
// control). [ErrClosed] after Close.
func (s *Store) OldestPendingCopy(ctx context.Context, except ...string) (time.Time, bool, error) {
	leave, err := s.enter()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: oldest pending copy: %w", err)
	}
	defer leave()
	q := `SELECT queued_at FROM outbox_copies WHERE published_at IS NULL`
	args := make([]any, len(except))
	if len(except) > 0 {
		q += ` AND recipient NOT IN (?` + strings.Repeat(`, ?`, len(except)-1) + `)`
		for i, r := range except {
			args[i] = r
		}
	}
	var at int64
	err = s.db.QueryRowContext(ctx, q+` ORDER BY seq LIMIT 1`, args...).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("store: oldest pending copy: %w", err)
	}
	return fromNanos(at), true, nil
}
