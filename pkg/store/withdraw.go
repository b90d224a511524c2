package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Withdrawn bulletins. A received row rests on its origin's signature of
// the message it holds (sign_key). When the origin declares that signing
// key compromised, its signature proves nothing: the node withdraws the
// row ([Store.WithdrawSignedBy]). A withdrawn row stays in the database
// but no list, search or thread shows it, and [Store.Get] returns it
// marked ([Record.Withdrawn]) for the caller to refuse. A copy of the
// same bulletin that its origin signed with a key not compromised (its
// re-attestation after the rotation) puts it back ([Store.Apply]): the
// same content is reinstated; other content replaces the row, whose
// bulletin and copy are kept apart as evidence (withdrawn_replaced).

// ErrWithdrawn means the bulletin is held but withdrawn: its origin
// declared compromised the signing key it rests on. Returned by callers
// that refuse a withdrawn record; the store itself returns the record.
var ErrWithdrawn = errors.New("bulletin withdrawn: its origin declared its signing key compromised")

// signedByAnyOf is the condition "a row's sign_key is one of keyIDs, or
// not known" (fail closed) with its arguments, for a non-empty keyIDs.
func signedByAnyOf(keyIDs []string) (string, []any) {
	args := make([]any, len(keyIDs))
	for i, k := range keyIDs {
		args[i] = k
	}
	return "(sign_key IS NULL OR sign_key IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(keyIDs)), ", ") + "))", args
}

// Withdrawal is one bulletin [Store.WithdrawSignedBy] withdrew.
type Withdrawal struct {
	// Origin and ID name the bulletin; Revision is the revision its row
	// held (a tombstone's: the revision it revoked).
	Origin, ID string
	Revision   int
	// Revoked says the row was the tombstone of a revocation.
	Revoked bool
	// SignKey is the compromised key its row rested on; empty when the
	// key was not known (withdrawn to fail closed).
	SignKey string
}

// WithdrawSignedBy withdraws, at time at, the received bulletins of
// origin whose row rests on a signature by one of keyIDs, and those
// whose signing key is not known (rows stored before keys were
// recorded, whose copy did not tell it): fail closed. Rows withdrawn
// before are left as they are, so applying the same declaration again,
// or after a restart, withdraws nothing more. It returns what it
// withdrew; nothing when keyIDs is empty. Errors: kind Invalid for an
// empty origin, [ErrClosed].
func (s *Store) WithdrawSignedBy(ctx context.Context, origin string, keyIDs []string, at time.Time) ([]Withdrawal, error) {
	return s.WithdrawSignedByAudited(ctx, origin, keyIDs, at, nil)
}

// WithdrawSignedByAudited is [Store.WithdrawSignedBy] that also queues,
// in the same transaction, the receipt receiptOf returns for each row it
// withdraws (nil: none): a withdrawal is never committed without its
// audit, which a crash between the two would lose for good (the rows,
// withdrawn, are not withdrawn again). An error of receiptOf rolls the
// withdrawal back.
func (s *Store) WithdrawSignedByAudited(ctx context.Context, origin string, keyIDs []string, at time.Time,
	receiptOf func(Withdrawal) (Receipt, error)) ([]Withdrawal, error) {
	switch {
	case origin == "":
		return nil, fmt.Errorf("store: withdraw: %w", problem.Invalid("origin", "origin is required"))
	case len(keyIDs) == 0:
		return nil, nil
	}
	var out []Withdrawal
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		signed, keys := signedByAnyOf(keyIDs)
		args := append([]any{at.UnixNano(), origin, int64(Received)}, keys...)
		rows, err := tx.QueryContext(ctx, `UPDATE bulletins SET withdrawn_at = ?, withdrawn_key = COALESCE(sign_key, '')
			WHERE origin = ? AND direction = ? AND withdrawn_at IS NULL AND `+signed+`
			RETURNING id, revision, revoked_at IS NOT NULL, withdrawn_key`, args...)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			w := Withdrawal{Origin: origin}
			if err := rows.Scan(&w.ID, &w.Revision, &w.Revoked, &w.SignKey); err != nil {
				return false, err
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		rows.Close()
		return len(out) > 0, queueWithdrawalReceipts(ctx, tx, out, receiptOf, at)
	})
	if err != nil {
		return nil, fmt.Errorf("store: withdraw bulletins of %s signed by a compromised key: %w", origin, err)
	}
	return out, nil
}

