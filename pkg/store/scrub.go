package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Removing content for real. A revoked or purged bulletin's row and its
// history are deleted, and then nothing of them may be left in the
// node's files:
//
//   - the database runs with secure_delete (pkg/sqlitedb), so SQLite
//     overwrites deleted records and freed pages with zeros;
//   - the full-text index deletes a row's terms at once (FTS5
//     secure-delete) and Scrub merges the index ('optimize'), so no
//     segment keeps them;
//   - Scrub checkpoints the write-ahead log into the database and
//     truncates it (wal_checkpoint(TRUNCATE)): the log's frames held the
//     pages as they were written, content included.
//
// A checkpoint waits for readers of older snapshots (the busy timeout);
// one that could not finish is taken up by the next Scrub.

// Scrub removes every trace of deleted content from the store's files:
// it merges the full-text index and checkpoints and truncates the
// write-ahead log. [Store.Apply] and [Store.PurgeExpired] call it when
// they removed content; a node calls it again while [Store.ScrubPending].
// [ErrClosed] after Close.
func (s *Store) Scrub(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO bulletins_fts (bulletins_fts) VALUES ('optimize')`)
		return err == nil, err
	})
	if err == nil {
		err = s.checkpoint(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: scrub: %w", err)
	}
	s.scrubPending.Store(false)
	return nil
}

// ScrubPending reports whether content was removed and a [Store.Scrub]
// has not finished since.
func (s *Store) ScrubPending() bool { return s.scrubPending.Load() }

// errCheckpointBusy: readers kept the log from being checkpointed whole.
var errCheckpointBusy = errors.New("write-ahead log not fully checkpointed: readers of older snapshots")

// checkpoint writes the whole write-ahead log into the database and
// truncates it, serialized with writes.
func (s *Store) checkpoint(ctx context.Context) error {
	leave, err := s.enter()
	if err != nil {
		return err
	}
	defer leave()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var busy, logged, done int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return errCheckpointBusy
	}
	return nil
}

// PurgeExpired removes the bulletins that expired before cutoff (their
// rows, revisions and indexed text; tombstones, which carry no content,
// stay) and scrubs the file. It returns how many it removed. [ErrClosed]
// after Close.
func (s *Store) PurgeExpired(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		rows, err := tx.QueryContext(ctx, `SELECT `+recordCols+` FROM bulletins AS b
			WHERE b.expires_at IS NOT NULL AND b.expires_at < ? AND b.revoked_at IS NULL`, cutoff.UnixNano())
		if err != nil {
			return false, err
		}
		var recs []Record
		for rows.Next() {
			rec, _, err := scanRecord(rows)
			if err != nil {
				rows.Close()
				return false, err
			}
			recs = append(recs, rec)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		for i := range recs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM revisions WHERE origin = ? AND id = ?`,
				recs[i].Bulletin.Origin, recs[i].Bulletin.ID); err != nil {
				return false, err
			}
			if err := deleteRow(ctx, tx, &recs[i]); err != nil {
				return false, err
			}
		}
		n = len(recs)
		return n > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge expired bulletins: %w", err)
	}
	if n > 0 {
		s.scrubPending.Store(true)
		if err := s.Scrub(ctx); err != nil {
			return n, nil // purged; the scrub is taken up again
		}
	}
	return n, nil
}
