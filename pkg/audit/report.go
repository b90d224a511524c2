package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// BulletinReport is the delivery status of one bulletin at every state it
// was released or forwarded to.
type BulletinReport struct {
	ID     string
	Origin string
	// Precedence is the signed precedence; zero for a bulletin logged
	// before headers were signed whose events carried none.
	Precedence bulletin.Precedence
	// CreatedAt is the creation time the origin signed: the deadline and
	// the latencies run from it.
	CreatedAt time.Time
	// PostedAt is the posted event's time; zero if it is not logged (yet).
	PostedAt time.Time
	// Recipients are sorted by state code.
	Recipients []RecipientStatus

	// Kind is what the message is (a bulletin, a reply, a consent), as
	// signed; Ref the bulletin a reply or a consent is about; Subkind a
	// reply's kind or a consent's decision.
	Kind    bulletin.Kind
	Ref     bulletin.Ref
	Subkind int
	// Revision is the latest revision its origin signed (1 for none).
	Revision int
	// RevokedAt is the signed time of its revocation (zero: not revoked);
	// RevokedBy the focal point who revoked it.
	RevokedAt time.Time
	RevokedBy string
	// Thread lists the replies and consents about it, and the replies to
	// those, oldest first: that they happened and when, not their content.
	Thread []ThreadItem
}

// ThreadItem is a message about a bulletin: a reply or a consent, as its
// sender signed its header.
type ThreadItem struct {
	// ID and Origin name the message; Ref is the message it answers.
	ID, Origin string
	Ref        bulletin.Ref
	// Kind is reply, consent request or consent decision; Subkind the
	// reply's kind or the decision.
	Kind    bulletin.Kind
	Subkind int
	// CreatedAt is when its sender signed it; Latency how long after the
	// message it answers was created.
	CreatedAt time.Time
	Latency   time.Duration
}

// RecipientStatus is what one recipient state did with a bulletin. Each
// time is the earliest reported and zero when it has not happened.
type RecipientStatus struct {
	State string
	// ForwardedBy is the state whose signed forward made State a holder;
	// empty for the states the origin released the bulletin to.
	ForwardedBy string
	// ForwardedAt is when ForwardedBy forwarded it, as the forwarder
	// reported (its "forwarded" event); zero until it has.
	ForwardedAt time.Time
	ReleasedAt  time.Time
	DeliveredAt time.Time
	ReadAt      time.Time
	ReadBy      string // SPIFFE ID of the first reader
	AckedAt     time.Time
	AckedBy     string // SPIFFE ID of the acknowledging focal point
	EscalatedAt time.Time
	// DeliveryLatency and AckLatency run from CreatedAt; zero when either
	// end is unknown.
	DeliveryLatency time.Duration
	AckLatency      time.Duration
	// Revision is the latest revision the state reported delivered.
	Revision int
	// RevocationAt is when a revocation was sent to the state (its
	// origin's signed time), RevokedAt when the state confirmed it removed
	// the content, RevocationEscalatedAt when the missing confirmation was
	// escalated; zero when not.
	RevocationAt          time.Time
	RevokedAt             time.Time
	RevocationEscalatedAt time.Time
}

// Report returns the delivery status of the bulletin id of origin, read
// from the report indexes. With origin "" it is the one bulletin of that
// id, whatever its origin; when several origins used the id, the error is
// a *problem.Error of kind Invalid (field "origin") wrapping
// [ErrAmbiguous] that names them. An unknown bulletin gives a
// *problem.Error wrapping [ErrNotFound]; after Close, [ErrClosed].
func (l *Log) Report(ctx context.Context, origin, id string) (BulletinReport, error) {
	r, err := l.report(ctx, origin, id)
	if err != nil {
		return BulletinReport{}, fmt.Errorf("audit: report on bulletin %s: %w", id, err)
	}
	return r, nil
}

func (l *Log) report(ctx context.Context, origin, id string) (BulletinReport, error) {
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
	q := cachedQuerier{c: l.stmts, tx: tx}
	if origin, err = resolveOrigin(ctx, q, origin, id); err != nil {
		return BulletinReport{}, err
	}
	return readReport(ctx, q, origin, id)
}

