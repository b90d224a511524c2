package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// NoDeadline, as a [Deadlines] field, says a precedence has no
// acknowledgement deadline.
const NoDeadline time.Duration = -1

// Default acknowledgement deadlines, counted from posting.
const (
	DefaultFlashDeadline     = 15 * time.Minute
	DefaultImmediateDeadline = time.Hour
	DefaultPriorityDeadline  = 24 * time.Hour
)

// Deadlines are the acknowledgement deadlines by precedence, counted from
// the creation time the bulletin's origin signed. A zero field means the default — FLASH 15m, IMMEDIATE
// 1h, PRIORITY 24h, ROUTINE none — and a negative one ([NoDeadline])
// means none. The zero value is the defaults.
type Deadlines struct {
	Flash, Immediate, Priority, Routine time.Duration
}

// For returns the deadline of precedence p and whether it has one. A
// bulletin whose precedence is unknown has none.
func (d Deadlines) For(p bulletin.Precedence) (time.Duration, bool) {
	var v, def time.Duration
	switch p {
	case bulletin.Flash:
		v, def = d.Flash, DefaultFlashDeadline
	case bulletin.Immediate:
		v, def = d.Immediate, DefaultImmediateDeadline
	case bulletin.Priority:
		v, def = d.Priority, DefaultPriorityDeadline
	case bulletin.Routine:
		v, def = d.Routine, NoDeadline
	default:
		return 0, false
	}
	if v == 0 {
		v = def
	}
	return v, v > 0
}

// OverdueItem is one recipient state that has not acknowledged a bulletin
// by its deadline.
type OverdueItem struct {
	BulletinID string
	Origin     string
	State      string
	Precedence bulletin.Precedence
	// ClockAt is when the deadline started: the signed creation time.
	ClockAt time.Time
	DueAt   time.Time
	// DeliveredAt is zero if the state's node never reported delivery.
	DeliveredAt time.Time
	// EscalatedAt is zero until [Log.Escalations] escalated the pair.
	EscalatedAt time.Time
	// Revocation says that what is overdue is the state's confirmation
	// of a revocation sent to it at ClockAt, not its acknowledgement.
	Revocation bool
}

// Overdue returns every (bulletin, recipient state) pair without an
// acknowledgement whose deadline under d has passed at now, and every
// pair whose confirmation of a revocation is overdue by the bulletin's
// precedence deadline counted from when the revocation was sent, most
// overdue first (then by bulletin and state). A revoked bulletin, or a
// copy withdrawn, is not acknowledged any more; replies and consents
// have no acknowledgement deadline. A state a forward reached counts
// once its delivery is logged: until then the forward is the forwarder's
// word alone (a forwarder that reports a forward it never sent must not
// have the state it names escalated for a bulletin it never held). After
// Close it returns [ErrClosed].
func (l *Log) Overdue(ctx context.Context, now time.Time, d Deadlines) ([]OverdueItem, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, fmt.Errorf("audit: overdue: %w", err)
	}
	defer leave()
	items, err := overdue(ctx, l.pool(), now, d, false)
	if err != nil {
		return nil, fmt.Errorf("audit: overdue: %w", err)
	}
	return items, nil
}

