package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// TestReportDeliveredReadAcked follows one bulletin: posted, delivered at
// three states, read at two, acknowledged at one.
func TestReportDeliveredReadAcked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const id = "01JREPORT"
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	rel := at(10 * time.Millisecond)
	h := header(id, bulletin.Immediate, t0, "AR", "BR", "CA")
	f.accept(posted(id, bulletin.Immediate, t0), h)
	for _, s := range h.Recipients {
		f.accept(released(id, s, rel), nil)
	}
	for _, e := range []audit.Event{
		delivered(id, "AR", at(2*time.Second)), delivered(id, "BR", at(3*time.Second)), delivered(id, "CA", at(4*time.Second)),
		read(id, "AR", "luis", at(time.Minute)), read(id, "BR", "joao", at(2*time.Minute)),
		acked(id, "BR", "maria", at(7*time.Minute)),
		// Later and repeated reports do not move the first ones.
		read(id, "AR", "eva", at(9*time.Minute)),
	} {
		f.accept(e, nil)
	}
	got, err := f.lg.Report(ctx, "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	want := audit.BulletinReport{ID: id, Origin: "MX", Precedence: bulletin.Immediate, CreatedAt: t0, PostedAt: t0,
		Kind: bulletin.KindBulletin, Revision: 1,
		Recipients: []audit.RecipientStatus{
			{State: "AR", ReleasedAt: rel, DeliveredAt: at(2 * time.Second), ReadAt: at(time.Minute),
				ReadBy: person("AR", "analyst", "luis"), DeliveryLatency: 2 * time.Second, Revision: 1},
			{State: "BR", ReleasedAt: rel, DeliveredAt: at(3 * time.Second), ReadAt: at(2 * time.Minute),
				ReadBy: person("BR", "analyst", "joao"), AckedAt: at(7 * time.Minute), AckedBy: person("BR", "focal-point", "maria"),
				DeliveryLatency: 3 * time.Second, AckLatency: 7 * time.Minute, Revision: 1},
			{State: "CA", ReleasedAt: rel, DeliveredAt: at(4 * time.Second), DeliveryLatency: 4 * time.Second, Revision: 1},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Report (-want +got):\n%s", diff)
	}
	if o, err := f.lg.Origins(ctx, id); err != nil || !cmp.Equal(o, []string{"MX"}) {
		t.Errorf("Origins(%s) = %v, %v, want [MX]", id, o, err)
	}
	if r, err := f.lg.Report(ctx, "", id); err != nil || r.Origin != "MX" {
		t.Errorf("Report(no origin, %s) = %v, %v; want MX's (the only one)", id, r.Origin, err)
	}
}

// TestReportWaitsForTheSignedHeader checks that receipts arriving before
// the bulletin's signed header are not logged (they are offered again),
// that a delivery carrying the header attestation of its copy brings it,
// and that an earlier read reported late still counts first.
func TestReportWaitsForTheSignedHeader(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const id = "01JLATE"
	h := header(id, bulletin.Flash, t0, "BR")
	early := f.submit(f.submission(read(id, "BR", "late", t0.Add(5*time.Minute)), nil, nil))[0]
	if !errors.Is(early.Err, audit.ErrNoHeader) || f.lg.Size() != 0 {
		t.Fatalf("Submit(read before any header) = %v, size %d; want ErrNoHeader, nothing logged", early.Err, f.lg.Size())
	}
	f.accept(delivered(id, "BR", t0.Add(time.Minute)), h) // the copy's attestation
	f.accept(read(id, "BR", "late", t0.Add(5*time.Minute)), nil)
	f.accept(read(id, "BR", "early", t0.Add(2*time.Minute)), nil)
	f.accept(posted(id, bulletin.Flash, t0), h)
	got, err := f.lg.Report(ctx, "MX", id)
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
	for _, origin := range []string{"MX", ""} {
		_, err := lg.Report(context.Background(), origin, "01JNONE")
		if !errors.Is(err, audit.ErrNotFound) || problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("Report(%q, unknown) = %v, want ErrNotFound of kind not_found", origin, err)
		}
	}
}

