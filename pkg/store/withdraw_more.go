package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// Withdrawn translations and consent requests. Besides its own bulletins
// (withdraw.go), a state signs messages that change what this node holds
// of other states' bulletins: a translation it adds to another state's
// bulletin, a request for consent to forward one. Each rests on the
// signature of the state that sent it, recorded with it
// (translation_keys, consents.sign_key). When that state declares the key
// compromised, [Store.WithdrawTranslationsSignedBy] takes the
// translations it signed out of the bulletins (kept apart as evidence,
// withdrawn_translations), and [Store.WithdrawConsentsSignedBy] withdraws
// its pending requests: no list shows them and no decision is taken on
// them. Rows whose key is not known are withdrawn too (fail closed). The
// state's translation signed again with a key not compromised is added
// again ([Store.AddTranslation]).

// TranslationWithdrawal is one translation
// [Store.WithdrawTranslationsSignedBy] withdrew.
type TranslationWithdrawal struct {
	// Origin and ID name the bulletin translated.
	Origin, ID string
	// Translation is the translation withdrawn; its By the translating
	// state.
	Translation bulletin.Translation
	// SignKey is the compromised key it rested on; empty when the key
	// was not known (withdrawn to fail closed).
	SignKey string
}

// WithdrawTranslationsSignedBy withdraws, at time at, the translations
// state by added to other states' bulletins whose message a key of keyIDs
// signed, and those whose signing key is not known: fail closed. Each
// leaves its bulletin (which moves to a new cursor, so subscriptions
// deliver it again, and whose text index no longer holds it) and is kept
// apart as evidence. A translation withdrawn before is not withdrawn
// again, so the same declaration applied again, or after a restart,
// withdraws nothing more. It returns what it withdrew; nothing when
// keyIDs is empty. Errors: kind Invalid for an empty state, [ErrClosed].
func (s *Store) WithdrawTranslationsSignedBy(ctx context.Context, by string, keyIDs []string, at time.Time) ([]TranslationWithdrawal, error) {
	return s.WithdrawTranslationsSignedByAudited(ctx, by, keyIDs, at, nil)
}

// WithdrawTranslationsSignedByAudited is [Store.WithdrawTranslationsSignedBy]
// that queues, in the same transaction, the receipt receiptOf returns for
// each translation withdrawn (nil: none), as [Store.WithdrawSignedByAudited].
func (s *Store) WithdrawTranslationsSignedByAudited(ctx context.Context, by string, keyIDs []string, at time.Time,
	receiptOf func(TranslationWithdrawal) (Receipt, error)) ([]TranslationWithdrawal, error) {
	switch {
	case by == "":
		return nil, fmt.Errorf("store: withdraw translations: %w", problem.Invalid("by", "translating state is required"))
	case len(keyIDs) == 0:
		return nil, nil
	}
	var out []TranslationWithdrawal
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		if out, err = withdrawTranslations(ctx, tx, by, keyIDs, at); err != nil {
			return false, err
		}
		return true, queueWithdrawalReceipts(ctx, tx, out, receiptOf, at)
	})
	if err != nil {
		return nil, fmt.Errorf("store: withdraw translations by %s signed by a compromised key: %w", by, err)
	}
	return out, nil
}

// translationKey is a row of translation_keys.
type translationKey struct {
	origin, id string
	language   bulletin.Language
	signKey    string
}