// overdue queries the overdue pairs, per precedence through the index on
// (precedence, clock_at), and only the unacknowledged recipients; then
// the unconfirmed revocations.
func overdue(ctx context.Context, q querier, now time.Time, d Deadlines, unescalatedOnly bool) ([]OverdueItem, error) {
	const query = `SELECT b.bulletin_id, b.origin, b.clock_at, r.state, r.delivered_at, r.escalated_at
		FROM bulletins b JOIN recipients r ON r.origin = b.origin AND r.bulletin_id = b.bulletin_id
		WHERE b.precedence = ? AND b.clock_at <= ? AND r.acked_at IS NULL
		AND b.kind = 1 AND b.revoked_at IS NULL AND r.revocation_at IS NULL
		AND (r.forwarded_by IS NULL OR r.delivered_at IS NOT NULL)`
	const revocations = `SELECT b.bulletin_id, b.origin, r.revocation_at, r.state, r.delivered_at, r.revocation_escalated_at
		FROM recipients r JOIN bulletins b ON r.origin = b.origin AND r.bulletin_id = b.bulletin_id
		WHERE b.precedence = ? AND r.revocation_at <= ? AND r.revoked_at IS NULL
		AND (r.forwarded_by IS NULL OR r.delivered_at IS NOT NULL)`
	var out []OverdueItem
	for _, p := range bulletin.Precedences() {
		deadline, ok := d.For(p)
		if !ok {
			continue
		}
		for i, query := range []string{query, revocations} {
			rows, err := q.QueryContext(ctx, query, int64(p), now.Add(-deadline).UnixNano())
			if err != nil {
				return nil, fmt.Errorf("query %s bulletins: %w", p, err)
			}
			n := len(out)
			if out, err = scanOverdue(rows, out, p, deadline, unescalatedOnly); err != nil {
				return nil, err
			}
			for j := n; j < len(out); j++ {
				out[j].Revocation = i == 1
			}
		}
	}
	slices.SortFunc(out, func(a, b OverdueItem) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.BulletinID, b.BulletinID); c != 0 {
			return c
		}
		if c := strings.Compare(a.State, b.State); c != 0 {
			return c
		}
		return boolCompare(a.Revocation, b.Revocation)
	})
	return out, nil
}

func scanOverdue(rows *sql.Rows, out []OverdueItem, p bulletin.Precedence, deadline time.Duration, unescalatedOnly bool) ([]OverdueItem, error) {
	defer rows.Close()
	for rows.Next() {
		it := OverdueItem{Precedence: p}
		var clock int64
		var delivered, escalated sql.NullInt64
		if err := rows.Scan(&it.BulletinID, &it.Origin, &clock, &it.State, &delivered, &escalated); err != nil {
			return nil, fmt.Errorf("read overdue row: %w", err)
		}
		if unescalatedOnly && escalated.Valid {
			continue
		}
		it.ClockAt = time.Unix(0, clock).UTC()
		it.DueAt = it.ClockAt.Add(deadline)
		it.DeliveredAt, it.EscalatedAt = fromNanos(delivered), fromNanos(escalated)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read overdue rows: %w", err)
	}
	return out, nil
}

// Escalations appends an escalated event, dated now and signed with the
// log's entry signer, for every overdue
// pair (see [Log.Overdue]) not escalated before, and returns the events it
// appended, in Overdue's order. Each (bulletin, state) pair is escalated
// exactly once: later calls, and calls after a restart, skip it, because
// the escalation is itself a logged event. The events have no Actor (the
// log itself) and say the due time in Detail. All are appended in one
// transaction. After Close it returns [ErrClosed].
func (l *Log) Escalations(ctx context.Context, now time.Time, d Deadlines) ([]Event, error) {
	events, err := l.escalations(ctx, now, d)
	if err != nil {
		return nil, fmt.Errorf("audit: escalations: %w", err)
	}
	return events, nil
}

func (l *Log) escalations(ctx context.Context, now time.Time, d Deadlines) ([]Event, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	w, err := l.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(w.tx)
	items, err := overdue(ctx, w.q, now, d, true)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	events := make([]Event, 0, len(items))
	for _, it := range items {
		e := Event{Kind: EventEscalated, BulletinID: it.BulletinID, Origin: it.Origin, State: it.State,
			Precedence: it.Precedence, At: now.UTC(),
			Detail: "acknowledgement was due " + it.DueAt.Format(time.RFC3339Nano)}
		if it.Revocation {
			e.Kind, e.Detail = EventRevocationEscalated, "confirmation of the revocation was due "+it.DueAt.Format(time.RFC3339Nano)
		}
		if err := validateOwn(&e); err != nil {
			return nil, err
		}
		if _, added, err := w.addOwn(ctx, l, &e); err != nil {
			return nil, err
		} else if added {
			events = append(events, e)
		}
	}
	return events, l.commit(w)
}

// boolCompare orders false before true.
func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
