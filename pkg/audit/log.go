package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

// hasher is the RFC 6962 tree hasher (SHA-256) of every log.
var hasher = rfc6962.DefaultHasher

// rangeFactory builds compact ranges with the RFC 6962 node hash.
var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Signers are a log's two keys: the note key that signs its checkpoints
// (by C2SP convention named like the log's origin), and the SVID of the
// secretariat's node that signs the log's own entries — escalations and
// refusals — the way a state node signs its receipts, so that every entry
// says who said it.
type Signers struct {
	Checkpoint note.Signer
	Entries    x509svid.Source
}

// Log is the secretariat's append-only audit log. Create it with [OpenLog].
type Log struct {
	db     *sql.DB
	stmts  *stmtCache
	signer note.Signer
	ownKey x509svid.Source // signs the log's own entries
	origin string
	now    func() time.Time

	// writeMu serializes appends (Append, Escalations) and guards rng, the
	// compact range [0, size) of the committed tree.
	writeMu sync.Mutex
	rng     *compact.Range

	// headMu guards the committed size and root, which readers take together.
	headMu sync.RWMutex
	size   uint64
	root   []byte

	// mu is held shared by every call and exclusively by Close, which so
	// waits for calls in progress.
	mu     sync.RWMutex
	closed bool
}

// OpenLog opens the audit log stored in the SQLite file at path, creating
// the file, its directory and the schema when missing, and migrating an
// older schema. origin names the log in its checkpoints (C2SP
// tlog-checkpoint: a schema-less URL such as "iant.example/audit"); a
// database keeps the origin it was created with and refuses another. keys
// sign checkpoints and the log's own entries; both are required. A Log
// must be the only writer of its file.
func OpenLog(ctx context.Context, path, origin string, keys Signers, opts ...Option) (*Log, error) {
	l, err := openLog(ctx, path, origin, keys, opts)
	if err != nil {
		return nil, fmt.Errorf("audit: open log %s: %w", path, err)
	}
	return l, nil
}

func openLog(ctx context.Context, path, origin string, keys Signers, opts []Option) (*Log, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		if err := opt.apply(&o); err != nil {
			return nil, err
		}
	}
	switch {
	case path == "":
		return nil, errors.New("path is empty")
	case strings.ContainsRune(path, '?'):
		return nil, errors.New("path contains '?'") // the driver reads options after '?'
	case keys.Checkpoint == nil:
		return nil, errors.New("checkpoint signer is nil")
	case keys.Entries == nil:
		return nil, ErrNoEntrySigner
	case !validOrigin(origin):
		return nil, fmt.Errorf("origin %q must be non-empty printable UTF-8 without spaces", origin)
	}
	db, err := sqlitedb.Open(ctx, path, migrations, func(ctx context.Context, tx *sql.Tx) error {
		return checkOrigin(ctx, tx, origin)
	})
	if err != nil {
		return nil, err
	}
	l := &Log{db: db, stmts: newStmtCache(db), signer: keys.Checkpoint, ownKey: keys.Entries, origin: origin, now: o.now}
	if err := l.load(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return l, nil
}

// validOrigin accepts what a checkpoint's first line can carry.
func validOrigin(s string) bool {
	if s == "" || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// load rebuilds the compact range of the stored tree from its
// perfect-subtree roots.
func (l *Log) load(ctx context.Context) error {
	size, err := storedSize(ctx, l.db)
	if err != nil {
		return err
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := nodeHashes(ctx, l.db, ids)
	if err != nil {
		return fmt.Errorf("read compact range of size %d: %w", size, err)
	}
	rng, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return fmt.Errorf("rebuild compact range: %w", err)
	}
	return l.install(rng)
}

// install makes rng the committed tree. Callers hold writeMu (or own l
// exclusively, as load does).
func (l *Log) install(rng *compact.Range) error {
	root, err := rootOf(rng)
	if err != nil {
		return err
	}
	l.rng = rng
	l.headMu.Lock()
	l.size, l.root = rng.End(), root
	l.headMu.Unlock()
	return nil
}

// rootOf returns the RFC 6962 root of a range starting at 0; the empty
// tree's root is the hash of the empty string (RFC 6962 §2.1).
func rootOf(rng *compact.Range) ([]byte, error) {
	if rng.End() == 0 {
		return hasher.EmptyRoot(), nil
	}
	return rng.GetRootHash(nil)
}

// storedSize is the number of leaves in the database.
func storedSize(ctx context.Context, q querier) (uint64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log size: %w", err)
	}
	return uint64(n), nil
}

