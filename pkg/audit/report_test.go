package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

func appendAll(tb testing.TB, lg *audit.Log, events ...audit.Event) {
	tb.Helper()
	for _, e := range events {
		if _, err := lg.Append(context.Background(), e); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestReportDeliveredReadAcked follows one bulletin: posted, delivered at
// three states, read at two, acknowledged at one.
func TestReportDeliveredReadAcked(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	const id = "01JREPORT"
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	appendAll(t, lg,
		posted(id, bulletin.Immediate, t0),
		released(id, "AR", at(10*time.Millisecond)), released(id, "BR", at(10*time.Millisecond)),
		released(id, "CA", at(10*time.Millisecond)),
		delivered(id, "AR", at(2*time.Second)), delivered(id, "BR", at(3*time.Second)), delivered(id, "CA", at(4*time.Second)),
		read(id, "AR", "luis", at(time.Minute)), read(id, "BR", "joao", at(2*time.Minute)),
		acked(id, "BR", "maria", at(7*time.Minute)),
		// Later and repeated reports do not move the first ones.
		read(id, "AR", "eva", at(9*time.Minute)), delivered(id, "AR", at(10*time.Minute)),
	)
	got, err := lg.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rel := at(10 * time.Millisecond)
	want := audit.BulletinReport{ID: id, Origin: "MX", Precedence: bulletin.Immediate, PostedAt: t0,
		Recipients: []audit.RecipientStatus{
			{State: "AR", ReleasedAt: rel, DeliveredAt: at(2 * time.Second), ReadAt: at(time.Minute),
				ReadBy: person("AR", "analyst", "luis"), DeliveryLatency: 2 * time.Second},
			{State: "BR", ReleasedAt: rel, DeliveredAt: at(3 * time.Second), ReadAt: at(2 * time.Minute),
				ReadBy: person("BR", "analyst", "joao"), AckedAt: at(7 * time.Minute), AckedBy: person("BR", "focal-point", "maria"),
				DeliveryLatency: 3 * time.Second, AckLatency: 7 * time.Minute},
			{State: "CA", ReleasedAt: rel, DeliveredAt: at(4 * time.Second), DeliveryLatency: 4 * time.Second},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Report (-want +got):\n%s", diff)
	}
	for _, r := range got.Recipients {
		times := []time.Time{got.PostedAt, r.ReleasedAt, r.DeliveredAt, r.ReadAt, r.AckedAt}
		for i := 1; i < len(times); i++ {
			if !times[i].IsZero() && times[i].Before(times[i-1]) {
				t.Errorf("%s: times out of order: %v", r.State, times)
			}
		}
	}
}

// TestReportOutOfOrder checks that receipts arriving before the posted
// event, and an earlier read reported late, give the same report.
func TestReportOutOfOrder(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	const id = "01JLATE"
	appendAll(t, lg,
		read(id, "BR", "late", t0.Add(5*time.Minute)),
		delivered(id, "BR", t0.Add(time.Minute)),
		read(id, "BR", "early", t0.Add(2*time.Minute)),
		posted(id, bulletin.Flash, t0),
	)
	got, err := lg.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r := got.Recipients[0]
	if got.Precedence != bulletin.Flash || !got.PostedAt.Equal(t0) || r.ReadBy != person("BR", "analyst", "early") ||
		!r.ReadAt.Equal(t0.Add(2*time.Minute)) || r.DeliveryLatency != time.Minute {
		t.Errorf("Report = %+v, want FLASH posted at t0, first read by early at +2m, delivery latency 1m", got)
	}
}

func TestReportUnknownBulletin(t *testing.T) {
	lg, _, _ := openLog(t)
	_, err := lg.Report(context.Background(), "01JNONE")
	if !errors.Is(err, audit.ErrNotFound) || problem.KindOf(err) != problem.KindNotFound {
		t.Errorf("Report(unknown) = %v, want ErrNotFound of kind not_found", err)
	}
}

func TestOverdueAndEscalationsOnce(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	appendAll(t, lg,
		// FLASH, due at +15m: BR acknowledges in time, AR late, CA never.
		posted("01JFLASH", bulletin.Flash, t0),
		delivered("01JFLASH", "AR", t0.Add(time.Minute)), delivered("01JFLASH", "BR", t0.Add(time.Minute)),
		released("01JFLASH", "CA", t0),
		acked("01JFLASH", "BR", "maria", t0.Add(10*time.Minute)),
		// IMMEDIATE, due at +1h.
		posted("01JIMMED", bulletin.Immediate, t0), delivered("01JIMMED", "US", t0.Add(time.Minute)),
		// ROUTINE: no deadline.
		posted("01JROUTI", bulletin.Routine, t0), delivered("01JROUTI", "US", t0.Add(time.Minute)),
	)
	var d audit.Deadlines
	pairs := func(items []audit.OverdueItem) [][2]string {
		var out [][2]string
		for _, it := range items {
			out = append(out, [2]string{it.BulletinID, it.State})
		}
		return out
	}
	at := func(m time.Duration) time.Time { return t0.Add(m * time.Minute) }

	if items, err := lg.Overdue(ctx, at(14), d); err != nil || len(items) != 0 {
		t.Errorf("Overdue(+14m) = %v, %v, want none", pairs(items), err)
	}
	items, err := lg.Overdue(ctx, at(15), d)
	if want := [][2]string{{"01JFLASH", "AR"}, {"01JFLASH", "CA"}}; err != nil || !cmp.Equal(pairs(items), want) {
		t.Errorf("Overdue(+15m) = %v, %v, want %v", pairs(items), err, want)
	}
	if len(items) > 0 && (!items[0].DueAt.Equal(at(15)) || !items[0].DeliveredAt.Equal(at(1))) {
		t.Errorf("Overdue(+15m)[0] = %+v, want due +15m, delivered +1m", items[0])
	}

	esc, err := lg.Escalations(ctx, at(16), d)
	if err != nil || len(esc) != 2 || esc[0].State != "AR" || esc[1].State != "CA" || esc[0].Kind != audit.EventEscalated {
		t.Fatalf("Escalations(+16m) = %+v, %v, want AR and CA", esc, err)
	}
	size := lg.Size()
	if esc, err := lg.Escalations(ctx, at(17), d); err != nil || len(esc) != 0 || lg.Size() != size {
		t.Errorf("Escalations(+17m) again = %+v, %v, size %d→%d; want none, nothing appended", esc, err, size, lg.Size())
	}
	// AR acknowledges late: still logged, no longer overdue.
	appendAll(t, lg, acked("01JFLASH", "AR", "luis", at(20)))
	esc, err = lg.Escalations(ctx, at(61), d)
	if err != nil || len(esc) != 1 || esc[0].BulletinID != "01JIMMED" || esc[0].State != "US" {
		t.Errorf("Escalations(+61m) = %+v, %v, want only 01JIMMED at US", esc, err)
	}
	items, _ = lg.Overdue(ctx, at(24*60), d)
	if want := [][2]string{{"01JFLASH", "CA"}, {"01JIMMED", "US"}}; !cmp.Equal(pairs(items), want) {
		t.Errorf("Overdue(+1d) = %v, want %v (routine never)", pairs(items), want)
	}
	for _, it := range items {
		if it.EscalatedAt.IsZero() {
			t.Errorf("Overdue: %s at %s not marked escalated", it.BulletinID, it.State)
		}
	}
	r, _ := lg.Report(ctx, "01JFLASH")
	if !r.Recipients[0].EscalatedAt.Equal(at(16)) {
		t.Errorf("Report: AR escalated at %v, want %v", r.Recipients[0].EscalatedAt, at(16))
	}
	// Custom deadlines: a ROUTINE deadline, FLASH switched off.
	items, _ = lg.Overdue(ctx, at(24*60), audit.Deadlines{Flash: audit.NoDeadline, Routine: time.Hour})
	if want := [][2]string{{"01JIMMED", "US"}, {"01JROUTI", "US"}}; !cmp.Equal(pairs(items), want) {
		t.Errorf("Overdue(custom deadlines) = %v, want %v", pairs(items), want)
	}
}

func TestEscalationsOnceAcrossRestart(t *testing.T) {
	ctx := context.Background()
	s, _ := testKey(t, testOrigin, 1)
	path := t.TempDir() + "/audit.db"
	lg, err := audit.OpenLog(ctx, path, s, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, lg, posted("01JB", bulletin.Flash, t0), delivered("01JB", "BR", t0))
	if esc, err := lg.Escalations(ctx, t0.Add(time.Hour), audit.Deadlines{}); err != nil || len(esc) != 1 {
		t.Fatalf("Escalations = %v, %v, want one", esc, err)
	}
	lg.Close()
	lg, err = audit.OpenLog(ctx, path, s, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if esc, err := lg.Escalations(ctx, t0.Add(2*time.Hour), audit.Deadlines{}); err != nil || len(esc) != 0 {
		t.Errorf("Escalations after restart = %v, %v, want none", esc, err)
	}
}

func TestDeadlinesFor(t *testing.T) {
	tests := []struct {
		d    audit.Deadlines
		p    bulletin.Precedence
		want time.Duration
		ok   bool
	}{
		{audit.Deadlines{}, bulletin.Flash, 15 * time.Minute, true},
		{audit.Deadlines{}, bulletin.Immediate, time.Hour, true},
		{audit.Deadlines{}, bulletin.Priority, 24 * time.Hour, true},
		{audit.Deadlines{}, bulletin.Routine, 0, false},
		{audit.Deadlines{}, bulletin.PrecedenceUnspecified, 0, false},
		{audit.Deadlines{Flash: 5 * time.Minute}, bulletin.Flash, 5 * time.Minute, true},
		{audit.Deadlines{Priority: audit.NoDeadline}, bulletin.Priority, 0, false},
		{audit.Deadlines{Routine: 72 * time.Hour}, bulletin.Routine, 72 * time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := tt.d.For(tt.p)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%+v.For(%v) = %v, %v, want %v, %v", tt.d, tt.p, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	// Ten bulletins posted a minute apart; BR receives bulletin i after
	// i+1 seconds and acknowledges the even ones after 10*(i+1) seconds;
	// AR receives only the first four, after 30 seconds.
	for i := range 10 {
		id := "01JSTAT" + string(rune('A'+i))
		posts := t0.Add(time.Duration(i) * time.Minute)
		appendAll(t, lg, posted(id, bulletin.Priority, posts), delivered(id, "BR", posts.Add(time.Duration(i+1)*time.Second)))
		if i%2 == 0 {
			appendAll(t, lg, acked(id, "BR", "maria", posts.Add(time.Duration(10*(i+1))*time.Second)))
		}
		if i < 4 {
			appendAll(t, lg, delivered(id, "AR", posts.Add(30*time.Second)))
		} else {
			appendAll(t, lg, released(id, "AR", posts))
		}
	}
	// One bulletin outside the range.
	appendAll(t, lg, posted("01JSTATOUT", bulletin.Flash, t0.Add(time.Hour)), delivered("01JSTATOUT", "BR", t0.Add(2*time.Hour)))

	got, err := lg.Stats(ctx, t0, t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	want := []audit.StateStats{
		{State: "AR", Released: 10, Received: 4, DeliveryP50: 30 * s, DeliveryP95: 30 * s},
		// Delivery samples 1..10 s: p50 = 5th = 5 s, p95 = 10th = 10 s.
		// Ack samples 10, 30, 50, 70, 90 s: p50 = 3rd = 50 s, p95 = 5th = 90 s.
		{State: "BR", Released: 10, Received: 10, Acknowledged: 5, DeliveryP50: 5 * s, DeliveryP95: 10 * s, AckP50: 50 * s, AckP95: 90 * s},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got, _ := lg.Stats(ctx, t0.Add(-time.Hour), t0); len(got) != 0 {
		t.Errorf("Stats(empty range) = %+v, want none", got)
	}
}
