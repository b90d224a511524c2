// Package sqlitedb opens IANT's embedded SQLite databases (the node store
// with its outboxes, the audit log) the one way they are opened: the
// pure-Go modernc driver, WAL, fsync on every commit, a busy timeout,
// immediate write transactions, and numbered schema migrations recorded in
// a one-row schema_version table.
//
//	db, err := sqlitedb.Open(ctx, path, migrations, nil)
//
// A database written by a newer binary (a higher schema version) is
// refused. The returned *sql.DB is safe for concurrent use.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// IsDiskFull reports whether err is SQLite's "database or disk is full"
// (SQLITE_FULL): a write failed for want of space, and its transaction
// was rolled back.
func IsDiskFull(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// dsnOptions apply to every connection. busy_timeout comes first so the
// others wait for a lock rather than fail; synchronous(FULL) fsyncs every
// commit; secure_delete(1) overwrites deleted records and freed pages
// with zeros, so what is deleted (a revoked bulletin) is not left in the
// file; _txlock=immediate takes the write lock when a transaction
// starts, so two writers never deadlock upgrading read locks.
const dsnOptions = "?_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=secure_delete(1)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=recursive_triggers(1)" + // REPLACE fires DELETE triggers, so guards hold
	"&_txlock=immediate"

// maxConns bounds the pool: one writer at a time plus parallel readers.
const maxConns = 8

// Open opens (creating it and its directory, 0700) the database file at
// path and migrates it to len(migrations), running migrations[v] for each
// version v it lacks, all in one transaction. after, if not nil, runs in
// that transaction once the schema is current (e.g. to record or check
// metadata). Errors name the failing step.
func Open(ctx context.Context, path string, migrations []string, after func(context.Context, *sql.Tx) error) (*sql.DB, error) {
	switch {
	case path == "":
		return nil, errors.New("path is empty")
	case strings.ContainsRune(path, '?'):
		return nil, errors.New("path contains '?'") // the driver reads options after '?'
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, err
	}
	if err := create(ctx, abs); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", abs+dsnOptions)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db, migrations, after); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// pageSize is the page size of a new database. A commit writes (to the
// WAL, then again at the checkpoint) every page it changes, index and
// full-text pages included, so small pages cut the bytes written per
// commit by about half against SQLite's default 4096; large blobs (the
// sealed copies) merely take more overflow pages.
const pageSize = 1024

// create makes the database file at path, with [pageSize] pages and in
// WAL mode, if it does not exist yet. (The driver runs DSN pragmas in
// lexicographic order, so journal_mode would fix the page size before a
// page_size pragma in the DSN could set it.) An existing database keeps
// its page size.
func create(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return fmt.Errorf("create: page size: %w", err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("create: journal mode: %w", err)
	}
	return db.Close()
}

func migrate(ctx context.Context, db *sql.DB, migrations []string, after func(context.Context, *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	const create = `CREATE TABLE IF NOT EXISTS schema_version (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		version INTEGER NOT NULL
	) STRICT`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	const set = `INSERT INTO schema_version (id, version) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version WHERE version <> excluded.version`
	if _, err := tx.ExecContext(ctx, set, v); err != nil {
		return fmt.Errorf("record schema version %d: %w", v, err)
	}
	if after != nil {
		if err := after(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}