// pool returns a querier on the connection pool with cached statements.
func (l *Log) pool() cachedQuerier { return cachedQuerier{c: l.stmts} }

// querier is what *sql.DB, *sql.Tx and cachedQuerier share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Close closes the database after the calls in progress finish. It is
// idempotent; afterwards every other method returns [ErrClosed], except
// Size and Root, which keep answering with the last committed head.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	stmtErr := l.stmts.close()
	_, optErr := l.db.Exec("PRAGMA optimize")
	if err := errors.Join(stmtErr, optErr, l.db.Close()); err != nil {
		return fmt.Errorf("audit: close: %w", err)
	}
	return nil
}

// enter admits a call unless the log is closed; the caller must call the
// returned func when done.
func (l *Log) enter() (func(), error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, closedErr()
	}
	return l.mu.RUnlock, nil
}

// Origin returns the log's origin, the first line of its checkpoints.
func (l *Log) Origin() string { return l.origin }

// Size returns the number of entries committed to the log.
func (l *Log) Size() uint64 {
	size, _ := l.head()
	return size
}

// Root returns the RFC 6962 root hash of the committed tree (the hash of
// the empty string for an empty log). The slice is the caller's.
func (l *Log) Root() []byte {
	_, root := l.head()
	return root
}

// head returns the committed size and a copy of the root, taken together.
func (l *Log) head() (uint64, []byte) {
	l.headMu.RLock()
	defer l.headMu.RUnlock()
	return l.size, append([]byte(nil), l.root...)
}

// Entry returns the event at index and its raw bytes, the leaf that
// [VerifyInclusion] takes and [ParseLeaf] reads (a signed receipt, or an
// event alone for entries of log format 1). An index at or beyond Size
// gives a *problem.Error wrapping [ErrNotFound].
func (l *Log) Entry(ctx context.Context, index uint64) (Event, []byte, error) {
	e, raw, err := l.entry(ctx, index)
	if err != nil {
		return Event{}, nil, fmt.Errorf("audit: entry %d: %w", index, err)
	}
	return e, raw, nil
}

func (l *Log) entry(ctx context.Context, index uint64) (Event, []byte, error) {
	leave, err := l.enter()
	if err != nil {
		return Event{}, nil, err
	}
	defer leave()
	if index >= l.Size() {
		return Event{}, nil, notFound("log entry %d does not exist", index)
	}
	var raw []byte
	if err := l.pool().QueryRowContext(ctx, `SELECT data FROM leaves WHERE idx = ?`, int64(index)).Scan(&raw); err != nil {
		return Event{}, nil, fmt.Errorf("read leaf: %w", err)
	}
	leaf, err := parseLeaf(raw)
	if err != nil {
		return Event{}, nil, fmt.Errorf("stored leaf: %w", err)
	}
	return leaf.Event, raw, nil
}

// MaxEntries bounds how many entries one [Log.Entries] call returns.
const MaxEntries = 10000

// Entries returns the raw bytes of the entries with indexes in
// [start, end), for a dump that [VerifyLog] checks. end must not exceed
// Size and end-start must not exceed MaxEntries; otherwise the error is a
// *problem.Error wrapping [ErrRange].
func (l *Log) Entries(ctx context.Context, start, end uint64) ([][]byte, error) {
	out, err := l.entries(ctx, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit: entries [%d, %d): %w", start, end, err)
	}
	return out, nil
}

func (l *Log) entries(ctx context.Context, start, end uint64) ([][]byte, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	switch size := l.Size(); {
	case start > end || end > size:
		return nil, outOfRange("end", "range [%d, %d) is outside the log of size %d", start, end, size)
	case end-start > MaxEntries:
		return nil, outOfRange("end", "at most %d entries at a time", MaxEntries)
	}
	rows, err := l.pool().QueryContext(ctx, `SELECT data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx`, int64(start), int64(end))
	if err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, 0, end-start)
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read leaf: %w", err)
		}
		out = append(out, raw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	return out, nil
}