func withdrawTranslations(ctx context.Context, tx *sql.Tx, by string, keyIDs []string, at time.Time) ([]TranslationWithdrawal, error) {
	signed, signedArgs := signedByAnyOf(keyIDs)
	rows, err := tx.QueryContext(ctx, `SELECT origin, id, language, COALESCE(sign_key, '') FROM translation_keys
		WHERE by_state = ? AND `+signed+` ORDER BY origin, id, language`, append([]any{by}, signedArgs...)...)
	if err != nil {
		return nil, err
	}
	var keys []translationKey
	for rows.Next() {
		var k translationKey
		if err := rows.Scan(&k.origin, &k.id, &k.language, &k.signKey); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []TranslationWithdrawal
	for len(keys) > 0 {
		// The keys of one bulletin.
		n := 1
		for n < len(keys) && keys[n].origin == keys[0].origin && keys[n].id == keys[0].id {
			n++
		}
		ws, err := withdrawBulletinTranslations(ctx, tx, by, keys[:n], at)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
		keys = keys[n:]
	}
	return out, nil
}

// withdrawBulletinTranslations withdraws from one bulletin the
// translations by state by that keys name (all of that bulletin).
func withdrawBulletinTranslations(ctx context.Context, tx *sql.Tx, by string, keys []translationKey, at time.Time) ([]TranslationWithdrawal, error) {
	origin, id := keys[0].origin, keys[0].id
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM translation_keys WHERE origin = ? AND id = ? AND language = ?`,
			origin, id, int64(k.language)); err != nil {
			return nil, fmt.Errorf("forget translation key: %w", err)
		}
	}
	old, oldSum, err := getRecord(ctx, tx, origin, id)
	if problem.KindOf(err) == problem.KindNotFound {
		return nil, nil // the bulletin is gone, and its translations with it
	}
	if err != nil {
		return nil, err
	}
	b := old.Bulletin
	var out []TranslationWithdrawal
	b.Translations = slices.DeleteFunc(slices.Clone(b.Translations), func(tr bulletin.Translation) bool {
		if tr.By != by || tr.By == b.Origin {
			return false
		}
		i := slices.IndexFunc(keys, func(k translationKey) bool { return k.language == tr.Language })
		if i < 0 {
			return false
		}
		out = append(out, TranslationWithdrawal{Origin: origin, ID: id, Translation: tr, SignKey: keys[i].signKey})
		return true
	})
	if len(out) == 0 {
		return nil, nil // a later revision dropped them
	}
	for _, w := range out {
		data, err := json.Marshal(w.Translation)
		if err != nil {
			return nil, fmt.Errorf("encode translation: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO withdrawn_translations (origin, id, by_state, sign_key, translation, withdrawn_at)
			VALUES (?, ?, ?, ?, ?, ?)`, origin, id, by, w.SignKey, data, at.UnixNano()); err != nil {
			return nil, fmt.Errorf("keep the withdrawn translation: %w", err)
		}
	}
	if len(b.Translations) == 0 {
		b.Translations = nil
	}
	doc, _, err := encode(b)
	if err != nil {
		return nil, err
	}
	if old.Withdrawn() {
		// Not shown, and a re-attestation replaces the whole row: the doc
		// alone changes, the row stays withdrawn.
		if _, err := tx.ExecContext(ctx, `UPDATE bulletins SET doc = ? WHERE cursor = ?`, doc, int64(old.Cursor)); err != nil {
			return nil, fmt.Errorf("remove translation: %w", err)
		}
		return out, nil
	}
	var sum [sha256.Size]byte
	copy(sum[:], oldSum)
	if _, err := reinsert(ctx, tx, &old, &b, at, doc, sum); err != nil {
		return nil, fmt.Errorf("remove translation: %w", err)
	}
	return out, nil
}

// WithdrawnTranslations is the number of translations withdrawn from
// bulletin id of origin (kept as evidence). [ErrClosed] after Close.
func (s *Store) WithdrawnTranslations(ctx context.Context, origin, id string) (int, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: withdrawn translations of %s/%s: %w", origin, id, err)
	}
	defer leave()
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM withdrawn_translations WHERE origin = ? AND id = ?`, origin, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: withdrawn translations of %s/%s: %w", origin, id, err)
	}
	return n, nil
}

// putTranslationKey records keyID ("" when not known) as the signing key
// of t's translation.
func putTranslationKey(ctx context.Context, tx *sql.Tx, t *Translation) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO translation_keys (origin, id, language, by_state, sign_key) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (origin, id, language) DO UPDATE SET by_state = excluded.by_state, sign_key = excluded.sign_key`,
		t.Origin, t.ID, int64(t.Translation.Language), t.Translation.By, nullString(t.SignKey))
	if err != nil {
		return fmt.Errorf("record translation key: %w", err)
	}
	return nil
}

// ConsentWithdrawal is one consent request [Store.WithdrawConsentsSignedBy]
// withdrew.
type ConsentWithdrawal struct {
	// ID is the request's; Bulletin the bulletin it asked to forward.
	ID       string
	Bulletin bulletin.Ref
	// Forwarder asked to forward it to Target.
	Forwarder, Target string
	// SignKey is the compromised key it rested on; empty when not known.
	SignKey string
}

