package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// dsnOptions apply to every connection. busy_timeout is applied first by
// the driver; _txlock=immediate makes each write transaction take SQLite's
// write lock at BEGIN, so it waits there instead of failing on upgrade.
const dsnOptions = "?_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)" +
	"&_txlock=immediate"

// maxConns bounds the pool: one writer at a time plus parallel readers.
const maxConns = 8

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
	switch {
	case path == "":
		return nil, errors.New("path is empty")
	case strings.ContainsRune(path, '?'):
		// The driver reads everything after '?' as options.
		return nil, errors.New("path contains '?'")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", abs+dsnOptions)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db); err != nil {
		return nil, errors.Join(err, db.Close())
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
