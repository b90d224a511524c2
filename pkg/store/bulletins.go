package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// recordCols are the columns scanRecord reads, on table alias b.
const recordCols = `b.cursor, b.direction, b.received_at, b.acked_at, b.acked_by, b.forwarded_by, b.content_hash, b.doc, b.withdrawn_at, b.withdrawn_key, b.sign_key`

// Put stores b, received or sent by this node at time at, and returns its
// record with inserted true. Put does not validate b beyond what storage
// needs (an ID, storable times); the caller runs b.Validate.
//
// Put is idempotent by origin and bulletin ID: if a bulletin with
// b.Origin and b.ID is stored with identical content (times compared as
// instants), Put returns that record, unchanged, with inserted false; dir
// and at are then ignored. If the stored content differs, Put returns a
// *problem.Error of kind Conflict matching [ErrConflict], and the stored
// record stays as it was. A bulletin of the same ID from another origin
// is another bulletin, stored beside it. Bad input gives kind Invalid
// naming the field; after Close, [ErrClosed].
//
// Strings must be valid UTF-8 (b.Validate checks the free-text fields):
// the stored JSON document replaces invalid bytes with U+FFFD.
//
// Receive times grow with the cursor: an at not after the last record's
// receive time is stored as 1 ns after it. Concurrent Puts take their
// times before they take turns, so without this a later cursor could
// carry an earlier time, and a reader that resumes by time (TAXII's
// added_after) would skip it.
func (s *Store) Put(ctx context.Context, b bulletin.Bulletin, dir Direction, at time.Time) (rec Record, inserted bool, err error) {
	return s.PutWithReceipts(ctx, b, dir, at, nil)
}

// PutWithReceipts is [Store.Put] that queues receipts (those whose id is
// new) in the same transaction as the bulletin: a received copy and its
// "delivered" receipt are stored together or not at all. When the bulletin
// is already stored with identical content, the receipts are still queued
// (a receipt of the first store is found by its id and dropped).
func (s *Store) PutWithReceipts(ctx context.Context, b bulletin.Bulletin, dir Direction, at time.Time, receipts []Receipt) (rec Record, inserted bool, err error) {
	rec, inserted, err = s.put(ctx, b, dir, at, Delivery{}, receipts)
	if err != nil {
		return Record{}, false, fmt.Errorf("store: put bulletin %s: %w", b.ID, err)
	}
	return rec, inserted, nil
}

func (s *Store) put(ctx context.Context, b bulletin.Bulletin, dir Direction, at time.Time, d Delivery, receipts []Receipt) (Record, bool, error) {
	if err := checkPut(&b, dir, at); err != nil {
		return Record{}, false, err
	}
	doc, sum, err := encode(b)
	if err != nil {
		return Record{}, false, err
	}
	var rec Record
	inserted := false
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		old, oldSum, gerr := getRecord(ctx, tx, b.Origin, b.ID)
		switch {
		case gerr == nil && sameContent(old, oldSum, sum):
			rec = old
			filled, ferr := fillCopy(ctx, tx, old.Cursor, d)
			if ferr != nil {
				return false, ferr
			}
			added, rerr := insertReceipts(ctx, tx, receipts, at)
			return added > 0 || filled, rerr
		case gerr == nil:
			return false, conflict(b.ID)
		case !errors.Is(gerr, ErrNotFound):
			return false, gerr
		}
		var ierr error
		if rec, ierr = insert(ctx, tx, &b, dir, at, doc, sum, d); ierr != nil {
			return false, ierr
		}
		inserted = true
		_, rerr := insertReceipts(ctx, tx, receipts, at)
		return true, rerr
	})
	if err != nil {
		return Record{}, false, err
	}
	return rec, inserted, nil
}