// WithdrawConsentsSignedBy withdraws, at time at, the pending consent
// requests state forwarder sent about other states' bulletins whose
// message a key of keyIDs signed, and those whose key is not known: fail
// closed. A withdrawn request is listed by no [Store.Consents] and
// decided by no one ([ConsentRequest.Withdrawn]). Requests withdrawn
// before are left, so the same declaration withdraws nothing more. It
// returns what it withdrew; nothing when keyIDs is empty. Errors: kind
// Invalid for an empty state, [ErrClosed].
func (s *Store) WithdrawConsentsSignedBy(ctx context.Context, forwarder string, keyIDs []string, at time.Time) ([]ConsentWithdrawal, error) {
	return s.WithdrawConsentsSignedByAudited(ctx, forwarder, keyIDs, at, nil)
}

// WithdrawConsentsSignedByAudited is [Store.WithdrawConsentsSignedBy]
// that queues, in the same transaction, the receipt receiptOf returns for
// each request withdrawn (nil: none), as [Store.WithdrawSignedByAudited].
func (s *Store) WithdrawConsentsSignedByAudited(ctx context.Context, forwarder string, keyIDs []string, at time.Time,
	receiptOf func(ConsentWithdrawal) (Receipt, error)) ([]ConsentWithdrawal, error) {
	switch {
	case forwarder == "":
		return nil, fmt.Errorf("store: withdraw consent requests: %w", problem.Invalid("forwarder", "requesting state is required"))
	case len(keyIDs) == 0:
		return nil, nil
	}
	var out []ConsentWithdrawal
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		signed, keys := signedByAnyOf(keyIDs)
		args := append([]any{at.UnixNano(), forwarder, forwarder, int64(bulletin.ConsentPending)}, keys...)
		rows, err := tx.QueryContext(ctx, `UPDATE consents SET withdrawn_at = ?, withdrawn_key = COALESCE(sign_key, '')
			WHERE forwarder = ? AND bulletin_origin != ? AND decision = ? AND withdrawn_at IS NULL
			AND `+signed+`
			RETURNING id, bulletin_origin, bulletin_id, target, withdrawn_key`, args...)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			w := ConsentWithdrawal{Forwarder: forwarder}
			if err := rows.Scan(&w.ID, &w.Bulletin.Origin, &w.Bulletin.ID, &w.Target, &w.SignKey); err != nil {
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
		return nil, fmt.Errorf("store: withdraw consent requests of %s signed by a compromised key: %w", forwarder, err)
	}
	return out, nil
}

// TranslatedBy returns the bulletins held to which state by added a
// translation still recorded (by origin and id): for this node's own
// state, the translations its re-attestation signs again. [ErrClosed]
// after Close.
func (s *Store) TranslatedBy(ctx context.Context, by string) ([]bulletin.Ref, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: bulletins translated by %s: %w", by, err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT origin, id FROM translation_keys WHERE by_state = ? ORDER BY origin, id`, by)
	if err != nil {
		return nil, fmt.Errorf("store: bulletins translated by %s: %w", by, err)
	}
	defer rows.Close()
	var out []bulletin.Ref
	for rows.Next() {
		var r bulletin.Ref
		if err := rows.Scan(&r.Origin, &r.ID); err != nil {
			return nil, fmt.Errorf("store: bulletins translated by %s: %w", by, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bulletins translated by %s: %w", by, err)
	}
	return out, nil
}

// queueWithdrawalReceipts queues in tx the receipt receiptOf returns for
// each of ws (none when receiptOf is nil).
func queueWithdrawalReceipts[W any](ctx context.Context, tx *sql.Tx, ws []W, receiptOf func(W) (Receipt, error), at time.Time) error {
	if receiptOf == nil || len(ws) == 0 {
		return nil
	}
	rs := make([]Receipt, 0, len(ws))
	for _, w := range ws {
		r, err := receiptOf(w)
		if err != nil {
			return fmt.Errorf("withdrawal receipt: %w", err)
		}
		rs = append(rs, r)
	}
	_, err := insertReceipts(ctx, tx, rs, at)
	return err
}
