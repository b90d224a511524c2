package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// buckets returns a histogram over audit.LatencyBounds with count n at
// each index given.
func buckets(at ...int) []int {
	b := make([]int, len(audit.LatencyBounds())+1)
	for _, i := range at {
		b[i]++
	}
	return b
}

func TestLatencyBounds(t *testing.T) {
	s := time.Second
	want := []time.Duration{s, 5 * s, 15 * s, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}
	if diff := cmp.Diff(want, audit.LatencyBounds()); diff != "" {
		t.Errorf("LatencyBounds() (-want +got):\n%s", diff)
	}
	audit.LatencyBounds()[0] = 0
	if audit.LatencyBounds()[0] != s {
		t.Error("LatencyBounds() returns the package's own slice")
	}
}

// TestStatsByPrecedence logs bulletins of known precedences with known
// delivery and acknowledgement times and checks each state's histograms,
// percentiles and overdue counts per precedence.
func TestStatsByPrecedence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, m := time.Second, time.Minute
	// FLASH A: BR delivered at exactly 1 s (bucket 0, bounds are
	// inclusive), acknowledged at 20 min (bucket 6), after the 15 min
	// deadline; AR delivered at 3 s (bucket 1), never acknowledged.
	f.post("01JDISTA", bulletin.Flash, t0, "AR", "BR")
	f.accept(delivered("01JDISTA", "BR", t0.Add(s)), nil)
	f.accept(acked("01JDISTA", "BR", "maria", t0.Add(20*m)), nil)
	f.accept(delivered("01JDISTA", "AR", t0.Add(3*s)), nil)
	// FLASH B: BR delivered at 40 s (bucket 3), acknowledged at 5 min
	// (bucket 4), in time.
	tb := t0.Add(m)
	f.post("01JDISTB", bulletin.Flash, tb, "BR")
	f.accept(delivered("01JDISTB", "BR", tb.Add(40*s)), nil)
	f.accept(acked("01JDISTB", "BR", "maria", tb.Add(5*m)), nil)
	// ROUTINE C: BR delivered after 25 h (the last bucket), never
	// acknowledged: ROUTINE has no deadline, so not overdue.
	tc := t0.Add(2 * m)
	f.post("01JDISTC", bulletin.Routine, tc, "BR")
	f.accept(delivered("01JDISTC", "BR", tc.Add(25*time.Hour)), nil)

	now := t0.Add(time.Hour) // FLASH A at AR is overdue by then
	got, err := f.lg.StatsOf(ctx, audit.StatsQuery{From: t0, To: t0.Add(10 * m), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	none := audit.Distribution{Buckets: buckets()}
	want := []audit.StateStats{
		{State: "AR", Released: 1, Received: 1, DeliveryP50: 3 * s, DeliveryP95: 3 * s, ByPrecedence: []audit.PrecedenceStats{
			{Precedence: bulletin.Flash, Released: 1, Overdue: 1,
				Delivery: audit.Distribution{Count: 1, Buckets: buckets(1), P50: 3 * s, P95: 3 * s},
				Ack:      audit.Distribution{Buckets: buckets(), Never: 1}},
			{Precedence: bulletin.Immediate, Delivery: none, Ack: none},
			{Precedence: bulletin.Priority, Delivery: none, Ack: none},
			{Precedence: bulletin.Routine, Delivery: none, Ack: none},
		}},
		{State: "BR", Released: 3, Received: 3, Acknowledged: 2, DeliveryP50: 40 * s, DeliveryP95: 25 * time.Hour,
			AckP50: 5 * m, AckP95: 20 * m, ByPrecedence: []audit.PrecedenceStats{
				{Precedence: bulletin.Flash, Released: 2, Overdue: 1,
					Delivery: audit.Distribution{Count: 2, Buckets: buckets(0, 3), P50: s, P95: 40 * s},
					Ack:      audit.Distribution{Count: 2, Buckets: buckets(4, 6), P50: 5 * m, P95: 20 * m}},
				{Precedence: bulletin.Immediate, Delivery: none, Ack: none},
				{Precedence: bulletin.Priority, Delivery: none, Ack: none},
				{Precedence: bulletin.Routine, Released: 1,
					Delivery: audit.Distribution{Count: 1, Buckets: buckets(9), P50: 25 * time.Hour, P95: 25 * time.Hour},
					Ack:      audit.Distribution{Buckets: buckets(), Never: 1}},
			}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StatsOf (-want +got):\n%s", diff)
	}

	// Only ROUTINE: AR has none and is left out; BR's totals are its
	// ROUTINE bulletin's.
	got, err = f.lg.StatsOf(ctx, audit.StatsQuery{From: t0, To: t0.Add(10 * m), Now: now, Precedences: []bulletin.Precedence{bulletin.Routine}})
	if err != nil {
		t.Fatal(err)
	}
	want = []audit.StateStats{{State: "BR", Released: 1, Received: 1, DeliveryP50: 25 * time.Hour, DeliveryP95: 25 * time.Hour,
		ByPrecedence: want[1].ByPrecedence[3:]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StatsOf(ROUTINE) (-want +got):\n%s", diff)
	}

	// Before the deadline passed, the unacknowledged FLASH at AR is not
	// overdue yet.
	got, err = f.lg.StatsOf(ctx, audit.StatsQuery{From: t0, To: t0.Add(10 * m), Now: t0.Add(10 * m)})
	if err != nil {
		t.Fatal(err)
	}
	if o := got[0].ByPrecedence[0].Overdue; got[0].State != "AR" || o != 0 {
		t.Errorf("StatsOf(now before the deadline): AR FLASH overdue = %d, want 0", o)
	}
}

func TestStatsOfRefusesABadQuery(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		q    audit.StatsQuery
	}{
		{"empty range", audit.StatsQuery{From: t0, To: t0}},
		{"unspecified precedence", audit.StatsQuery{From: t0, To: t0.Add(time.Hour), Precedences: []bulletin.Precedence{bulletin.PrecedenceUnspecified}}},
		{"unknown precedence", audit.StatsQuery{From: t0, To: t0.Add(time.Hour), Precedences: []bulletin.Precedence{9}}},
		{"repeated precedence", audit.StatsQuery{From: t0, To: t0.Add(time.Hour), Precedences: []bulletin.Precedence{bulletin.Flash, bulletin.Flash}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.lg.StatsOf(context.Background(), tt.q); !errors.Is(err, audit.ErrBadStatsQuery) {
				t.Errorf("StatsOf(%+v) = %v, want ErrBadStatsQuery", tt.q, err)
			}
		})
	}
}
