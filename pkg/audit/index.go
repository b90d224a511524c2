package audit

import (
	"context"
	"database/sql"
	"fmt"
)

// The report indexes are maintained inside the append transaction, so they
// always describe exactly the committed leaves. Every time kept is the
// earliest one reported: receipts may arrive out of order, and a repeated
// read or acknowledgement by another person does not move the first one.

const upsertBulletin = `
INSERT INTO bulletins (bulletin_id, origin, precedence, posted_at, first_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (bulletin_id) DO UPDATE SET
	precedence = CASE
		WHEN excluded.posted_at IS NOT NULL AND (posted_at IS NULL OR excluded.posted_at < posted_at) THEN excluded.precedence
		WHEN precedence = 0 THEN excluded.precedence
		ELSE precedence END,
	posted_at = CASE
		WHEN excluded.posted_at IS NOT NULL AND (posted_at IS NULL OR excluded.posted_at < posted_at) THEN excluded.posted_at
		ELSE posted_at END,
	first_at = MIN(first_at, excluded.first_at)`

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
			m[kind] = fmt.Sprintf(`INSERT INTO recipients (bulletin_id, state, %[1]s) VALUES (?1, ?2, ?3)
ON CONFLICT (bulletin_id, state) DO UPDATE SET %[1]s = MIN(COALESCE(%[1]s, excluded.%[1]s), excluded.%[1]s)`, at)
			continue
		}
		// SQLite evaluates every right-hand side on the row before the
		// update, so "by" compares against the old "at".
		m[kind] = fmt.Sprintf(`INSERT INTO recipients (bulletin_id, state, %[1]s, %[2]s) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (bulletin_id, state) DO UPDATE SET
	%[2]s = CASE WHEN %[1]s IS NULL OR excluded.%[1]s < %[1]s THEN excluded.%[2]s ELSE %[2]s END,
	%[1]s = MIN(COALESCE(%[1]s, excluded.%[1]s), excluded.%[1]s)`, at, by)
	}
	return m
}()

// index records e in the report tables.
func index(ctx context.Context, tx querier, e *Event) error {
	at := e.At.UnixNano()
	var posted sql.NullInt64
	if e.Kind == EventPosted {
		posted = sql.NullInt64{Int64: at, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, upsertBulletin, e.BulletinID, e.Origin, int64(e.Precedence), posted, at); err != nil {
		return fmt.Errorf("index bulletin: %w", err)
	}
	q, ok := recipientUpserts[e.Kind]
	if !ok {
		return nil // posted and refused events describe no recipient
	}
	args := []any{e.BulletinID, e.State, at}
	if recipientColumns[e.Kind][1] != "" {
		args = append(args, e.Actor)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("index recipient %s: %w", e.State, err)
	}
	return nil
}