// TestReportKeyedByOrigin has two states use one bulletin id: each keeps
// its own report, and a query without origin must name one.
func TestReportKeyedByOrigin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const id = "01JSHARED"
	f.post(id, bulletin.Flash, t0, "BR")
	us := &audit.SignedHeader{Origin: "US", ID: id, Signer: node("US"), Precedence: bulletin.Routine, CreatedAt: t0.Add(time.Hour),
		Recipients: []string{"BR", "CA"}}
	f.accept(audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: "US", Actor: person("US", "focal-point", "bo"),
		Precedence: bulletin.Routine, At: us.CreatedAt}, us)
	f.accept(delivered(id, "BR", t0.Add(time.Second)), nil)
	usRead := read(id, "BR", "joao", us.CreatedAt.Add(time.Minute))
	usRead.Origin = "US"
	f.accept(usRead, nil)

	_, err := f.lg.Report(ctx, "", id)
	var p *problem.Error
	if !errors.Is(err, audit.ErrAmbiguous) || !errors.As(err, &p) || p.Field != "origin" || !strings.Contains(p.Msg, "MX, US") {
		t.Errorf("Report(no origin) = %v, want an invalid origin naming MX, US", err)
	}
	mx, err := f.lg.Report(ctx, "MX", id)
	if err != nil || mx.Precedence != bulletin.Flash || len(mx.Recipients) != 1 || mx.Recipients[0].ReadBy != "" ||
		mx.Recipients[0].DeliveredAt.IsZero() {
		t.Errorf("Report(MX) = %+v, %v; want FLASH to BR, delivered, unread", mx, err)
	}
	usr, err := f.lg.Report(ctx, "US", id)
	if err != nil || usr.Precedence != bulletin.Routine || len(usr.Recipients) != 2 || usr.Recipients[0].ReadBy != usRead.Actor ||
		!usr.Recipients[0].DeliveredAt.IsZero() {
		t.Errorf("Report(US) = %+v, %v; want ROUTINE to BR and CA, read at BR, not delivered", usr, err)
	}
}

func TestOverdueAndEscalationsOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lg := f.lg
	// FLASH, due at +15m: BR acknowledges in time, AR late, CA never.
	f.post("01JFLASH", bulletin.Flash, t0, "AR", "BR", "CA")
	f.accept(delivered("01JFLASH", "AR", t0.Add(time.Minute)), nil)
	f.accept(delivered("01JFLASH", "BR", t0.Add(time.Minute)), nil)
	f.accept(acked("01JFLASH", "BR", "maria", t0.Add(10*time.Minute)), nil)
	// IMMEDIATE, due at +1h.
	f.post("01JIMMED", bulletin.Immediate, t0, "US")
	f.accept(delivered("01JIMMED", "US", t0.Add(time.Minute)), nil)
	// ROUTINE: no deadline.
	f.post("01JROUTI", bulletin.Routine, t0, "US")
	f.accept(delivered("01JROUTI", "US", t0.Add(time.Minute)), nil)
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
	f.accept(acked("01JFLASH", "AR", "luis", at(20)), nil)
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
	r, _ := lg.Report(ctx, "MX", "01JFLASH")
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
	f := newFixture(t)
	f.post("01JB", bulletin.Flash, t0, "BR")
	f.accept(delivered("01JB", "BR", t0), nil)
	if esc, err := f.lg.Escalations(ctx, t0.Add(time.Hour), audit.Deadlines{}); err != nil || len(esc) != 1 {
		t.Fatalf("Escalations = %v, %v, want one", esc, err)
	}
	f.lg.Close()
	lg, _ := f.open(f.path)
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
	f := newFixture(t)
	// Ten bulletins posted a minute apart; BR receives bulletin i after
	// i+1 seconds and acknowledges the even ones after 10*(i+1) seconds;
	// AR receives only the first four, after 30 seconds.
	for i := range 10 {
		id := "01JSTAT" + string(rune('A'+i))
		posts := t0.Add(time.Duration(i) * time.Minute)
		f.post(id, bulletin.Priority, posts, "AR", "BR")
		f.accept(delivered(id, "BR", posts.Add(time.Duration(i+1)*time.Second)), nil)
		if i%2 == 0 {
			f.accept(acked(id, "BR", "maria", posts.Add(time.Duration(10*(i+1))*time.Second)), nil)
		}
		if i < 4 {
			f.accept(delivered(id, "AR", posts.Add(30*time.Second)), nil)
		}
	}
	// One bulletin outside the range.
	f.post("01JSTATOUT", bulletin.Flash, t0.Add(time.Hour), "BR")
	f.accept(delivered("01JSTATOUT", "BR", t0.Add(2*time.Hour)), nil)

	got, err := f.lg.Stats(ctx, t0, t0.Add(10*time.Minute))
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
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(audit.StateStats{}, "ByPrecedence")); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got, _ := f.lg.Stats(ctx, t0.Add(-time.Hour), t0); len(got) != 0 {
		t.Errorf("Stats(empty range) = %+v, want none", got)
	}
}