// readReport reads the report of bulletin (origin, id), which the log
// knows, from the report indexes through q.
func readReport(ctx context.Context, q querier, origin, id string) (BulletinReport, error) {
	r := BulletinReport{ID: id, Origin: origin}
	var clock int64
	var posted, revoked sql.NullInt64
	var refOrigin, refID, revokedBy sql.NullString
	err := q.QueryRowContext(ctx, `SELECT precedence, clock_at, posted_at, kind, subkind, ref_origin, ref_id, revision,
		revoked_at, revoked_by FROM bulletins WHERE origin = ? AND bulletin_id = ?`, origin, id).Scan(&r.Precedence, &clock,
		&posted, &r.Kind, &r.Subkind, &refOrigin, &refID, &r.Revision, &revoked, &revokedBy)
	if err != nil {
		return BulletinReport{}, fmt.Errorf("read bulletin: %w", err)
	}
	r.CreatedAt, r.PostedAt = time.Unix(0, clock).UTC(), fromNanos(posted)
	r.Ref = bulletin.Ref{Origin: refOrigin.String, ID: refID.String}
	r.RevokedAt, r.RevokedBy = fromNanos(revoked), revokedBy.String
	if r.Recipients, err = recipientStatuses(ctx, q, origin, id, r.CreatedAt); err != nil {
		return BulletinReport{}, err
	}
	if r.Thread, err = thread(ctx, q, origin, id, r.CreatedAt); err != nil {
		return BulletinReport{}, err
	}
	return r, nil
}

// Origins returns the origins of the bulletins of id the log knows,
// sorted: none, one, or — when several states used one id — several.
// After Close it returns [ErrClosed].
func (l *Log) Origins(ctx context.Context, id string) ([]string, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, fmt.Errorf("audit: origins of %s: %w", id, err)
	}
	defer leave()
	out, err := origins(ctx, l.pool(), id)
	if err != nil {
		return nil, fmt.Errorf("audit: origins of %s: %w", id, err)
	}
	return out, nil
}

func origins(ctx context.Context, q querier, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT origin FROM bulletins WHERE bulletin_id = ? ORDER BY origin`, id)
	if err != nil {
		return nil, fmt.Errorf("read origins: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("read origin: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// resolveOrigin returns origin if the log knows bulletin (origin, id), or,
// for origin "", the one origin of id.
func resolveOrigin(ctx context.Context, q querier, origin, id string) (string, error) {
	all, err := origins(ctx, q, id)
	if err != nil {
		return "", err
	}
	switch {
	case origin != "" && slices.Contains(all, origin):
		return origin, nil
	case origin != "" || len(all) == 0:
		if origin == "" {
			return "", notFound("no audit events for bulletin %s", id)
		}
		return "", notFound("no audit events for bulletin %s of %s", id, origin)
	case len(all) > 1:
		p := problem.Invalid("origin", "bulletin id %s was used by %s: give the origin", id, strings.Join(all, ", "))
		p.Err = ErrAmbiguous
		return "", p
	}
	return all[0], nil
}

// Header returns the signed header the log holds of bulletin (origin, id),
// and whether it holds one. After Close it returns [ErrClosed].
func (l *Log) Header(ctx context.Context, origin, id string) (SignedHeader, bool, error) {
	leave, err := l.enter()
	if err != nil {
		return SignedHeader{}, false, fmt.Errorf("audit: header of %s/%s: %w", origin, id, err)
	}
	defer leave()
	h, err := heldHeader(ctx, l.pool(), origin, id)
	if err != nil || h == nil {
		return SignedHeader{}, false, err
	}
	return *h, true, nil
}

func recipientStatuses(ctx context.Context, tx querier, origin, id string, clock time.Time) ([]RecipientStatus, error) {
	rows, err := tx.QueryContext(ctx, `SELECT state, forwarded_by, forwarded_at, released_at, delivered_at, read_at, read_by, acked_at,
		acked_by, escalated_at, COALESCE(revision, 0), revocation_at, revoked_at, revocation_escalated_at
		FROM recipients WHERE origin = ? AND bulletin_id = ? ORDER BY state`, origin, id)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	var out []RecipientStatus
	for rows.Next() {
		var s RecipientStatus
		var forwarded, released, delivered, read, acked, escalated, revocation, revoked, revEscalated sql.NullInt64
		var fwd, readBy, ackedBy sql.NullString
		if err := rows.Scan(&s.State, &fwd, &forwarded, &released, &delivered, &read, &readBy, &acked, &ackedBy, &escalated,
			&s.Revision, &revocation, &revoked, &revEscalated); err != nil {
			return nil, fmt.Errorf("read recipient: %w", err)
		}
		s.ForwardedAt = fromNanos(forwarded)
		s.RevocationAt, s.RevokedAt, s.RevocationEscalatedAt = fromNanos(revocation), fromNanos(revoked), fromNanos(revEscalated)
		s.ReleasedAt, s.DeliveredAt, s.ReadAt = fromNanos(released), fromNanos(delivered), fromNanos(read)
		s.AckedAt, s.EscalatedAt = fromNanos(acked), fromNanos(escalated)
		s.ForwardedBy, s.ReadBy, s.AckedBy = fwd.String, readBy.String, ackedBy.String
		s.DeliveryLatency = latency(clock, s.DeliveredAt)
		s.AckLatency = latency(clock, s.AckedAt)
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
