package store

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
