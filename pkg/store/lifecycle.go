package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// A bulletin's row holds its latest state: its latest revision, or the
// tombstone its revocation left. Messages of its life are applied in the
// order of the revisions their origin signed, whatever order they arrive
// in:
//
//	held \ message    revision r (content)            revocation of revision r
//	nothing           stored                          tombstone stored
//	content, rev h    r > h: replaces it (h kept in   r >= h: tombstone replaces it and
//	                  the history); r = h: the same   every revision held (content and
//	                  content is a replay, nothing    full-text terms removed, the file
//	                  changes, other content is a     scrubbed); r < h: ErrStale
//	                  conflict; r < h: ErrStale
//	tombstone, rev h  r > h: stored (a later          r <= h: nothing changes;
//	                  revision released it again);    r > h: tombstone replaced
//	                  r <= h: ErrStale (revoked
//	                  content never comes back)
//
// Every change moves the row to a new cursor, so that subscriptions
// deliver it again, as a revision or a revocation.

// ErrStale means a message is older than what this node holds of the
// bulletin: a revision older than the one held, or one the bulletin's
// revocation withdrew (problem kind Conflict). Nothing was changed.
var ErrStale = errors.New("older than the bulletin's state held")

func stale(id string, held, got int, revoked bool) error {
	what := fmt.Sprintf("revision %d", held)
	if revoked {
		what = fmt.Sprintf("its revocation (of revision %d)", held)
	}
	return &problem.Error{Kind: problem.KindConflict, Err: ErrStale,
		Msg: fmt.Sprintf("bulletin %s: revision %d is older than %s held here: an older revision never replaces a newer one", id, got, what)}
}

// Change is one message of a bulletin's life applied to the store, with
// what commits with it.
type Change struct {
	// Bulletin is the message as a bulletin: a first version, a revision,
	// a reply, or the tombstone a revocation leaves
	// ([bulletin.Bulletin.Tombstone]). The caller validated it.
	Bulletin bulletin.Bulletin
	// Direction is Sent for this node's own messages, Received for others'.
	Direction Direction
	// At is when it was applied.
	At time.Time
	// Delivery is how a received message reached this node.
	Delivery Delivery
	// Copies are sealed copies to publish, Receipts audit events to report,
	// both committed with the change.
	Copies   []Copy
	Receipts []Receipt
	// MaxPending, when positive, refuses the change while that many
	// copies or more wait in the outbox ([ErrOutboxFull]).
	MaxPending int
	// Requeue queues Copies in place of copies of the same message queued
	// or published before ([Store.RequeueCopies]): a message its origin
	// signed again, relayed again along this node's forwards.
	Requeue bool
}

// Applied is what [Store.Apply] did.
type Applied struct {
	// Record is the bulletin's row after the change (or as it was, when
	// nothing changed).
	Record Record
	// Changed reports that the row changed: a new bulletin, a newer
	// revision, a revocation.
	Changed bool
	// Removed reports that content was removed (a revocation of content
	// held): the file was scrubbed ([Store.Scrub]).
	Removed bool
	// Reinstated reports that a withdrawn row was put back by a copy its
	// origin signed with a key not compromised, with the same content;
	// Replaced, with other content (the withdrawn row was not the
	// origin's: it is kept apart as evidence). See [Store.WithdrawSignedBy].
	Reinstated, Replaced bool
}

// Apply applies c in one transaction with its copies and receipts, by the
// rules above. The receipts are queued whenever nothing failed, also when
// the message was held already (they are de-duplicated by id). Errors:
// [ErrStale] and [ErrConflict] (nothing changed, nothing queued), kind
// Invalid for bad input, [ErrOutboxFull], [ErrClosed].
//
// When content was removed, Apply scrubs the file before it returns
// ([Store.Scrub]); a scrub that could not finish is left for the next
// call of Scrub, and reported by [Store.ScrubPending].
func (s *Store) Apply(ctx context.Context, c Change) (Applied, error) {
	a, err := s.apply(ctx, c)
	if err != nil {
		return Applied{}, fmt.Errorf("store: apply %s of bulletin %s from %s: %w", c.Bulletin.Kind(), c.Bulletin.ID, c.Bulletin.Origin, err)
	}
	if a.Removed {
		s.scrubPending.Store(true)
		if err := s.Scrub(ctx); err != nil {
			return a, nil // the change is committed; the scrub is taken up again
		}
	}
	return a, nil
}

func (s *Store) apply(ctx context.Context, c Change) (Applied, error) {
	b := &c.Bulletin
	if err := checkPut(b, c.Direction, c.At); err != nil {
		return Applied{}, err
	}
	if err := checkCopies(c.Copies); err != nil {
		return Applied{}, err
	}
	doc, sum, err := encode(*b)
	if err != nil {
		return Applied{}, err
	}
	var a Applied
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		if err := checkRoom(ctx, tx, c.MaxPending); err != nil {
			return false, err
		}
		var err error
		if a, err = applyTx(ctx, tx, &c, doc, sum); err != nil {
			return false, err
		}
		if c.Requeue {
			err = requeueCopies(ctx, tx, c.Copies, c.At)
		} else {
			_, err = insertCopies(ctx, tx, c.Copies, c.At)
		}
		if err != nil {
			return false, err
		}
		_, err = insertReceipts(ctx, tx, c.Receipts, c.At)
		return true, err
	})
	return a, err
}

