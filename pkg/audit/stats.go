package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

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
}

// Stats returns per-state statistics, sorted by state, over the bulletins
// whose signed creation time falls in [from, to). Percentiles
// use the nearest-rank method: the p-th percentile of n sorted samples is
// the ceil(p*n/100)-th. After Close it returns [ErrClosed].
func (l *Log) Stats(ctx context.Context, from, to time.Time) ([]StateStats, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, fmt.Errorf("audit: stats: %w", err)
	}
	defer leave()
	out, err := stats(ctx, l.pool(), from, to)
	if err != nil {
		return nil, fmt.Errorf("audit: stats: %w", err)
	}
	return out, nil
}

// samples collects one state's latencies.
type samples struct {
	released       int
	delivery, ackd []time.Duration
}

func stats(ctx context.Context, q querier, from, to time.Time) ([]StateStats, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.state, b.clock_at, r.delivered_at, r.acked_at
		FROM bulletins b JOIN recipients r ON r.origin = b.origin AND r.bulletin_id = b.bulletin_id
		WHERE b.clock_at >= ? AND b.clock_at < ? AND (r.forwarded_by IS NULL OR r.delivered_at IS NOT NULL)`,
		from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	by := map[string]*samples{}
	for rows.Next() {
		var state string
		var clock int64
		var delivered, acked sql.NullInt64
		if err := rows.Scan(&state, &clock, &delivered, &acked); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		s := by[state]
		if s == nil {
			s = &samples{}
			by[state] = s
		}
		s.released++
		if delivered.Valid {
			s.delivery = append(s.delivery, time.Duration(delivered.Int64-clock))
		}
		if acked.Valid {
			s.ackd = append(s.ackd, time.Duration(acked.Int64-clock))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	out := make([]StateStats, 0, len(by))
	for state, s := range by {
		out = append(out, StateStats{
			State: state, Released: s.released, Received: len(s.delivery), Acknowledged: len(s.ackd),
			DeliveryP50: percentile(s.delivery, 50), DeliveryP95: percentile(s.delivery, 95),
			AckP50: percentile(s.ackd, 50), AckP95: percentile(s.ackd, 95),
		})
	}
	slices.SortFunc(out, func(a, b StateStats) int { return strings.Compare(a.State, b.State) })
	return out, nil
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
