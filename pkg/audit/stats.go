package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// latencyBounds are the upper bounds of the latency histograms' buckets;
// a last bucket, without bound, holds what is longer.
var latencyBounds = []time.Duration{
	time.Second, 5 * time.Second, 15 * time.Second, time.Minute, 5 * time.Minute,
	15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour,
}

// LatencyBounds returns the upper bounds of the buckets of every
// [Distribution]: 1s, 5s, 15s, 1m, 5m, 15m, 1h, 4h, 24h. Bucket i holds
// the samples d with bounds[i-1] < d <= bounds[i] (bucket 0 everything up
// to 1s, a time before the creation a clock skew allows included); a last
// bucket, len(bounds), holds what is longer than 24h. The bounds are
// part of the wire answer (AuditService.GetStats): they change only with
// a new field. The slice is a copy.
func LatencyBounds() []time.Duration { return slices.Clone(latencyBounds) }

// Distribution is one latency's samples: their count, their histogram
// over [LatencyBounds] and nearest-rank percentiles.
type Distribution struct {
	// Count is the number of samples.
	Count int
	// Buckets has len(LatencyBounds())+1 counts that sum to Count.
	Buckets []int
	// P50 and P95 are nearest-rank percentiles; zero without samples.
	P50, P95 time.Duration
	// Never counts the recipients released the bulletin without a
	// sample yet (not delivered, or not acknowledged).
	Never int
}

// PrecedenceStats is one state's share of the bulletins of one
// precedence.
type PrecedenceStats struct {
	Precedence bulletin.Precedence
	// Released is as in [StateStats], for this precedence.
	Released int
	// Delivery is from the signed creation to the delivery its node
	// reported; Ack to a focal point's acknowledgement.
	Delivery, Ack Distribution
	// Overdue counts the acknowledgements that came after the
	// precedence's deadline, and those that have not come when the
	// deadline passed before [StatsQuery.Now] (a revoked bulletin or a
	// withdrawn copy is not acknowledged any more, as in [Log.Overdue]).
	// Always zero for a precedence without a deadline.
	Overdue int
}

// StateStats summarizes, for one recipient state, the bulletins created in
// a time range: how many it received and how fast it received and
// acknowledged them, counted from the creation time the origin signed.
type StateStats struct {
	State string
	// Released counts the bulletins released to the state, and those
	// forwarded to it that it received (a forward is the forwarder's word
	// alone until then: see [Log.Overdue]).
	Released int
	// Received counts those its node reported delivered.
	Received int
	// Acknowledged counts those a focal point acknowledged.
	Acknowledged int
	// Delivery and acknowledgement latency percentiles (nearest rank);
	// zero when there is no sample.
	DeliveryP50, DeliveryP95 time.Duration
	AckP50, AckP95           time.Duration
	// ByPrecedence splits the above by precedence: one entry for each
	// precedence the query asked for (all four, most urgent first, by
	// default), those without bulletins included.
	ByPrecedence []PrecedenceStats
}

// StatsQuery selects the bulletins [Log.StatsOf] summarizes.
type StatsQuery struct {
	// From and To bound the signed creation times: [From, To). To must
	// be after From.
	From, To time.Time
	// Precedences restricts the statistics to bulletins of these
	// precedences, each valid and named once; empty means all four.
	Precedences []bulletin.Precedence
	// Now is when an acknowledgement not come is overdue from; zero
	// means To.
	Now time.Time
	// Deadlines give the precedences' deadlines for Overdue; the zero
	// value is the defaults.
	Deadlines Deadlines
}

// ErrBadStatsQuery is returned by [Log.StatsOf] for a query it cannot
// answer: an empty range, or an invalid or repeated precedence.
var ErrBadStatsQuery = errors.New("bad statistics query")

// Stats is [Log.StatsOf] over [from, to), every precedence, with the
// default deadlines counted to to.
func (l *Log) Stats(ctx context.Context, from, to time.Time) ([]StateStats, error) {
	return l.StatsOf(ctx, StatsQuery{From: from, To: to})
}

// StatsOf returns per-state statistics, sorted by state, over the
// bulletins whose signed creation time falls in [q.From, q.To) and whose
// precedence q selects; a state appears when one of those was released to
// it. Percentiles use the nearest-rank method: the p-th percentile of n
// sorted samples is the ceil(p*n/100)-th. It returns an error wrapping
// [ErrBadStatsQuery] for a bad query, and after Close [ErrClosed].
func (l *Log) StatsOf(ctx context.Context, q StatsQuery) ([]StateStats, error) {
	if err := q.check(); err != nil {
		return nil, fmt.Errorf("audit: stats: %w", err)
	}
	leave, err := l.enter()
	if err != nil {
		return nil, fmt.Errorf("audit: stats: %w", err)
	}
	defer leave()
	out, err := stats(ctx, l.pool(), q)
	if err != nil {
		return nil, fmt.Errorf("audit: stats: %w", err)
	}
	return out, nil
}

