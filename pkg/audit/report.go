package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// BulletinReport is the delivery status of one bulletin at every state it
// was released or delivered to.
type BulletinReport struct {
	ID         string
	Origin     string
	Precedence bulletin.Precedence // zero if no event carried it yet
	// PostedAt is the posted event's time; zero if it is not logged (yet).
	PostedAt time.Time
	// Recipients are sorted by state code.
	Recipients []RecipientStatus
}

// RecipientStatus is what one recipient state did with a bulletin. Each
// time is the earliest reported and zero when it has not happened.
type RecipientStatus struct {
	State       string
	ReleasedAt  time.Time
	DeliveredAt time.Time
	ReadAt      time.Time
	ReadBy      string // SPIFFE ID of the first reader
	AckedAt     time.Time
	AckedBy     string // SPIFFE ID of the acknowledging focal point
	EscalatedAt time.Time
	// DeliveryLatency and AckLatency run from PostedAt; zero when either
	// end is unknown.
	DeliveryLatency time.Duration
	AckLatency      time.Duration
}

// Report returns the delivery status of the bulletin id, read from the
// report indexes. An unknown bulletin gives a *problem.Error wrapping
// [ErrNotFound]; after Close, [ErrClosed].
func (l *Log) Report(ctx context.Context, id string) (BulletinReport, error) {
	r, err := l.report(ctx, id)
	if err != nil {
		return BulletinReport{}, fmt.Errorf("audit: report on bulletin %s: %w", id, err)
	}
	return r, nil
}

func (l *Log) report(ctx context.Context, id string) (BulletinReport, error) {
	leave, err := l.enter()
	if err != nil {
		return BulletinReport{}, err
	}
	defer leave()
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return BulletinReport{}, fmt.Errorf("begin read: %w", err)
	}
	defer rollback(tx)
	r := BulletinReport{ID: id}
	var posted sql.NullInt64
	err = cachedQuerier{c: l.stmts, tx: tx}.QueryRowContext(ctx, `SELECT origin, precedence, posted_at FROM bulletins WHERE bulletin_id = ?`, id).
		Scan(&r.Origin, &r.Precedence, &posted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return BulletinReport{}, notFound("no audit events for bulletin %s", id)
	case err != nil:
		return BulletinReport{}, fmt.Errorf("read bulletin: %w", err)
	}
	r.PostedAt = fromNanos(posted)
	r.Recipients, err = recipientStatuses(ctx, cachedQuerier{c: l.stmts, tx: tx}, id, r.PostedAt)
	return r, err
}

func recipientStatuses(ctx context.Context, tx querier, id string, posted time.Time) ([]RecipientStatus, error) {
	rows, err := tx.QueryContext(ctx, `SELECT state, released_at, delivered_at, read_at, read_by, acked_at, acked_by, escalated_at
		FROM recipients WHERE bulletin_id = ? ORDER BY state`, id)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	var out []RecipientStatus
	for rows.Next() {
		var s RecipientStatus
		var released, delivered, read, acked, escalated sql.NullInt64
		var readBy, ackedBy sql.NullString
		if err := rows.Scan(&s.State, &released, &delivered, &read, &readBy, &acked, &ackedBy, &escalated); err != nil {
			return nil, fmt.Errorf("read recipient: %w", err)
		}
		s.ReleasedAt, s.DeliveredAt, s.ReadAt = fromNanos(released), fromNanos(delivered), fromNanos(read)
		s.AckedAt, s.EscalatedAt = fromNanos(acked), fromNanos(escalated)
		s.ReadBy, s.AckedBy = readBy.String, ackedBy.String
		s.DeliveryLatency = latency(posted, s.DeliveredAt)
		s.AckLatency = latency(posted, s.AckedAt)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	return out, nil
}

// fromNanos turns a stored time into a UTC time, zero for NULL.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// latency is to - from, or zero when either is unknown.
func latency(from, to time.Time) time.Duration {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return to.Sub(from)
}
