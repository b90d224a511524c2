package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// ErrGrantUsed means a consent grant already let its one forward pass
// (problem kind Permission, rule forward.consent_used).
var ErrGrantUsed = errors.New("consent grant already used")

// ConsentRequest is a request for an origin's consent to forward its
// bulletin, as a node keeps it: the node of the state that asked, the
// origin's, and the target's once a grant names it.
type ConsentRequest struct {
	// ID is the request's id (its sealed message's).
	ID string
	// Bulletin is the bulletin to forward.
	Bulletin bulletin.Ref
	// Forwarder asks to forward it to Target.
	Forwarder, Target string
	// Reason is the asker's; RequestedBy the asking focal point's SPIFFE
	// ID; RequestedAt when.
	Reason, RequestedBy string
	RequestedAt         time.Time
	// Decision, DecidedBy, DecidedAt and DecisionReason are the origin's
	// answer; pending until then.
	Decision       bulletin.ConsentDecision
	DecidedBy      string
	DecidedAt      time.Time
	DecisionReason string
	// UsedAt is when the grant let its forward pass (at the forwarder).
	UsedAt time.Time
	// SignKey is the ID of the requesting state's signing key that signed
	// the request received; empty when not known or sent by this node.
	SignKey string
	// WithdrawnAt is when the request was withdrawn: the requesting state
	// declared compromised the key it rests on
	// ([Store.WithdrawConsentsSignedBy]); zero if not.
	WithdrawnAt time.Time
}

// Withdrawn reports whether r is withdrawn ([ConsentRequest.WithdrawnAt]).
func (r *ConsentRequest) Withdrawn() bool { return !r.WithdrawnAt.IsZero() }

// consentCols are the columns scanConsent reads.
const consentCols = `id, bulletin_origin, bulletin_id, forwarder, target, reason, requested_by, requested_at,
	decision, decided_by, decided_at, decision_reason, used_at, sign_key, withdrawn_at`

func scanConsent(row interface{ Scan(...any) error }) (ConsentRequest, error) {
	var r ConsentRequest
	var requested int64
	var decidedBy, decisionReason, signKey sql.NullString
	var decided, used, withdrawn sql.NullInt64
	err := row.Scan(&r.ID, &r.Bulletin.Origin, &r.Bulletin.ID, &r.Forwarder, &r.Target, &r.Reason, &r.RequestedBy,
		&requested, &r.Decision, &decidedBy, &decided, &decisionReason, &used, &signKey, &withdrawn)
	if err != nil {
		return ConsentRequest{}, err
	}
	r.RequestedAt = fromNanos(requested)
	r.DecidedBy, r.DecisionReason = decidedBy.String, decisionReason.String
	if decided.Valid {
		r.DecidedAt = fromNanos(decided.Int64)
	}
	if used.Valid {
		r.UsedAt = fromNanos(used.Int64)
	}
	r.SignKey = signKey.String
	if withdrawn.Valid {
		r.WithdrawnAt = fromNanos(withdrawn.Int64)
	}
	return r, nil
}

// PutConsent stores request r as it stands (pending, or with its
// decision), with copies and receipts to commit with it. A request held
// already keeps its request fields; a pending one takes r's decision,
// and a decided one is left as it is when r says the same, else
// [ErrConflict]. It reports whether the store changed. Errors: kind
// Invalid for an incomplete request, [ErrOutboxFull], [ErrClosed].
func (s *Store) PutConsent(ctx context.Context, r ConsentRequest, copies []Copy, receipts []Receipt, at time.Time, maxPending int) (bool, error) {
	if r.ID == "" || r.Forwarder == "" || r.Target == "" || r.Bulletin.IsZero() || r.RequestedAt.IsZero() {
		return false, fmt.Errorf("store: put consent request: %w", problem.Invalid("request_id", "consent request %q is incomplete", r.ID))
	}
	changed := false
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		if err := checkRoom(ctx, tx, maxPending); err != nil {
			return false, err
		}
		var err error
		if changed, err = putConsent(ctx, tx, &r); err != nil {
			return false, err
		}
		if _, err := insertCopies(ctx, tx, copies, at); err != nil {
			return false, err
		}
		_, err = insertReceipts(ctx, tx, receipts, at)
		return true, err
	})
	if err != nil {
		return false, fmt.Errorf("store: put consent request %s: %w", r.ID, err)
	}
	return changed, nil
}

