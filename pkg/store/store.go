package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

// Store is a node's bulletin database. Create it with [Open].
type Store struct {
	db *sql.DB

	// writeMu serializes Put and Acknowledge, so SQLite never sees two
	// writers from this process and cursors follow commit order.
	writeMu sync.Mutex

	// mu is held shared by every call and exclusively by Close, which so
	// waits for calls in progress.
	mu     sync.RWMutex
	closed bool

	// scrubPending: content was removed and no Scrub finished since.
	scrubPending atomic.Bool
}

// Open opens the store at path, creating the file and its directory when
// missing, and brings its schema up to date. It fails if the database was
// written by a newer version of this package.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, migrations, nil)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database after the calls in progress finish. It is
// idempotent; afterwards every other method returns [ErrClosed].
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	// optimize refreshes the query planner's statistics when they are stale.
	_, optErr := s.db.Exec("PRAGMA optimize")
	if err := errors.Join(optErr, s.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// enter admits a call unless the store is closed; the caller must call the
// returned func when done.
func (s *Store) enter() (func(), error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, closed()
	}
	return s.mu.RUnlock, nil
}

// LastCursor returns the highest cursor stored, 0 when the store is empty.
// A subscription that starts "from now" resumes after it. It returns
// [ErrClosed] after Close.
func (s *Store) LastCursor(ctx context.Context) (uint64, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: last cursor: %w", err)
	}
	defer leave()
	var c int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(cursor), 0) FROM bulletins`).Scan(&c); err != nil {
		return 0, fmt.Errorf("store: last cursor: %w", err)
	}
	return uint64(c), nil
}
