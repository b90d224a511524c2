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
	// 2: the node's outboxes (sealed copies waiting for the backbone,
	// receipts waiting for the secretariat) and the authors' idempotency
	// keys, so that a post commits in one transaction with its copies and
	// receipts (outbox.go, receipts.go).
	`
CREATE TABLE outbox_copies (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT, -- commit order; never reused
	recipient    TEXT    NOT NULL,
	origin       TEXT    NOT NULL,                  -- the publishing state: this node's
	bulletin_id  TEXT    NOT NULL,
	data         BLOB,                              -- the sealed copy; NULL once published
	queued_at    INTEGER NOT NULL,                  -- Unix nanoseconds
	published_at INTEGER,                           -- NULL while pending
	UNIQUE (recipient, origin, bulletin_id),
	CHECK ((data IS NULL) = (published_at IS NOT NULL))
) STRICT;
CREATE INDEX outbox_copies_pending  ON outbox_copies (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_copies_bulletin ON outbox_copies (bulletin_id);
-- A row is kept after its receipt was published (event NULL, sent_at
-- set): the id then remembers that the event was reported, so it is
-- reported once ("read" once per person, "delivered" once per bulletin).
CREATE TABLE receipts (
	id        TEXT    PRIMARY KEY, -- event id: hex SHA-256 of the event key
	event     BLOB,                -- the event's canonical encoding; NULL once published
	queued_at INTEGER NOT NULL,    -- Unix nanoseconds
	sent_at   INTEGER              -- Unix nanoseconds; NULL while pending
) STRICT, WITHOUT ROWID;
CREATE INDEX receipts_pending ON receipts (queued_at) WHERE sent_at IS NULL;
CREATE TABLE post_keys (
	author          TEXT    NOT NULL, -- SPIFFE ID of the focal point
	idempotency_key TEXT    NOT NULL,
	draft_hash      BLOB    NOT NULL, -- SHA-256 of the draft as first posted
	bulletin_id     TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (author, idempotency_key)
) STRICT, WITHOUT ROWID;
`,
	// 3: the evidence a receipt carries to the secretariat
	// (audit.Evidence): the origin's header attestation (posted,
	// delivered) or a forwarder's statement (delivered), NULL once
	// published like the event; and the order receipts are queued in, so
	// a post's "posted" receipt, which carries the header the secretariat
	// checks the others against, goes out before them.
	`
ALTER TABLE receipts ADD COLUMN header  BLOB;
ALTER TABLE receipts ADD COLUMN forward BLOB;
ALTER TABLE receipts ADD COLUMN seq     INTEGER; -- queue order; NULL for rows queued before
CREATE INDEX receipts_seq ON receipts (seq); -- max(seq) and the pending order
`,
	// 4: bulletins keyed by origin and id, not id alone: a bulletin of
	// the same id from another origin (a state may pick any id for its
	// own bulletins) is another bulletin, never a replay of the first.
	// Received bulletins keep the sealed copy as it arrived (the origin's
	// sealed bulletin, which a forward re-wraps, or a forward) and the
	// state whose forward brought them. Outbox copies name the bulletin's
	// origin too: a forward publishes, as this node, a bulletin of
	// another origin. Both tables are rebuilt (SQLite cannot change a
	// UNIQUE constraint) with their rows, cursors and sequences kept.
	`
CREATE TABLE bulletins_v4 (
	cursor        INTEGER PRIMARY KEY AUTOINCREMENT,
	id            TEXT    NOT NULL,
	origin        TEXT    NOT NULL,
	origin_region INTEGER NOT NULL,
	direction     INTEGER NOT NULL CHECK (direction IN (1, 2)),
	precedence    INTEGER NOT NULL,
	category      INTEGER NOT NULL,
	marking       INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER,
	received_at   INTEGER NOT NULL,
	content_hash  BLOB    NOT NULL,
	doc           BLOB    NOT NULL,
	acked_at      INTEGER,
	acked_by      TEXT,
	copy          BLOB,  -- the sealed copy as received; NULL for sent bulletins and those stored before
	forwarded_by  TEXT,  -- the state whose forward brought it; NULL when its origin released it here
	UNIQUE (origin, id)
) STRICT;
INSERT INTO bulletins_v4 (cursor, id, origin, origin_region, direction, precedence, category, marking,
	created_at, expires_at, received_at, content_hash, doc, acked_at, acked_by)
	SELECT cursor, id, origin, origin_region, direction, precedence, category, marking,
	created_at, expires_at, received_at, content_hash, doc, acked_at, acked_by FROM bulletins ORDER BY cursor;
DELETE FROM sqlite_sequence WHERE name = 'bulletins_v4';
INSERT INTO sqlite_sequence (name, seq) SELECT 'bulletins_v4', seq FROM sqlite_sequence WHERE name = 'bulletins';
DROP TABLE bulletins;
ALTER TABLE bulletins_v4 RENAME TO bulletins;
CREATE INDEX bulletins_id         ON bulletins (id);
CREATE INDEX bulletins_origin     ON bulletins (origin);
CREATE INDEX bulletins_region     ON bulletins (origin_region);
CREATE INDEX bulletins_category   ON bulletins (category);
CREATE INDEX bulletins_precedence ON bulletins (precedence);
CREATE INDEX bulletins_marking    ON bulletins (marking);
CREATE INDEX bulletins_created    ON bulletins (created_at);
CREATE TABLE outbox_copies_v4 (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	recipient       TEXT    NOT NULL,
	origin          TEXT    NOT NULL, -- the publishing state: this node's
	bulletin_origin TEXT    NOT NULL, -- the bulletin's origin: this node's, or, for a forward, the origin's
	bulletin_id     TEXT    NOT NULL,
	data            BLOB,
	queued_at       INTEGER NOT NULL,
	published_at    INTEGER,
	UNIQUE (recipient, origin, bulletin_origin, bulletin_id),
	CHECK ((data IS NULL) = (published_at IS NOT NULL))
) STRICT;
INSERT INTO outbox_copies_v4 (seq, recipient, origin, bulletin_origin, bulletin_id, data, queued_at, published_at)
	SELECT seq, recipient, origin, origin, bulletin_id, data, queued_at, published_at FROM outbox_copies ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'outbox_copies_v4';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_copies_v4', seq FROM sqlite_sequence WHERE name = 'outbox_copies';
DROP TABLE outbox_copies;
ALTER TABLE outbox_copies_v4 RENAME TO outbox_copies;
CREATE INDEX outbox_copies_pending  ON outbox_copies (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_copies_bulletin ON outbox_copies (bulletin_origin, bulletin_id);
`,
	// 5: the newest directory entry the node accepted of each state
	// (directory.go), so that an older one, a replay, is refused after a
	// restart too; and the indexes that prune the outboxes' markers by
	// age (retention.go).
	`
CREATE TABLE directory_marks (
	state       TEXT    PRIMARY KEY,
	sequence    INTEGER NOT NULL, -- the entry's uint64 sequence, stored as int64 bits
	digest      BLOB    NOT NULL, -- SHA-256 of the entry's content, whatever its signature
	not_after   INTEGER NOT NULL, -- Unix nanoseconds: the entry's end of validity
	entry       BLOB    NOT NULL, -- the signed entry as published
	accepted_at INTEGER NOT NULL  -- Unix nanoseconds
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_copies_published ON outbox_copies (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX receipts_sent ON receipts (sent_at) WHERE sent_at IS NOT NULL;
`,
	// 6: copies from the inbox the node cannot decide yet (park.go): an
	// unknown sealed format version, a signer whose state's directory
	// entry is missing or does not verify now. They are kept here and
	// acknowledged on the backbone, so that the inbox moves on, and tried
	// again until decided.
	`
CREATE TABLE parked_copies (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT, -- park order
	subject      TEXT    NOT NULL,
	origin       TEXT    NOT NULL,           -- the state that published it: its bound counts it
	bulletin_id  TEXT    NOT NULL,
	copy_hash    BLOB    NOT NULL,           -- SHA-256 of data
	data         BLOB    NOT NULL,           -- the copy as received
	stream_seq   INTEGER NOT NULL,           -- its sequence in the inbox stream
	published_at INTEGER NOT NULL,           -- Unix nanoseconds: when the backbone stored it (0: unknown)
	first_seen   INTEGER NOT NULL,           -- Unix nanoseconds: when it was parked
	attempts     INTEGER NOT NULL,           -- times it was tried, parking included
	reason       TEXT    NOT NULL,           -- why it waits (statenode's park reasons)
	waiting_for  TEXT    NOT NULL DEFAULT '', -- the state whose directory entry it waits for, if any
	next_try     INTEGER NOT NULL,           -- Unix nanoseconds
	UNIQUE (origin, bulletin_id, copy_hash)
) STRICT;
CREATE INDEX parked_copies_next    ON parked_copies (next_try);
CREATE INDEX parked_copies_waiting ON parked_copies (waiting_for);
`,
	// 7: the bulletin lifecycle. A bulletin's row is its latest state: the
	// latest revision, or the tombstone a revocation left (no content,
	// revoked_at set); each change moves it to a new cursor, so that
	// subscriptions deliver it again as a revision or a revocation.
	// Earlier revisions are kept apart for the history, and removed with
	// the bulletin. Replies name the message they answer (reply_to_*).
	// The node's forwards (which a revocation is relayed along) and its
	// consent requests are kept. Outbox copies are named by their
	// message's kind and revision too: a bulletin's revision and its
	// revocation are other copies than its first version. The full-text
	// index removes a deleted row's terms at once (FTS5 secure-delete).
	`
ALTER TABLE bulletins ADD COLUMN revision        INTEGER NOT NULL DEFAULT 1;
ALTER TABLE bulletins ADD COLUMN revoked_at      INTEGER; -- Unix nanoseconds; set on a tombstone
ALTER TABLE bulletins ADD COLUMN reply_to_origin TEXT;    -- a reply: the message it answers
ALTER TABLE bulletins ADD COLUMN reply_to_id     TEXT;
ALTER TABLE bulletins ADD COLUMN reply_to_region INTEGER; -- region.Region of reply_to_origin, for filters
CREATE INDEX bulletins_reply_to ON bulletins (reply_to_origin, reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX bulletins_expires  ON bulletins (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE revisions (
	origin     TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	revision   INTEGER NOT NULL,
	created_at INTEGER NOT NULL, -- Unix nanoseconds: when that revision was made
	doc        BLOB    NOT NULL, -- canonical JSON of bulletin.Bulletin
	PRIMARY KEY (origin, id, revision)
) STRICT, WITHOUT ROWID;
CREATE TABLE forwards (
	origin TEXT    NOT NULL, -- the bulletin's origin
	id     TEXT    NOT NULL,
	target TEXT    NOT NULL, -- the state this node forwarded it to
	at     INTEGER NOT NULL,
	PRIMARY KEY (origin, id, target)
) STRICT, WITHOUT ROWID;
CREATE TABLE consents (
	id              TEXT    PRIMARY KEY, -- the request's id
	bulletin_origin TEXT    NOT NULL,
	bulletin_id     TEXT    NOT NULL,
	forwarder       TEXT    NOT NULL,
	target          TEXT    NOT NULL,
	reason          TEXT    NOT NULL,
	requested_by    TEXT    NOT NULL,
	requested_at    INTEGER NOT NULL,
	decision        INTEGER NOT NULL DEFAULT 0, -- bulletin.ConsentDecision
	decided_by      TEXT,
	decided_at      INTEGER,
	decision_reason TEXT,
	used_at         INTEGER                      -- a grant serves one forward
) STRICT, WITHOUT ROWID;
CREATE INDEX consents_bulletin ON consents (bulletin_origin, bulletin_id, target);
CREATE TABLE outbox_copies_v7 (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	recipient       TEXT    NOT NULL,
	origin          TEXT    NOT NULL,
	bulletin_origin TEXT    NOT NULL,
	bulletin_id     TEXT    NOT NULL,
	kind            INTEGER NOT NULL DEFAULT 1, -- bulletin.Kind of the message
	revision        INTEGER NOT NULL DEFAULT 1,
	data            BLOB,
	queued_at       INTEGER NOT NULL,
	published_at    INTEGER,
	UNIQUE (recipient, origin, bulletin_origin, bulletin_id, kind, revision),
	CHECK ((data IS NULL) = (published_at IS NOT NULL))
) STRICT;
INSERT INTO outbox_copies_v7 (seq, recipient, origin, bulletin_origin, bulletin_id, data, queued_at, published_at)
	SELECT seq, recipient, origin, bulletin_origin, bulletin_id, data, queued_at, published_at FROM outbox_copies ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'outbox_copies_v7';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_copies_v7', seq FROM sqlite_sequence WHERE name = 'outbox_copies';
DROP TABLE outbox_copies;
ALTER TABLE outbox_copies_v7 RENAME TO outbox_copies;
CREATE INDEX outbox_copies_pending   ON outbox_copies (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_copies_bulletin  ON outbox_copies (bulletin_origin, bulletin_id);
CREATE INDEX outbox_copies_published ON outbox_copies (published_at) WHERE published_at IS NOT NULL;
INSERT INTO bulletins_fts (bulletins_fts, rank) VALUES ('secure-delete', 1);
`,
	// 8: the signing keys the node verified in each state's directory
	// entries (signkeys.go), so that a key a later entry no longer lists
	// (more than seal.MaxRetiredSignKeys rotations since) still verifies
	// what it signed before its retirement; and never loosens.
	signKeysSchema,
	// 9: what a received row's trust rests on, and its withdrawal
	// (withdraw.go). sign_key is the ID of the origin's signing key that
	// signed the message the row holds (its first version, latest
	// revision, revocation or reply); NULL for sent rows and for rows
	// stored before (the node derives it from the kept copy at start, and
	// a row it cannot derive it for is withdrawn whenever its origin
	// declares any key compromised: fail closed). A withdrawn row
	// (withdrawn_at set) is kept but shown by no read path. The rows a
	// genuine copy replaced while withdrawn are kept as evidence.
	`
ALTER TABLE bulletins ADD COLUMN sign_key      TEXT;
ALTER TABLE bulletins ADD COLUMN withdrawn_at  INTEGER; -- Unix nanoseconds; NULL unless withdrawn
ALTER TABLE bulletins ADD COLUMN withdrawn_key TEXT;    -- the compromised key (or '' when not known) it rested on
CREATE INDEX bulletins_sign_key ON bulletins (origin, sign_key) WHERE direction = 2;
CREATE TABLE withdrawn_replaced (
	origin      TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	sign_key    TEXT    NOT NULL, -- the compromised key of the replaced row ('' when not known)
	doc         BLOB    NOT NULL, -- the replaced row's bulletin
	copy        BLOB,             -- its sealed copy as received
	replaced_at INTEGER NOT NULL  -- Unix nanoseconds
) STRICT;
CREATE INDEX withdrawn_replaced_bulletin ON withdrawn_replaced (origin, id);
`,
	// 10: what a translation another state added, and a consent request
	// another state sent, rest on (withdraw_more.go). translation_keys
	// holds, for each translation a state added to another state's
	// bulletin held here, the ID of the translating state's signing key
	// that signed the translation message; NULL when not known (those
	// added before, filled in here from the docs): withdrawn whenever the
	// translating state declares any key compromised, fail closed. A
	// withdrawn translation leaves the bulletin's doc and is kept apart as
	// evidence (withdrawn_translations). A consent request records the
	// requesting state's signing key, and is withdrawn like a bulletin.
	`
CREATE TABLE translation_keys (
	origin   TEXT    NOT NULL, -- the bulletin translated
	id       TEXT    NOT NULL,
	language INTEGER NOT NULL, -- bulletin.Language
	by_state TEXT    NOT NULL, -- the translating state
	sign_key TEXT,             -- its signing key; NULL when not known
	PRIMARY KEY (origin, id, language)
) STRICT, WITHOUT ROWID;
CREATE INDEX translation_keys_by ON translation_keys (by_state, sign_key);
INSERT INTO translation_keys (origin, id, language, by_state, sign_key)
	SELECT b.origin, b.id, json_extract(t.value, '$.language'), json_extract(t.value, '$.by'), NULL
	FROM bulletins AS b, json_each(CAST(b.doc AS TEXT), '$.translations') AS t
	WHERE json_extract(t.value, '$.by') != b.origin
	ON CONFLICT DO NOTHING;
CREATE TABLE withdrawn_translations (
	origin       TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	by_state     TEXT    NOT NULL,
	sign_key     TEXT    NOT NULL, -- the compromised key ('' when not known)
	translation  BLOB    NOT NULL, -- the translation withdrawn, JSON
	withdrawn_at INTEGER NOT NULL  -- Unix nanoseconds
) STRICT;
CREATE INDEX withdrawn_translations_bulletin ON withdrawn_translations (origin, id);
ALTER TABLE consents ADD COLUMN sign_key      TEXT;    -- the requesting state's signing key; NULL when not known or sent here
ALTER TABLE consents ADD COLUMN withdrawn_at  INTEGER; -- Unix nanoseconds; NULL unless withdrawn
ALTER TABLE consents ADD COLUMN withdrawn_key TEXT;    -- the compromised key (or '' when not known) it rested on
`,
}