// UnknownSigner is a received row whose signing key is not recorded, with
// the copy it was received as ([Store.UnknownSigners]).
type UnknownSigner struct {
	Cursor uint64
	Copy   []byte
}

// UnknownSigners returns up to limit received rows, after cursor after,
// whose signing key is not recorded but whose copy is kept: rows stored
// before keys were recorded, for the node to derive the key from the
// copy ([Store.SetSignKey]). [ErrClosed] after Close.
func (s *Store) UnknownSigners(ctx context.Context, after uint64, limit int) ([]UnknownSigner, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: rows without signing key: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT cursor, copy FROM bulletins
		WHERE direction = ? AND sign_key IS NULL AND copy IS NOT NULL AND cursor > ? ORDER BY cursor LIMIT ?`,
		int64(Received), int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("store: rows without signing key: %w", err)
	}
	defer rows.Close()
	var out []UnknownSigner
	for rows.Next() {
		var u UnknownSigner
		var c int64
		if err := rows.Scan(&c, &u.Copy); err != nil {
			return nil, fmt.Errorf("store: rows without signing key: %w", err)
		}
		u.Cursor = uint64(c)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rows without signing key: %w", err)
	}
	return out, nil
}

// SetSignKey records keyID as the signing key of the row at cursor, if
// it has none. [ErrClosed] after Close.
func (s *Store) SetSignKey(ctx context.Context, cursor uint64, keyID string) error {
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `UPDATE bulletins SET sign_key = ? WHERE cursor = ? AND sign_key IS NULL`, keyID, int64(cursor))
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("store: set signing key of row %d: %w", cursor, err)
	}
	return nil
}

// CompromisedSignKeys returns, per state, the IDs of the kept signing
// keys its directory entries declared compromised. [ErrClosed] after
// Close.
func (s *Store) CompromisedSignKeys(ctx context.Context) (map[string][]string, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: compromised signing keys: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT state, key_id FROM sign_keys WHERE compromised = 1 ORDER BY state, key_id`)
	if err != nil {
		return nil, fmt.Errorf("store: compromised signing keys: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var state, id string
		if err := rows.Scan(&state, &id); err != nil {
			return nil, fmt.Errorf("store: compromised signing keys: %w", err)
		}
		out[state] = append(out[state], id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: compromised signing keys: %w", err)
	}
	return out, nil
}

// WithdrawnReplaced is the number of withdrawn rows of bulletin id from
// origin that a genuine copy with other content replaced (kept as
// evidence). [ErrClosed] after Close.
func (s *Store) WithdrawnReplaced(ctx context.Context, origin, id string) (int, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: replaced rows of %s/%s: %w", origin, id, err)
	}
	defer leave()
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM withdrawn_replaced WHERE origin = ? AND id = ?`, origin, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: replaced rows of %s/%s: %w", origin, id, err)
	}
	return n, nil
}

// putBack replaces the withdrawn row old with c's message, which its
// origin signed with a key not compromised (c.Delivery.SignKey): whatever
// its revision, since the row withdrawn was not the origin's word. Other
// content than old's is a replacement: old's bulletin and copy are kept
// apart as evidence and the revisions it may have brought (its revision
// and later ones in the history) are removed. The row moves to a new
// cursor, so subscriptions deliver it again.
func putBack(ctx context.Context, tx *sql.Tx, old *Record, oldSum []byte, c *Change, doc []byte, sum [32]byte) (Applied, error) {
	same := sameContent(*old, oldSum, sum)
	if !same {
		odoc, _, err := encode(old.Bulletin)
		if err != nil {
			return Applied{}, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO withdrawn_replaced (origin, id, sign_key, doc, copy, replaced_at)
			SELECT origin, id, COALESCE(withdrawn_key, ''), ?, copy, ? FROM bulletins WHERE cursor = ?`,
			odoc, c.At.UnixNano(), int64(old.Cursor)); err != nil {
			return Applied{}, fmt.Errorf("keep the replaced row: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM revisions WHERE origin = ? AND id = ? AND revision >= ?`,
			old.Bulletin.Origin, old.Bulletin.ID, min(old.Bulletin.RevisionNumber(), c.Bulletin.RevisionNumber())); err != nil {
			return Applied{}, fmt.Errorf("remove replaced revisions: %w", err)
		}
	}
	if c.Bulletin.Revoked {
		if _, err := tx.ExecContext(ctx, `DELETE FROM revisions WHERE origin = ? AND id = ?`, old.Bulletin.Origin, old.Bulletin.ID); err != nil {
			return Applied{}, fmt.Errorf("remove revisions: %w", err)
		}
	}
	if err := deleteRow(ctx, tx, old); err != nil {
		return Applied{}, err
	}
	d := c.Delivery
	if d.ForwardedBy == "" {
		d.ForwardedBy = old.ForwardedBy
	}
	rec, err := insert(ctx, tx, &c.Bulletin, old.Direction, c.At, doc, sum, d)
	if err != nil {
		return Applied{}, err
	}
	if same && !old.AckedAt.IsZero() {
		rec.AckedAt, rec.AckedBy = old.AckedAt, old.AckedBy
		if _, err := tx.ExecContext(ctx, `UPDATE bulletins SET acked_at = ?, acked_by = ? WHERE cursor = ?`,
			old.AckedAt.UnixNano(), old.AckedBy, int64(rec.Cursor)); err != nil {
			return Applied{}, fmt.Errorf("keep acknowledgement: %w", err)
		}
	}
	return Applied{Record: rec, Changed: true, Reinstated: same, Replaced: !same,
		Removed: c.Bulletin.Revoked && !old.Bulletin.Revoked}, nil
}