func (q StatsQuery) check() error {
	if !q.To.After(q.From) {
		return fmt.Errorf("%w: end %s is not after start %s", ErrBadStatsQuery, q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	for i, p := range q.Precedences {
		switch {
		case !p.Valid():
			return fmt.Errorf("%w: precedence %d is not valid", ErrBadStatsQuery, int(p))
		case slices.Contains(q.Precedences[:i], p):
			return fmt.Errorf("%w: precedence %s named twice", ErrBadStatsQuery, p)
		}
	}
	return nil
}

// samples collects one state's (or one state and precedence's) latencies.
type samples struct {
	released, overdue int
	delivery, ackd    []time.Duration
}

func (s *samples) add(clock int64, delivered, acked sql.NullInt64) {
	s.released++
	if delivered.Valid {
		s.delivery = append(s.delivery, time.Duration(delivered.Int64-clock))
	}
	if acked.Valid {
		s.ackd = append(s.ackd, time.Duration(acked.Int64-clock))
	}
}

// row is one (bulletin, recipient state) pair of the query.
type row struct {
	state                   string
	precedence, kind, clock int64
	delivered, acked        sql.NullInt64
	revoked, revocationSent sql.NullInt64
}

func stats(ctx context.Context, q querier, sq StatsQuery) ([]StateStats, error) {
	precs := sq.Precedences
	if len(precs) == 0 {
		precs = bulletin.Precedences()
	}
	now := sq.Now
	if now.IsZero() {
		now = sq.To
	}
	rows, err := q.QueryContext(ctx, `SELECT r.state, b.precedence, b.kind, b.clock_at, r.delivered_at, r.acked_at,
		b.revoked_at, r.revocation_at
		FROM bulletins b JOIN recipients r ON r.origin = b.origin AND r.bulletin_id = b.bulletin_id
		WHERE b.clock_at >= ? AND b.clock_at < ? AND (r.forwarded_by IS NULL OR r.delivered_at IS NOT NULL)`,
		sq.From.UnixNano(), sq.To.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	all := map[string]*samples{}
	by := map[string]map[bulletin.Precedence]*samples{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.state, &r.precedence, &r.kind, &r.clock, &r.delivered, &r.acked, &r.revoked, &r.revocationSent); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		p := bulletin.Precedence(r.precedence)
		if !slices.Contains(precs, p) {
			continue
		}
		if all[r.state] == nil {
			all[r.state], by[r.state] = &samples{}, map[bulletin.Precedence]*samples{}
		}
		s := by[r.state][p]
		if s == nil {
			s = &samples{}
			by[r.state][p] = s
		}
		all[r.state].add(r.clock, r.delivered, r.acked)
		s.add(r.clock, r.delivered, r.acked)
		if late(r, sq.Deadlines, now) {
			s.overdue++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	out := make([]StateStats, 0, len(all))
	for state, s := range all {
		st := StateStats{
			State: state, Released: s.released, Received: len(s.delivery), Acknowledged: len(s.ackd),
			DeliveryP50: percentile(s.delivery, 50), DeliveryP95: percentile(s.delivery, 95),
			AckP50: percentile(s.ackd, 50), AckP95: percentile(s.ackd, 95),
		}
		for _, p := range precs {
			ps := by[state][p]
			if ps == nil {
				ps = &samples{}
			}
			st.ByPrecedence = append(st.ByPrecedence, PrecedenceStats{Precedence: p, Released: ps.released,
				Delivery: distribution(ps.delivery, ps.released), Ack: distribution(ps.ackd, ps.released), Overdue: ps.overdue})
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b StateStats) int { return strings.Compare(a.State, b.State) })
	return out, nil
}

// late reports whether a pair's acknowledgement came after its deadline,
// or has not come and the deadline passed before now. Only bulletins
// (not replies or consents) not revoked have one, as in [Log.Overdue].
func late(r row, d Deadlines, now time.Time) bool {
	deadline, ok := d.For(bulletin.Precedence(r.precedence))
	if !ok || r.kind != int64(bulletin.KindBulletin) {
		return false
	}
	due := r.clock + int64(deadline)
	if r.acked.Valid {
		return r.acked.Int64 > due
	}
	return !r.revoked.Valid && !r.revocationSent.Valid && now.UnixNano() > due
}

// distribution makes the histogram and percentiles of xs, samples of
// released pairs.
func distribution(xs []time.Duration, released int) Distribution {
	d := Distribution{Count: len(xs), Buckets: make([]int, len(latencyBounds)+1), Never: released - len(xs)}
	for _, x := range xs {
		i, _ := slices.BinarySearch(latencyBounds, x) // first bound >= x
		d.Buckets[i]++
	}
	d.P50, d.P95 = percentile(xs, 50), percentile(xs, 95)
	return d
}

// percentile returns the nearest-rank p-th percentile of xs (0 < p <= 100),
// sorting xs in place; zero for no samples.
func percentile(xs []time.Duration, p int) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	rank := (p*len(xs) + 99) / 100 // ceil(p*n/100)
	return xs[max(rank, 1)-1]
}
