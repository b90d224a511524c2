package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// Translation is a translation a state added to a bulletin held here (its
// own, when this node's state translated), with what commits with it.
type Translation struct {
	// Origin and ID name the bulletin translated; Revision is the
	// revision the translation was made of.
	Origin, ID string
	Revision   int
	// Translation is the translation; its By is the translating state.
	Translation bulletin.Translation
	// At is when it was applied.
	At time.Time
	// SignKey is the ID of the translating state's signing key that
	// signed the translation message received; empty when not known or
	// for this node's own. What its withdrawal rests on
	// ([Store.WithdrawTranslationsSignedBy]).
	SignKey string
	// Copies are sealed copies of the translation message to publish,
	// Receipts audit events to report, both committed with it.
	Copies   []Copy
	Receipts []Receipt
}

// AddTranslation adds t to the bulletin it names, in one transaction with
// its copies and receipts: the bulletin moves to a new cursor (a
// subscription delivers it again) and its translation is indexed for
// search. The same translation applied again changes nothing but still
// queues the receipts. The bulletin's content hash stays its origin's,
// so the origin's copy delivered again is still the same content.
//
// Errors: ErrNotFound (problem NotFound) when the bulletin is not held;
// ErrStale (problem Conflict) when it was revoked or the translation is
// of another revision than the one held; ErrConflict (problem Conflict)
// when it has the language already (its original or another
// translation).
func (s *Store) AddTranslation(ctx context.Context, t Translation) (Applied, error) {
	if err := checkCopies(t.Copies); err != nil {
		return Applied{}, fmt.Errorf("store: add translation of %s: %w", t.ID, err)
	}
	var a Applied
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		if a, err = addTranslationTx(ctx, tx, &t); err != nil {
			return false, err
		}
		if _, err := insertCopies(ctx, tx, t.Copies, t.At); err != nil {
			return false, err
		}
		_, err = insertReceipts(ctx, tx, t.Receipts, t.At)
		return true, err
	})
	if err != nil {
		return Applied{}, fmt.Errorf("store: add translation of %s from %s: %w", t.ID, t.Origin, err)
	}
	return a, nil
}

// addTranslationTx writes t into its bulletin's row in tx.
func addTranslationTx(ctx context.Context, tx *sql.Tx, t *Translation) (Applied, error) {
	old, oldSum, err := getRecord(ctx, tx, t.Origin, t.ID)
	if err != nil {
		return Applied{}, err
	}
	b := old.Bulletin
	tr := t.Translation
	switch {
	case old.Withdrawn():
		return Applied{}, &problem.Error{Kind: problem.KindConflict, Err: ErrWithdrawn,
			Msg: fmt.Sprintf("bulletin %s from %s is withdrawn: %s declared compromised the signing key it rests on", t.ID, t.Origin, t.Origin)}
	case b.Revoked:
		return Applied{}, &problem.Error{Kind: problem.KindConflict, Err: ErrStale, Msg: fmt.Sprintf("bulletin %s was revoked", t.ID)}
	case b.RevisionNumber() != t.Revision:
		return Applied{}, &problem.Error{Kind: problem.KindConflict, Err: ErrStale,
			Msg: fmt.Sprintf("bulletin %s: a translation of revision %d, revision %d is held", t.ID, t.Revision, b.RevisionNumber())}
	case b.Language == tr.Language:
		return Applied{}, languageTaken(t.ID, tr.Language, "its original")
	}
	for _, x := range b.Translations {
		if x.Language != tr.Language {
			continue
		}
		if x.By == tr.By && x.Title == tr.Title && x.Body == tr.Body {
			if t.SignKey != "" { // the same, signed again: it rests on this key now
				return Applied{Record: old}, putTranslationKey(ctx, tx, t)
			}
			return Applied{Record: old}, nil // applied before
		}
		return Applied{}, languageTaken(t.ID, tr.Language, x.By+"'s translation")
	}
	b.Translations = append(b.Translations, tr)
	doc, _, err := encode(b)
	if err != nil {
		return Applied{}, err
	}
	var sum [sha256.Size]byte
	copy(sum[:], oldSum)
	if err := putTranslationKey(ctx, tx, t); err != nil {
		return Applied{}, err
	}
	rec, err := reinsert(ctx, tx, &old, &b, t.At, doc, sum)
	return Applied{Record: rec, Changed: true}, err
}

// reinsert puts b, old's bulletin changed, at a new cursor, keeping how
// it arrived (its sealed copy, its forwarder) and its acknowledgement.
func reinsert(ctx context.Context, tx *sql.Tx, old *Record, b *bulletin.Bulletin, at time.Time, doc []byte, sum [sha256.Size]byte) (Record, error) {
	var data []byte
	var signKey sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT copy, sign_key FROM bulletins WHERE cursor = ?`, int64(old.Cursor)).Scan(&data, &signKey); err != nil {
		return Record{}, fmt.Errorf("read copy: %w", err)
	}
	if err := deleteRow(ctx, tx, old); err != nil {
		return Record{}, err
	}
	rec, err := insert(ctx, tx, b, old.Direction, at, doc, sum, Delivery{Copy: data, ForwardedBy: old.ForwardedBy, SignKey: signKey.String})
	if err != nil || old.AckedAt.IsZero() {
		return rec, err
	}
	rec.AckedAt, rec.AckedBy = old.AckedAt, old.AckedBy
	_, err = tx.ExecContext(ctx, `UPDATE bulletins SET acked_at = ?, acked_by = ? WHERE cursor = ?`,
		old.AckedAt.UnixNano(), old.AckedBy, int64(rec.Cursor))
	return rec, err
}

func languageTaken(id string, l bulletin.Language, what string) error {
	return &problem.Error{Kind: problem.KindConflict, Field: "language", Err: ErrConflict,
		Msg: fmt.Sprintf("bulletin %s has %s in %s already", id, what, l)}
}
