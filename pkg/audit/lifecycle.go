package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// The bulletin's life in the log. Every message of it — a revision, a
// revocation, a reply, a consent — is sealed and signed by the state
// that sent it, so the log holds each one's signed header and checks the
// receipts about it against that header, as it does a bulletin's:
//
//	event                         about the message         header kept in
//	posted, released, delivered,  the first version (a      bulletins (one row
//	read, acknowledged, refused,  bulletin, a reply or a    per message id)
//	escalated, Revision 0          consent)
//	the same with Revision n >= 2 revision n                revisions (kind 2)
//	revised (the origin's)        revision n                revisions (kind 2)
//	revocation (the origin's),    the revocation of         revisions (kind 3)
//	revoked (each holder's),      revision n (0: 1)
//	revocation_escalated
//
// A revision's header adds its recipients (states it newly releases to)
// and raises the bulletin's latest revision; a revocation's header starts
// the clock of each of its recipients' confirmation (and of the states
// they forwarded the bulletin to, which they relay it to), and, unless it
// only narrows, marks the bulletin revoked. A receipt about a later
// message waits ([ErrNoHeader]) until the first version's header is held.

// messageOf names the message e is about: its kind (KindUnspecified for
// a first version, whatever it is) and revision.
func messageOf(e *Event) (bulletin.Kind, int) {
	r := max(e.Revision, 1)
	switch {
	case e.Kind == EventRevised:
		return bulletin.KindRevision, r
	case e.Kind == EventRevocation || e.Kind == EventRevoked || e.Kind == EventRevocationEscalated:
		return bulletin.KindRevocation, r
	case r > 1:
		return bulletin.KindRevision, r
	}
	return bulletin.KindUnspecified, 1
}

// fits reports whether h is the header of the message e is about.
func fits(h *SignedHeader, e *Event) bool {
	kind, rev := messageOf(e)
	if kind == bulletin.KindUnspecified {
		return !h.laterMessage() && h.revision() == 1
	}
	return h.kind() == kind && h.revision() == rev
}

// heldFor returns the signed header the log holds of the message e is
// about (nil if none), and whether the log holds the first version's
// header, which a later message's receipts wait for.
func heldFor(ctx context.Context, q querier, e *Event) (*SignedHeader, bool, error) {
	first, err := heldHeader(ctx, q, e.Origin, e.BulletinID)
	if err != nil {
		return nil, false, err
	}
	kind, rev := messageOf(e)
	if kind == bulletin.KindUnspecified {
		return first, first != nil, nil
	}
	h, err := heldRevision(ctx, q, e.Origin, e.BulletinID, kind, rev)
	return h, first != nil, err
}

// heldRevision returns the signed header of revision rev's message of
// kind (a revision or a revocation), nil if the log holds none.
func heldRevision(ctx context.Context, q querier, origin, id string, kind bulletin.Kind, rev int) (*SignedHeader, error) {
	h := SignedHeader{Origin: origin, ID: id, Kind: kind, Revision: rev}
	var clock int64
	var expires sql.NullInt64
	var recipients string
	err := q.QueryRowContext(ctx, `SELECT subkind, precedence, clock_at, expires_at, recipients, signer FROM revisions
		WHERE origin = ? AND bulletin_id = ? AND revision = ? AND kind = ?`, origin, id, rev, int64(kind)).
		Scan(&h.Subkind, &h.Precedence, &clock, &expires, &recipients, &h.Signer)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read revision %d header: %w", rev, err)
	}
	h.CreatedAt, h.ExpiresAt, h.Recipients = time.Unix(0, clock).UTC(), fromNanos(expires), splitStates(recipients)
	return &h, nil
}

