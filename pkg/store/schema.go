package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] moves the schema from version i to i+1. Shipped entries are
// never edited: a change of schema is a new entry.
var migrations = []string{
	// 1: bulletins, filter indexes, full-text index.
	`
CREATE TABLE bulletins (
	cursor        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a delete
	id            TEXT    NOT NULL UNIQUE,
	origin        TEXT    NOT NULL,
	origin_region INTEGER NOT NULL,                  -- region.Region of origin, 0 if unknown
	direction     INTEGER NOT NULL CHECK (direction IN (1, 2)),
	precedence    INTEGER NOT NULL,
	category      INTEGER NOT NULL,
	marking       INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,                  -- Unix nanoseconds, UTC
	expires_at    INTEGER,
	received_at   INTEGER NOT NULL,
	content_hash  BLOB    NOT NULL,                  -- SHA-256 of doc
	doc           BLOB    NOT NULL,                  -- canonical JSON of bulletin.Bulletin
	acked_at      INTEGER,
	acked_by      TEXT
) STRICT;
CREATE INDEX bulletins_origin     ON bulletins (origin);
CREATE INDEX bulletins_region     ON bulletins (origin_region);
CREATE INDEX bulletins_category   ON bulletins (category);
CREATE INDEX bulletins_precedence ON bulletins (precedence);
CREATE INDEX bulletins_marking    ON bulletins (marking);
CREATE INDEX bulletins_created    ON bulletins (created_at);
-- Contentless: the text lives in bulletins.doc; rowid = bulletins.cursor.
CREATE VIRTUAL TABLE bulletins_fts USING fts5(
	title, body, indicators,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
`,
}

// migrate brings the database to the newest schema version, recorded in the
// one-row table schema_version. It refuses a database written by a newer
// binary.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer rollback(tx)
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
	switch {
	case v > len(migrations):
		return fmt.Errorf("database schema version %d is newer than this program's %d", v, len(migrations))
	case v == len(migrations):
		return nil
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	const set = `INSERT INTO schema_version (id, version) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version`
	if _, err := tx.ExecContext(ctx, set, v); err != nil {
		return fmt.Errorf("record schema version %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}
