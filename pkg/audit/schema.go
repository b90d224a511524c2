package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] moves the schema from version i to i+1. Shipped entries are
// never edited: a change of schema is a new entry.
//
// Tables fall in two groups. The evidence — log_meta, leaves, event_keys,
// nodes — is written once and guarded by triggers that abort any UPDATE or
// DELETE, an INSERT into leaves that does not take the next index, and an
// INSERT into the others that clashes with a row already there.
// The report indexes — bulletins, recipients — are derived from the
// evidence on each append and updated in place; they could be rebuilt from
// the leaves.
//
// The INSERT guards are the trap: SQLite's INSERT OR REPLACE removes the
// row it clashes with without firing DELETE triggers (unless the
// connection turned recursive_triggers on, which sqlitedb does not and a
// sqlite3 shell does not), so only a BEFORE INSERT trigger, which runs
// before the conflict is resolved, stops it. For the same reason event
// keys live in their own table rather than as a UNIQUE column of leaves.
var migrations = []string{
	// 1: the log, its tree, and the report indexes.
	`
CREATE TABLE log_meta (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	origin TEXT    NOT NULL
) STRICT;
CREATE TABLE leaves (
	idx  INTEGER PRIMARY KEY CHECK (idx >= 0), -- leaf index, 0-based, no gaps
	data BLOB    NOT NULL                      -- canonical event encoding
) STRICT;
CREATE TABLE event_keys (
	event_key TEXT    PRIMARY KEY,              -- kind, bulletin, state, actor
	idx       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- Every node of the Merkle tree that is the root of a perfect subtree:
-- level 0 holds the leaf hashes. Proofs are built from these alone.
CREATE TABLE nodes (
	level INTEGER NOT NULL,
	idx   INTEGER NOT NULL,
	hash  BLOB    NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER leaves_in_order BEFORE INSERT ON leaves
WHEN NEW.idx IS NOT (SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves)
BEGIN SELECT RAISE(ABORT, 'audit log leaves are appended in index order'); END;
CREATE TRIGGER leaves_no_update BEFORE UPDATE ON leaves
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: leaves cannot be updated'); END;
CREATE TRIGGER leaves_no_delete BEFORE DELETE ON leaves
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: leaves cannot be deleted'); END;
CREATE TRIGGER event_keys_no_replace BEFORE INSERT ON event_keys
WHEN EXISTS (SELECT 1 FROM event_keys WHERE event_key = NEW.event_key)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: event keys cannot be replaced'); END;
CREATE TRIGGER event_keys_no_update BEFORE UPDATE ON event_keys
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: event keys cannot be updated'); END;
CREATE TRIGGER event_keys_no_delete BEFORE DELETE ON event_keys
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: event keys cannot be deleted'); END;
CREATE TRIGGER nodes_no_replace BEFORE INSERT ON nodes
WHEN EXISTS (SELECT 1 FROM nodes WHERE level = NEW.level AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: tree nodes cannot be replaced'); END;
CREATE TRIGGER nodes_no_update BEFORE UPDATE ON nodes
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: tree nodes cannot be updated'); END;
CREATE TRIGGER nodes_no_delete BEFORE DELETE ON nodes
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: tree nodes cannot be deleted'); END;
CREATE TRIGGER log_meta_no_replace BEFORE INSERT ON log_meta
WHEN EXISTS (SELECT 1 FROM log_meta)
BEGIN SELECT RAISE(ABORT, 'audit log origin cannot change'); END;
CREATE TRIGGER log_meta_no_update BEFORE UPDATE ON log_meta
BEGIN SELECT RAISE(ABORT, 'audit log origin cannot change'); END;
CREATE TRIGGER log_meta_no_delete BEFORE DELETE ON log_meta
BEGIN SELECT RAISE(ABORT, 'audit log origin cannot change'); END;

-- Report indexes. Times are Unix nanoseconds, UTC.
CREATE TABLE bulletins (
	bulletin_id TEXT    PRIMARY KEY,
	origin      TEXT    NOT NULL,
	precedence  INTEGER NOT NULL DEFAULT 0,
	posted_at   INTEGER,          -- the earliest posted event's time, once logged
	first_at    INTEGER NOT NULL, -- the earliest time of any event of the bulletin
	-- The acknowledgement deadline runs from clock_at.
	clock_at    INTEGER NOT NULL GENERATED ALWAYS AS (COALESCE(posted_at, first_at)) STORED
) STRICT, WITHOUT ROWID;
CREATE INDEX bulletins_deadline ON bulletins (precedence, clock_at);
CREATE INDEX bulletins_clock    ON bulletins (clock_at);
CREATE TABLE recipients (
	bulletin_id  TEXT NOT NULL,
	state        TEXT NOT NULL,
	released_at  INTEGER,
	delivered_at INTEGER,
	read_at      INTEGER,
	read_by      TEXT,
	acked_at     INTEGER,
	acked_by     TEXT,
	escalated_at INTEGER,
	PRIMARY KEY (bulletin_id, state)
) STRICT, WITHOUT ROWID;
CREATE INDEX recipients_unacked ON recipients (bulletin_id) WHERE acked_at IS NULL;
`,
	// 2: bulletins are named by origin and id (two states may use one id);
	// precedence, creation time and recipients come from the origin's
	// signed header, never from the events' claims. Bulletins indexed by
	// version 1 keep what they had and no signed recipients (NULL).
	`
CREATE TABLE bulletins_v2 (
	origin      TEXT    NOT NULL,
	bulletin_id TEXT    NOT NULL,
	precedence  INTEGER NOT NULL,
	clock_at    INTEGER NOT NULL, -- the signed creation time: the deadline runs from it
	expires_at  INTEGER,          -- the signed expiry, if any
	recipients  TEXT,             -- the signed recipients, sorted, comma-separated; NULL before version 2
	signer      TEXT,             -- the origin's node that signed the header
	header_idx  INTEGER,          -- the leaf whose receipt carried the header
	posted_at   INTEGER,          -- the posted event's time, once logged
	PRIMARY KEY (origin, bulletin_id)
) STRICT, WITHOUT ROWID;
INSERT INTO bulletins_v2 (origin, bulletin_id, precedence, clock_at, posted_at)
	SELECT origin, bulletin_id, precedence, clock_at, posted_at FROM bulletins;
CREATE TABLE recipients_v2 (
	origin       TEXT NOT NULL,
	bulletin_id  TEXT NOT NULL,
	state        TEXT NOT NULL,
	forwarded_by TEXT,            -- the state whose signed forward made this state a holder
	released_at  INTEGER,
	delivered_at INTEGER,
	read_at      INTEGER,
	read_by      TEXT,
	acked_at     INTEGER,
	acked_by     TEXT,
	escalated_at INTEGER,
	PRIMARY KEY (origin, bulletin_id, state)
) STRICT, WITHOUT ROWID;
INSERT INTO recipients_v2 (origin, bulletin_id, state, released_at, delivered_at, read_at, read_by, acked_at, acked_by, escalated_at)
	SELECT b.origin, r.bulletin_id, r.state, r.released_at, r.delivered_at, r.read_at, r.read_by, r.acked_at, r.acked_by, r.escalated_at
	FROM recipients r JOIN bulletins b ON b.bulletin_id = r.bulletin_id;
DROP TABLE recipients;
DROP TABLE bulletins;
ALTER TABLE bulletins_v2 RENAME TO bulletins;
ALTER TABLE recipients_v2 RENAME TO recipients;
CREATE INDEX bulletins_deadline ON bulletins (precedence, clock_at);
CREATE INDEX bulletins_clock    ON bulletins (clock_at);
CREATE INDEX bulletins_id       ON bulletins (bulletin_id);
CREATE INDEX recipients_unacked ON recipients (origin, bulletin_id) WHERE acked_at IS NULL;
`,
	// 3: when the forwarding state forwarded a bulletin to a state, as the
	// forwarder reported it (a "forwarded" event with its signed
	// statement); NULL while it has not.
	`
ALTER TABLE recipients ADD COLUMN forwarded_at INTEGER;
`,
}

// checkOrigin records origin in a new database and refuses an existing
// database of another log.
func checkOrigin(ctx context.Context, tx *sql.Tx, origin string) error {
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT origin FROM log_meta WHERE id = 1`).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_meta (id, origin) VALUES (1, ?)`, origin); err != nil {
			return fmt.Errorf("record origin: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read origin: %w", err)
	case stored != origin:
		return fmt.Errorf("database holds the log %q, not %q", stored, origin)
	}
	return nil
}

// rollback ends tx if it was not committed; after Commit it is a no-op.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