// storeSigned records h, carried by the receipt at leaf idx: a first
// version's header in its own row, a revision's or a revocation's with
// its effects on the recipients.
func storeSigned(ctx context.Context, q querier, h *SignedHeader, idx uint64) error {
	if !h.laterMessage() {
		return storeHeader(ctx, q, h, idx)
	}
	var expires sql.NullInt64
	if !h.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: h.ExpiresAt.UnixNano(), Valid: true}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO revisions (origin, bulletin_id, revision, kind, subkind, precedence, clock_at,
		expires_at, recipients, signer, header_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (origin, bulletin_id, revision, kind) DO NOTHING`, h.Origin, h.ID, h.revision(), int64(h.kind()),
		h.Subkind, int64(h.Precedence), h.CreatedAt.UnixNano(), expires, joinStates(h.Recipients), h.Signer, int64(idx))
	if err != nil {
		return fmt.Errorf("index %s %d: %w", h.kind(), h.revision(), err)
	}
	if h.kind() == bulletin.KindRevision {
		return storeRevision(ctx, q, h)
	}
	return storeRevocation(ctx, q, h)
}

// storeRevision makes the states a revision releases to recipients and
// raises the bulletin's latest revision.
func storeRevision(ctx context.Context, q querier, h *SignedHeader) error {
	for _, r := range h.Recipients {
		if _, err := q.ExecContext(ctx, `INSERT INTO recipients (origin, bulletin_id, state) VALUES (?, ?, ?)
			ON CONFLICT (origin, bulletin_id, state) DO NOTHING`, h.Origin, h.ID, r); err != nil {
			return fmt.Errorf("index recipient %s: %w", r, err)
		}
	}
	_, err := q.ExecContext(ctx, `UPDATE bulletins SET revision = MAX(revision, ?) WHERE origin = ? AND bulletin_id = ?`,
		h.revision(), h.Origin, h.ID)
	return err
}

// storeRevocation starts the clock of each confirmation the revocation
// h asks for: its recipients', and those of the states they forwarded
// the bulletin to; a revocation of the bulletin itself (not a narrowing)
// marks it revoked.
func storeRevocation(ctx context.Context, q querier, h *SignedHeader) error {
	at := h.CreatedAt.UnixNano()
	for _, r := range h.Recipients {
		if _, err := q.ExecContext(ctx, `INSERT INTO recipients (origin, bulletin_id, state, revocation_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (origin, bulletin_id, state) DO UPDATE SET revocation_at = COALESCE(revocation_at, ?4)`,
			h.Origin, h.ID, r, at); err != nil {
			return fmt.Errorf("index revocation at %s: %w", r, err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE recipients SET revocation_at = COALESCE(revocation_at, ?)
			WHERE origin = ? AND bulletin_id = ? AND forwarded_by = ?`, at, h.Origin, h.ID, r); err != nil {
			return fmt.Errorf("index revocation of the forwards of %s: %w", r, err)
		}
	}
	if h.Subkind != 0 { // narrowing: the bulletin lives on
		return nil
	}
	_, err := q.ExecContext(ctx, `UPDATE bulletins SET revoked_at = COALESCE(revoked_at, ?) WHERE origin = ? AND bulletin_id = ?`,
		at, h.Origin, h.ID)
	return err
}

// indexLifecycle records an accepted lifecycle event (or a delivery of a
// later revision) in the report tables.
func indexLifecycle(ctx context.Context, q querier, e *Event) error {
	at := e.At.UnixNano()
	var err error
	switch e.Kind {
	case EventDelivered:
		_, err = q.ExecContext(ctx, `UPDATE recipients SET revision = MAX(COALESCE(revision, 1), ?)
			WHERE origin = ? AND bulletin_id = ? AND state = ?`, max(e.Revision, 1), e.Origin, e.BulletinID, e.State)
	case EventRevocation:
		_, err = q.ExecContext(ctx, `UPDATE bulletins SET revoked_by = COALESCE(revoked_by, ?)
			WHERE origin = ? AND bulletin_id = ? AND revoked_at IS NOT NULL`, e.Actor, e.Origin, e.BulletinID)
	case EventRevoked:
		_, err = q.ExecContext(ctx, `INSERT INTO recipients (origin, bulletin_id, state, revoked_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (origin, bulletin_id, state) DO UPDATE SET revoked_at = MIN(COALESCE(revoked_at, ?4), ?4)`,
			e.Origin, e.BulletinID, e.State, at)
	case EventRevocationEscalated:
		_, err = q.ExecContext(ctx, `UPDATE recipients SET revocation_escalated_at = COALESCE(revocation_escalated_at, ?)
			WHERE origin = ? AND bulletin_id = ? AND state = ?`, at, e.Origin, e.BulletinID, e.State)
	}
	if err != nil {
		return fmt.Errorf("index %s at %s: %w", e.Kind, e.State, err)
	}
	return nil
}

// thread reads the messages about bulletin (origin, id), created at
// clock, and the replies to those, oldest first.
func thread(ctx context.Context, q querier, origin, id string, clock time.Time) ([]ThreadItem, error) {
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE t (origin, id, clock, depth) AS (
			SELECT ?, ?, ?, 0
			UNION
			SELECT b.origin, b.bulletin_id, b.clock_at, t.depth + 1 FROM bulletins AS b JOIN t
				ON b.ref_origin = t.origin AND b.ref_id = t.id WHERE t.depth < 8
		)
		SELECT b.bulletin_id, b.origin, b.ref_origin, b.ref_id, b.kind, b.subkind, b.clock_at, p.clock
		FROM bulletins AS b JOIN t AS p ON b.ref_origin = p.origin AND b.ref_id = p.id
		ORDER BY b.clock_at, b.origin, b.bulletin_id LIMIT 500`, origin, id, clock.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read thread: %w", err)
	}
	defer rows.Close()
	var out []ThreadItem
	seen := map[[2]string]bool{}
	for rows.Next() {
		var it ThreadItem
		var created, parent int64
		if err := rows.Scan(&it.ID, &it.Origin, &it.Ref.Origin, &it.Ref.ID, &it.Kind, &it.Subkind, &created, &parent); err != nil {
			return nil, fmt.Errorf("read thread item: %w", err)
		}
		if k := [2]string{it.Origin, it.ID}; !seen[k] {
			seen[k] = true
			it.CreatedAt = time.Unix(0, created).UTC()
			it.Latency = it.CreatedAt.Sub(time.Unix(0, parent))
			out = append(out, it)
		}
	}
	return out, rows.Err()
}
