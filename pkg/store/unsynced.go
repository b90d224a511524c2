package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// writeUnsynced is [Store.write] for bookkeeping whose loss a crash may
// cost no more than work done again: its commit is not fsynced (SQLite's
// synchronous NORMAL in WAL mode, on a connection of its own). It stays
// atomic and ordered: the next synced commit, or a checkpoint, makes it
// durable with everything before it; a crash before that loses it, and
// the database is as it was. Marking copies and receipts published is
// such bookkeeping: one lost is published again, and the backbone and
// the recipients drop the duplicate.
func (s *Store) writeUnsynced(ctx context.Context, f func(tx *sql.Tx) (commit bool, err error)) error {
	leave, err := s.enter()
	if err != nil {
		return err
	}
	defer leave()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("synchronous normal: %w", err)
	}
	// The connection goes back to the pool synced, or not at all.
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	commit, err := f(tx)
	if err != nil || !commit {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