func putConsent(ctx context.Context, tx *sql.Tx, r *ConsentRequest) (bool, error) {
	old, err := scanConsent(tx.QueryRowContext(ctx, `SELECT `+consentCols+` FROM consents WHERE id = ?`, r.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err := tx.ExecContext(ctx, `INSERT INTO consents (id, bulletin_origin, bulletin_id, forwarder, target, reason,
			requested_by, requested_at, decision, decided_by, decided_at, decision_reason, sign_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Bulletin.Origin, r.Bulletin.ID, r.Forwarder, r.Target, r.Reason, r.RequestedBy, r.RequestedAt.UnixNano(),
			int64(r.Decision), nullString(r.DecidedBy), nullTime(r.DecidedAt), nullString(r.DecisionReason), nullString(r.SignKey))
		return err == nil, err
	case err != nil:
		return false, err
	case old.Bulletin != r.Bulletin || old.Forwarder != r.Forwarder || old.Target != r.Target:
		return false, &problem.Error{Kind: problem.KindConflict, Err: ErrConflict, Msg: "consent request " + r.ID + " is held with other facts"}
	case r.Decision == bulletin.ConsentPending || old.Decision == r.Decision:
		return false, nil
	case old.Withdrawn():
		return false, &problem.Error{Kind: problem.KindFailedPrecondition, Rule: "receive.key_compromised", Err: ErrWithdrawn,
			Msg: fmt.Sprintf("consent request %s is withdrawn: %s declared compromised the signing key it rests on", r.ID, old.Forwarder)}
	case old.Decision != bulletin.ConsentPending:
		return false, &problem.Error{Kind: problem.KindConflict, Err: ErrConflict,
			Msg: fmt.Sprintf("consent request %s was %s already", r.ID, old.Decision)}
	}
	_, err = tx.ExecContext(ctx, `UPDATE consents SET decision = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ?`,
		int64(r.Decision), nullString(r.DecidedBy), nullTime(r.DecidedAt), nullString(r.DecisionReason), r.ID)
	return err == nil, err
}

// Consent returns request id: [ErrNotFound] (kind NotFound) if none is
// held. [ErrClosed] after Close.
func (s *Store) Consent(ctx context.Context, id string) (ConsentRequest, error) {
	leave, err := s.enter()
	if err != nil {
		return ConsentRequest{}, fmt.Errorf("store: consent request %s: %w", id, err)
	}
	defer leave()
	r, err := scanConsent(s.db.QueryRowContext(ctx, `SELECT `+consentCols+` FROM consents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ConsentRequest{}, fmt.Errorf("store: consent request %s: %w", id,
			&problem.Error{Kind: problem.KindNotFound, Err: ErrNotFound, Msg: "consent request " + id + " not found"})
	}
	if err != nil {
		return ConsentRequest{}, fmt.Errorf("store: consent request %s: %w", id, err)
	}
	return r, nil
}

// Consents returns the requests held, oldest first: the pending ones, or
// all with decided; withdrawn ones never ([Store.WithdrawConsentsSignedBy]).
// [ErrClosed] after Close.
func (s *Store) Consents(ctx context.Context, decided bool) ([]ConsentRequest, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: consent requests: %w", err)
	}
	defer leave()
	q := `SELECT ` + consentCols + ` FROM consents WHERE withdrawn_at IS NULL` // withdrawn requests are never listed
	if !decided {
		q += ` AND decision = 0`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY requested_at, id LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("store: consent requests: %w", err)
	}
	defer rows.Close()
	var out []ConsentRequest
	for rows.Next() {
		r, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: consent requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Grant returns the id of a grant of the origin for forwarder to forward
// bulletin b to target, unused unless used is true; "" when none is held.
// [ErrClosed] after Close.
func (s *Store) Grant(ctx context.Context, b bulletin.Ref, forwarder, target string, used bool) (string, error) {
	leave, err := s.enter()
	if err != nil {
		return "", fmt.Errorf("store: consent grant: %w", err)
	}
	defer leave()
	q := `SELECT id FROM consents WHERE bulletin_origin = ? AND bulletin_id = ? AND forwarder = ? AND target = ? AND decision = ?`
	if !used {
		q += ` AND used_at IS NULL`
	}
	var id string
	err = s.db.QueryRowContext(ctx, q+` ORDER BY decided_at LIMIT 1`, b.Origin, b.ID, forwarder, target, int64(bulletin.ConsentGranted)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("store: consent grant: %w", err)
	}
	return id, nil
}

// useGrant marks grant id used at at, or fails with ErrGrantUsed.
func useGrant(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE consents SET used_at = ? WHERE id = ? AND decision = ? AND used_at IS NULL`,
		at.UnixNano(), id, int64(bulletin.ConsentGranted))
	if err != nil {
		return fmt.Errorf("use grant %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return &problem.Error{Kind: problem.KindPermission, Rule: "forward.consent_used", Err: ErrGrantUsed,
			Msg: "the origin's consent " + id + " was used by a forward already: ask again"}
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullTime(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixNano(), Valid: !t.IsZero()}
}