// afterLast returns at, or 1 ns after the last stored receive time when
// at is not after it.
func afterLast(ctx context.Context, tx *sql.Tx, at time.Time) (time.Time, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT received_at FROM bulletins ORDER BY cursor DESC LIMIT 1`).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return at, nil
	case err != nil:
		return at, fmt.Errorf("last receive time: %w", err)
	case at.UnixNano() <= last:
		return fromNanos(last + 1), nil
	}
	return at, nil
}

// rollback ends tx if it was not committed; after Commit it is a no-op
// whose error means nothing.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// sameContent compares a new bulletin's hash with a stored one. On a
// mismatch it re-encodes the stored bulletin, so that a document written
// before the bulletin type gained an (omitted when empty) field still
// compares equal to the same bulletin encoded today.
func sameContent(old Record, oldSum []byte, sum [sha256.Size]byte) bool {
	if bytes.Equal(oldSum, sum[:]) {
		return true
	}
	_, now, err := encode(old.Bulletin)
	return err == nil && now == sum
}

func insert(ctx context.Context, tx *sql.Tx, b *bulletin.Bulletin, dir Direction, at time.Time, doc []byte, sum [sha256.Size]byte, d Delivery) (Record, error) {
	// Receive times grow with the cursor, so that a reader paging by time
	// (TAXII's added_after) never skips or repeats a record.
	at, err := afterLast(ctx, tx, at)
	if err != nil {
		return Record{}, err
	}
	var expires sql.NullInt64
	if !b.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: b.ExpiresAt.UnixNano(), Valid: true}
	}
	var copyData []byte
	var forwardedBy sql.NullString
	if len(d.Copy) > 0 {
		copyData = d.Copy
	}
	signKey := nullString(d.SignKey)
	if d.ForwardedBy != "" {
		forwardedBy = sql.NullString{String: d.ForwardedBy, Valid: true}
	}
	life := lifeColumns(b)
	res, err := tx.ExecContext(ctx, `INSERT INTO bulletins (id, origin, origin_region, direction,
		precedence, category, marking, created_at, expires_at, received_at, content_hash, doc, copy, forwarded_by,
		revision, revoked_at, reply_to_origin, reply_to_id, reply_to_region, sign_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.Origin, int64(originRegion(b.Origin)), int64(dir), int64(b.Precedence), int64(b.Category),
		int64(b.Marking), b.CreatedAt.UnixNano(), expires, at.UnixNano(), sum[:], doc, copyData, forwardedBy,
		life.revision, life.revokedAt, life.replyOrigin, life.replyID, life.replyRegion, signKey)
	if err != nil {
		return Record{}, fmt.Errorf("insert: %w", err)
	}
	cursor, err := res.LastInsertId()
	if err != nil {
		return Record{}, fmt.Errorf("insert: %w", err)
	}
	if b.IsContent() { // a tombstone has no text to index
		_, err = tx.ExecContext(ctx, `INSERT INTO bulletins_fts (rowid, title, body, indicators) VALUES (?, ?, ?, ?)`,
			cursor, b.SearchTitles(), b.SearchBodies(), indicatorText(b.Indicators))
		if err != nil {
			return Record{}, fmt.Errorf("index text: %w", err)
		}
	}
	stored, err := decode(doc) // exactly what Get will return
	if err != nil {
		return Record{}, err
	}
	return Record{Bulletin: stored, Cursor: uint64(cursor), Direction: dir, ReceivedAt: fromNanos(at.UnixNano()),
		ForwardedBy: d.ForwardedBy}, nil
}

// indicatorText is what full-text search sees of the indicators.
func indicatorText(ins []bulletin.Indicator) string {
	var sb strings.Builder
	for _, in := range ins {
		sb.WriteString(in.Value + "\n" + in.Description + "\n")
	}
	return sb.String()
}

// Get returns the record of the bulletin id from origin. With origin
// empty it returns the one bulletin with that id, whatever its origin; if
// bulletins of that id from several origins are stored, it returns a
// *problem.Error of kind Invalid, field origin, matching [ErrAmbiguous]
// and naming them. No such bulletin: kind NotFound matching
// [ErrNotFound]; after Close, [ErrClosed].
func (s *Store) Get(ctx context.Context, origin, id string) (Record, error) {
	leave, err := s.enter()
	if err != nil {
		return Record{}, fmt.Errorf("store: get bulletin %s: %w", id, err)
	}
	defer leave()
	var rec Record
	if origin != "" {
		rec, _, err = getRecord(ctx, s.db, origin, id)
	} else {
		rec, err = getOnly(ctx, s.db, id)
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get bulletin %s: %w", id, err)
	}
	return rec, nil
}

// rowQuerier is a *sql.DB or *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getRecord returns the record of bulletin id from origin and its content
// hash, or notFound.
func getRecord(ctx context.Context, q rowQuerier, origin, id string) (Record, []byte, error) {
	rec, sum, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordCols+` FROM bulletins AS b WHERE b.origin = ? AND b.id = ?`, origin, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, nil, notFound(id)
	}
	return rec, sum, err
}

