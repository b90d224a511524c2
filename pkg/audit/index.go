package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The report indexes are maintained inside the append transaction, so they
// always describe exactly the committed leaves. A bulletin's row holds
// what its origin signed (the header a receipt carried); each recipient's
// row is created from the signed recipients, or from a forward the
// forwarder signed, and keeps the earliest time reported of each event:
// receipts may arrive out of order, and a repeated read or acknowledgement
// by another person does not move the first one.

// storeHeader records h, carried by the receipt at leaf idx, unless the
// bulletin already has a signed header: its row and one row per recipient.
func storeHeader(ctx context.Context, q querier, h *SignedHeader, idx uint64) error {
	var expires sql.NullInt64
	if !h.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: h.ExpiresAt.UnixNano(), Valid: true}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO bulletins
		(origin, bulletin_id, precedence, clock_at, expires_at, recipients, signer, header_idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
		ON CONFLICT (origin, bulletin_id) DO UPDATE SET precedence = excluded.precedence, clock_at = excluded.clock_at,
			expires_at = excluded.expires_at, recipients = excluded.recipients, signer = excluded.signer,
			header_idx = excluded.header_idx
		WHERE recipients IS NULL`,
		h.Origin, h.ID, int64(h.Precedence), h.CreatedAt.UnixNano(), expires, joinStates(h.Recipients), h.Signer, int64(idx))
	if err != nil {
		return fmt.Errorf("index bulletin: %w", err)
	}
	for _, r := range h.Recipients {
		if _, err := q.ExecContext(ctx, `INSERT INTO recipients (origin, bulletin_id, state) VALUES (?, ?, ?)
			ON CONFLICT (origin, bulletin_id, state) DO NOTHING`, h.Origin, h.ID, r); err != nil {
			return fmt.Errorf("index recipient %s: %w", r, err)
		}
	}
	return nil
}

// heldHeader returns the signed header the log holds of bulletin (origin,
// id), and whether it holds one.
func heldHeader(ctx context.Context, q querier, origin, id string) (*SignedHeader, error) {
	h := SignedHeader{Origin: origin, ID: id}
	var clock int64
	var expires sql.NullInt64
	var recipients, signer sql.NullString
	err := q.QueryRowContext(ctx, `SELECT precedence, clock_at, expires_at, recipients, signer FROM bulletins
		WHERE origin = ? AND bulletin_id = ?`, origin, id).Scan(&h.Precedence, &clock, &expires, &recipients, &signer)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read bulletin header: %w", err)
	case !recipients.Valid:
		return nil, nil // indexed before headers were signed
	}
	h.CreatedAt, h.ExpiresAt = time.Unix(0, clock).UTC(), fromNanos(expires)
	h.Recipients, h.Signer = splitStates(recipients.String), signer.String
	return &h, nil
}

// forwardedBy returns the state whose signed forward made state a holder
// of bulletin (origin, id), or "".
func forwardedBy(ctx context.Context, q querier, origin, id, state string) (string, error) {
	var by sql.NullString
	err := q.QueryRowContext(ctx, `SELECT forwarded_by FROM recipients WHERE origin = ? AND bulletin_id = ? AND state = ?`,
		origin, id, state).Scan(&by)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read forward: %w", err)
	}
	return by.String, nil
}

// storeForward records that f made f.Recipient a holder of its bulletin.
func storeForward(ctx context.Context, q querier, f *SignedForward) error {
	_, err := q.ExecContext(ctx, `INSERT INTO recipients (origin, bulletin_id, state, forwarded_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (origin, bulletin_id, state) DO UPDATE SET forwarded_by = COALESCE(forwarded_by, excluded.forwarded_by)`,
		f.Origin, f.ID, f.Recipient, f.Forwarder)
	if err != nil {
		return fmt.Errorf("index forward to %s: %w", f.Recipient, err)
	}
	return nil
}

// indexForwarded records when f's forwarder forwarded the bulletin, on
// the row of the state forwarded to, if that state holds the bulletin
// through this forwarder's forward (the first forward to reach it).
func indexForwarded(ctx context.Context, q querier, f *SignedForward) error {
	_, err := q.ExecContext(ctx, `UPDATE recipients SET forwarded_at = MIN(COALESCE(forwarded_at, ?1), ?1)
		WHERE origin = ?2 AND bulletin_id = ?3 AND state = ?4 AND forwarded_by = ?5`,
		f.At.UnixNano(), f.Origin, f.ID, f.Recipient, f.Forwarder)
	if err != nil {
		return fmt.Errorf("index forward to %s: %w", f.Recipient, err)
	}
	return nil
}

// recipientColumns names, per event kind, the recipients column holding
// its first time and the column holding who did it (or "").
var recipientColumns = map[EventKind][2]string{
	EventReleased:     {"released_at", ""},
	EventDelivered:    {"delivered_at", ""},
	EventRead:         {"read_at", "read_by"},
	EventAcknowledged: {"acked_at", "acked_by"},
	EventEscalated:    {"escalated_at", ""},
}

// recipientUpserts holds, per kind, the statement that records a
// recipient event; built once from the constant column names above.
var recipientUpserts = func() map[EventKind]string {
	m := map[EventKind]string{}
	for kind, c := range recipientColumns {
		at, by := c[0], c[1]
		if by == "" {
			m[kind] = fmt.Sprintf(`INSERT INTO recipients (origin, bulletin_id, state, %[1]s) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (origin, bulletin_id, state) DO UPDATE SET %[1]s = MIN(COALESCE(%[1]s, excluded.%[1]s), excluded.%[1]s)`, at)
			continue
		}
		// SQLite evaluates every right-hand side on the row before the
		// update, so "by" compares against the old "at".
		m[kind] = fmt.Sprintf(`INSERT INTO recipients (origin, bulletin_id, state, %[1]s, %[2]s) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (origin, bulletin_id, state) DO UPDATE SET
	%[2]s = CASE WHEN %[1]s IS NULL OR excluded.%[1]s < %[1]s THEN excluded.%[2]s ELSE %[2]s END,
	%[1]s = MIN(COALESCE(%[1]s, excluded.%[1]s), excluded.%[1]s)`, at, by)
	}
	return m
}()

// index records an accepted event e in the report tables. Refusals
// describe no delivery and are only logged.
func index(ctx context.Context, q querier, e *Event) error {
	at := e.At.UnixNano()
	if e.Kind == EventPosted {
		_, err := q.ExecContext(ctx, `UPDATE bulletins SET posted_at = MIN(COALESCE(posted_at, ?1), ?1)
			WHERE origin = ?2 AND bulletin_id = ?3`, at, e.Origin, e.BulletinID)
		if err != nil {
			return fmt.Errorf("index posting: %w", err)
		}
		return nil
	}
	q1, ok := recipientUpserts[e.Kind]
	if !ok {
		return nil
	}
	args := []any{e.Origin, e.BulletinID, e.State, at}
	if recipientColumns[e.Kind][1] != "" {
		args = append(args, e.Actor)
	}
	if _, err := q.ExecContext(ctx, q1, args...); err != nil {
		return fmt.Errorf("index recipient %s: %w", e.State, err)
	}
	return nil
}