// SentRecords returns up to limit of the bulletins this node sent (its
// own, replies included), after cursor after, in cursor order, tombstones
// of revoked ones included: what its re-attestation signs again.
// [ErrClosed] after Close.
func (s *Store) SentRecords(ctx context.Context, after uint64, limit int) ([]Record, error) {
	recs, err := s.query(ctx, `SELECT `+recordCols+` FROM bulletins AS b WHERE b.direction = ? AND b.cursor > ?
		ORDER BY b.cursor LIMIT ?`, []any{int64(Sent), int64(after), limit})
	if err != nil {
		return nil, fmt.Errorf("store: sent bulletins: %w", err)
	}
	return recs, nil
}

// RequeueCopies queues copies in one transaction, replacing a copy queued
// or published before for the same recipient and message (the origin's
// re-attestation: the same message signed again). [ErrClosed] after
// Close; kind Invalid for an incomplete copy.
func (s *Store) RequeueCopies(ctx context.Context, cs []Copy, at time.Time) error {
	if err := checkCopies(cs); err != nil {
		return fmt.Errorf("store: queue copies again: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		return len(cs) > 0, requeueCopies(ctx, tx, cs, at)
	})
	if err != nil {
		return fmt.Errorf("store: queue copies again: %w", err)
	}
	return nil
}

// requeueCopies queues cs in tx, each in place of a copy of the same
// message for the same recipient queued or published before. The copy
// replaced is deleted and the new one takes a new seq (never reused):
// a publisher that read the old copy and publishes it meanwhile marks
// its seq published ([Store.MarkCopiesPublished]), which leaves the new
// copy pending, so it is published in its turn and not lost.
func requeueCopies(ctx context.Context, tx *sql.Tx, cs []Copy, at time.Time) error {
	for _, c := range cs {
		kind, revision := c.message()
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_copies WHERE recipient = ? AND origin = ? AND bulletin_origin = ?
			AND bulletin_id = ? AND kind = ? AND revision = ?`,
			c.Recipient, c.Origin, c.bulletinOrigin(), c.BulletinID, kind, revision); err != nil {
			return fmt.Errorf("replace copy for %s: %w", c.Recipient, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_copies (recipient, origin, bulletin_origin, bulletin_id, kind, revision, data, queued_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Recipient, c.Origin, c.bulletinOrigin(), c.BulletinID, kind, revision, c.Data, at.UnixNano()); err != nil {
			return fmt.Errorf("queue copy for %s: %w", c.Recipient, err)
		}
	}
	return nil
}