// getOnly returns the one record with id, notFound, or ambiguous when
// bulletins of that id from several origins are stored.
func getOnly(ctx context.Context, q *sql.DB, id string) (Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordCols+` FROM bulletins AS b WHERE b.id = ? ORDER BY b.origin LIMIT 40`, id)
	if err != nil {
		return Record{}, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		rec, _, err := scanRecord(rows)
		if err != nil {
			return Record{}, err
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return Record{}, fmt.Errorf("query: %w", err)
	}
	switch len(recs) {
	case 0:
		return Record{}, notFound(id)
	case 1:
		return recs[0], nil
	}
	origins := make([]string, len(recs))
	for i, r := range recs {
		origins[i] = r.Bulletin.Origin
	}
	return Record{}, ambiguous(id, origins)
}

// scanRecord reads the columns recordCols names.
func scanRecord(row interface{ Scan(...any) error }) (Record, []byte, error) {
	var (
		rec              Record
		cursor, received int64
		ackedAt, wdAt    sql.NullInt64
		ackedBy, fwdBy   sql.NullString
		wdKey, signKey   sql.NullString
		sum, doc         []byte
	)
	if err := row.Scan(&cursor, &rec.Direction, &received, &ackedAt, &ackedBy, &fwdBy, &sum, &doc, &wdAt, &wdKey, &signKey); err != nil {
		return Record{}, nil, fmt.Errorf("read record: %w", err)
	}
	b, err := decode(doc)
	if err != nil {
		return Record{}, nil, fmt.Errorf("read record %d: %w", cursor, err)
	}
	rec.Bulletin, rec.Cursor, rec.ReceivedAt, rec.ForwardedBy = b, uint64(cursor), fromNanos(received), fwdBy.String
	if ackedAt.Valid {
		rec.AckedAt, rec.AckedBy = fromNanos(ackedAt.Int64), ackedBy.String
	}
	rec.SignKey = signKey.String
	if wdAt.Valid {
		rec.WithdrawnAt, rec.WithdrawnKey = fromNanos(wdAt.Int64), wdKey.String
	}
	return rec, sum, nil
}

// Acknowledge records that the focal point with SPIFFE ID by acknowledged
// the bulletin id from origin at time at, and returns the updated record with first
// true. It is idempotent: if the bulletin is already acknowledged, it
// returns the record unchanged (keeping the first time and focal point) with
// first false. The store does not check Direction; the caller decides who
// may acknowledge what. Errors: [ErrNotFound] (kind NotFound),
// [ErrWithdrawn] (kind FailedPrecondition) for a withdrawn row, kind Invalid
// for an empty by or unstorable at, [ErrClosed].
func (s *Store) Acknowledge(ctx context.Context, origin, id, by string, at time.Time) (rec Record, first bool, err error) {
	rec, first, err = s.acknowledge(ctx, origin, id, by, at)
	if err != nil {
		return Record{}, false, fmt.Errorf("store: acknowledge bulletin %s: %w", id, err)
	}
	return rec, first, nil
}

func (s *Store) acknowledge(ctx context.Context, origin, id, by string, at time.Time) (Record, bool, error) {
	if by == "" {
		return Record{}, false, problem.Invalid("acknowledged_by", "acknowledging focal point is required")
	}
	if err := checkTime("acknowledge_time", at, true); err != nil {
		return Record{}, false, err
	}
	leave, err := s.enter()
	if err != nil {
		return Record{}, false, err
	}
	defer leave()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Record{}, false, fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	rec, _, err := getRecord(ctx, tx, origin, id)
	switch {
	case err == nil && rec.Withdrawn():
		// Checked here, in the transaction that writes the
		// acknowledgement: a withdrawal committed after the caller read
		// the row must not be acknowledged (and receipted) anyway.
		return Record{}, false, &problem.Error{Kind: problem.KindFailedPrecondition, Err: ErrWithdrawn,
			Msg: fmt.Sprintf("bulletin %s from %s is withdrawn: %s declared compromised the signing key it rests on", id, origin, origin)}
	case err != nil || !rec.AckedAt.IsZero():
		return rec, false, err
	}
	rec.AckedAt, rec.AckedBy = fromNanos(at.UnixNano()), by
	_, err = tx.ExecContext(ctx, `UPDATE bulletins SET acked_at = ?, acked_by = ? WHERE cursor = ?`,
		at.UnixNano(), by, int64(rec.Cursor))
	if err != nil {
		return Record{}, false, fmt.Errorf("update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Record{}, false, fmt.Errorf("commit: %w", err)
	}
	return rec, true, nil
}