// applyTx decides and writes c's bulletin in tx.
func applyTx(ctx context.Context, tx *sql.Tx, c *Change, doc []byte, sum [sha256.Size]byte) (Applied, error) {
	b := &c.Bulletin
	old, oldSum, err := getRecord(ctx, tx, b.Origin, b.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		rec, err := insert(ctx, tx, b, c.Direction, c.At, doc, sum, c.Delivery)
		return Applied{Record: rec, Changed: true}, err
	case err != nil:
		return Applied{}, err
	case old.Withdrawn() && c.Direction == Received && c.Delivery.SignKey != "" && c.Delivery.SignKey != old.WithdrawnKey &&
		c.Delivery.Current:
		return putBack(ctx, tx, &old, oldSum, c, doc, sum)
	}
	held, got := old.Bulletin.RevisionNumber(), b.RevisionNumber()
	heldRevoked, revoke := old.Bulletin.Revoked, b.Kind() == bulletin.KindRevocation
	switch {
	case heldRevoked && revoke && got <= held,
		!heldRevoked && !revoke && got == held && sameContent(old, oldSum, sum):
		_, err := fillCopy(ctx, tx, old.Cursor, c.Delivery)
		return Applied{Record: old}, err
	case !heldRevoked && !revoke && got == held:
		return Applied{}, conflict(b.ID)
	case heldRevoked && !revoke && got <= held, !heldRevoked && revoke && got < held, !revoke && got < held:
		return Applied{}, stale(b.ID, held, got, heldRevoked)
	}
	rec, err := replace(ctx, tx, &old, c, doc, sum)
	return Applied{Record: rec, Changed: true, Removed: revoke && !heldRevoked}, err
}

// replace puts c's bulletin in the place of old at a new cursor: content
// replacing content keeps old's content in the history (and its
// acknowledgement); a tombstone removes every revision held.
func replace(ctx context.Context, tx *sql.Tx, old *Record, c *Change, doc []byte, sum [sha256.Size]byte) (Record, error) {
	b := &c.Bulletin
	revoke := b.Kind() == bulletin.KindRevocation
	if !old.Bulletin.Revoked && !revoke {
		odoc, _, err := encode(old.Bulletin)
		if err != nil {
			return Record{}, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO revisions (origin, id, revision, created_at, doc) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (origin, id, revision) DO NOTHING`, b.Origin, b.ID, old.Bulletin.RevisionNumber(),
			old.Bulletin.CreatedAt.UnixNano(), odoc); err != nil {
			return Record{}, fmt.Errorf("keep revision %d: %w", old.Bulletin.RevisionNumber(), err)
		}
	}
	if revoke {
		if _, err := tx.ExecContext(ctx, `DELETE FROM revisions WHERE origin = ? AND id = ?`, b.Origin, b.ID); err != nil {
			return Record{}, fmt.Errorf("remove revisions: %w", err)
		}
	}
	if err := deleteRow(ctx, tx, old); err != nil {
		return Record{}, err
	}
	d := c.Delivery
	if d.ForwardedBy == "" && c.Direction == Received {
		d.ForwardedBy = old.ForwardedBy
	}
	rec, err := insert(ctx, tx, b, old.Direction, c.At, doc, sum, d)
	if err != nil || revoke || old.AckedAt.IsZero() {
		return rec, err
	}
	rec.AckedAt, rec.AckedBy = old.AckedAt, old.AckedBy
	_, err = tx.ExecContext(ctx, `UPDATE bulletins SET acked_at = ?, acked_by = ? WHERE cursor = ?`,
		old.AckedAt.UnixNano(), old.AckedBy, int64(rec.Cursor))
	return rec, err
}

// deleteRow removes rec's row and its full-text terms.
func deleteRow(ctx context.Context, tx *sql.Tx, rec *Record) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM bulletins WHERE cursor = ?`, int64(rec.Cursor)); err != nil {
		return fmt.Errorf("remove row: %w", err)
	}
	if !rec.Bulletin.IsContent() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bulletins_fts WHERE rowid = ?`, int64(rec.Cursor)); err != nil {
		return fmt.Errorf("remove indexed text: %w", err)
	}
	return nil
}

// lifecycle are the columns of the lifecycle a row carries.
type lifecycle struct {
	revision    int64
	revokedAt   sql.NullInt64
	replyOrigin sql.NullString
	replyID     sql.NullString
	replyRegion sql.NullInt64
}

// lifeColumns are b's lifecycle columns.
func lifeColumns(b *bulletin.Bulletin) lifecycle {
	l := lifecycle{revision: int64(b.RevisionNumber())}
	if b.Revocation != nil {
		l.revokedAt = sql.NullInt64{Int64: b.Revocation.At.UnixNano(), Valid: true}
	}
	if b.Reply != nil {
		r := b.Reply.InReplyTo
		l.replyOrigin = sql.NullString{String: r.Origin, Valid: true}
		l.replyID = sql.NullString{String: r.ID, Valid: true}
		l.replyRegion = sql.NullInt64{Int64: int64(originRegion(r.Origin)), Valid: true}
	}
	return l
}
