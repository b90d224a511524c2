package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

var t0 = time.Date(2026, 11, 3, 14, 0, 0, 123456789, time.UTC)

// openStore opens a store in a fresh directory and closes it at cleanup.
func openStore(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "node.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, path
}

// sample returns a complete bulletin with every field set.
func sample(id string) bulletin.Bulletin {
	return bulletin.Bulletin{
		ID:            id,
		Origin:        "MX",
		Author:        "spiffe://iant.oas.org/state/mx/focal/ana",
		CreatedAt:     t0,
		ExpiresAt:     t0.Add(72 * time.Hour),
		Precedence:    bulletin.Immediate,
		Category:      bulletin.ArmsTrafficking,
		Grading:       bulletin.Grading{Reliability: 2, Credibility: 3},
		Language:      bulletin.Spanish,
		Marking:       bulletin.Amber,
		Releasability: bulletin.Releasability{States: []string{"US"}, Regions: []region.Region{region.CentralAmerica}},
		Caveats:       []bulletin.Caveat{bulletin.LawEnforcementOnly, bulletin.NoOnwardSharing},
		Conditions:    `context.recipient.region == "central-america"`,
		Title:         "Tránsito de MANPADS",
		Body:          "Se reporta el tránsito de sistemas portátiles por la frontera sur.",
		Indicators: []bulletin.Indicator{{
			Type: bulletin.IndicatorVehicle, Value: "ABC-1234", Description: "camión blanco",
			Attributes: map[string]string{"make": "Kenworth", "color": "white"},
		}},
		Revises:    "01JREVISED",
		Supersedes: "01JSUPERSEDED",
		Recipients: []string{"BZ", "CR", "GT", "HN", "NI", "PA", "SV", "US"},
	}
}

func put(tb testing.TB, st *store.Store, b bulletin.Bulletin, dir store.Direction) store.Record {
	tb.Helper()
	rec, inserted, err := st.Put(context.Background(), b, dir, t0.Add(time.Minute))
	if err != nil || !inserted {
		tb.Fatalf("Put(%s) = _, %v, %v, want inserted", b.ID, inserted, err)
	}
	return rec
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JROUNDTRIP")
	cst := time.FixedZone("CST", -6*3600)
	b.CreatedAt = t0.In(cst)
	at := time.Now().In(cst) // with a monotonic reading and a zone
	rec, inserted, err := st.Put(ctx, b, store.Received, at)
	if err != nil || !inserted {
		t.Fatalf("Put = _, %v, %v, want inserted", inserted, err)
	}
	got, err := st.Get(ctx, "", b.ID)
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("Get differs from Put's record (-put +get):\n%s", diff)
	}
	if diff := cmp.Diff(b, got.Bulletin); diff != "" {
		t.Errorf("Get bulletin (-want +got):\n%s", diff)
	}
	switch {
	case got.Cursor == 0:
		t.Errorf("Cursor = 0, want > 0")
	case got.Direction != store.Received:
		t.Errorf("Direction = %v, want received", got.Direction)
	case !got.ReceivedAt.Equal(at) || got.ReceivedAt.Location() != time.UTC:
		t.Errorf("ReceivedAt = %v, want %v in UTC", got.ReceivedAt, at)
	case got.Bulletin.CreatedAt.Location() != time.UTC:
		t.Errorf("CreatedAt = %v, want UTC", got.Bulletin.CreatedAt)
	case !got.AckedAt.IsZero() || got.AckedBy != "":
		t.Errorf("Ack = %v by %q, want none", got.AckedAt, got.AckedBy)
	}
}

func TestPutIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JIDEMPOTENT")
	first := put(t, st, b, store.Sent)
	// Same content, the same instants in another zone, another direction and time.
	again := b
	again.CreatedAt = b.CreatedAt.In(time.FixedZone("X", 3600))
	rec, inserted, err := st.Put(ctx, again, store.Received, t0.Add(time.Hour))
	if err != nil || inserted {
		t.Fatalf("second Put = _, %v, %v, want not inserted, nil", inserted, err)
	}
	if diff := cmp.Diff(first, rec); diff != "" {
		t.Errorf("second Put record (-first +second):\n%s", diff)
	}
	if last, _ := st.LastCursor(ctx); last != first.Cursor {
		t.Errorf("LastCursor = %d, want %d (nothing new stored)", last, first.Cursor)
	}
}

func TestPutConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JCONFLICT")
	first := put(t, st, b, store.Received)
	changed := b
	changed.Body = "otro texto"
	_, inserted, err := st.Put(ctx, changed, store.Received, t0)
	if !errors.Is(err, store.ErrConflict) || problem.KindOf(err) != problem.KindConflict || inserted {
		t.Fatalf("Put(changed) = _, %v, %v, want ErrConflict of kind conflict", inserted, err)
	}
	got, err := st.Get(ctx, "", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("record changed by a conflicting Put (-want +got):\n%s", diff)
	}
}

func TestPutInvalid(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	tests := []struct {
		name  string
		edit  func(*bulletin.Bulletin)
		dir   store.Direction
		at    time.Time
		field string
	}{
		{"no id", func(b *bulletin.Bulletin) { b.ID = "" }, store.Sent, t0, "id"},
		{"bad direction", func(*bulletin.Bulletin) {}, 3, t0, "direction"},
		{"no create time", func(b *bulletin.Bulletin) { b.CreatedAt = time.Time{} }, store.Sent, t0, "create_time"},
		{"create time out of range", func(b *bulletin.Bulletin) { b.CreatedAt = t0.AddDate(500, 0, 0) }, store.Sent, t0, "create_time"},
		{"expire time out of range", func(b *bulletin.Bulletin) { b.ExpiresAt = t0.AddDate(500, 0, 0) }, store.Sent, t0, "expire_time"},
		{"no receive time", func(*bulletin.Bulletin) {}, store.Sent, time.Time{}, "receive_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sample("01JINVALID")
			tt.edit(&b)
			_, _, err := st.Put(context.Background(), b, tt.dir, tt.at)
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != tt.field {
				t.Errorf("Put = %v, want kind invalid on field %q", err, tt.field)
			}
		})
	}
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	_, err := st.Get(context.Background(), "", "01JUNKNOWN")
	if !errors.Is(err, store.ErrNotFound) || problem.KindOf(err) != problem.KindNotFound {
		t.Errorf("Get(unknown) = %v, want ErrNotFound of kind not_found", err)
	}
}

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JACK")
	put(t, st, b, store.Received)
	by := "spiffe://iant.oas.org/state/us/focal/bob"
	at := t0.Add(2 * time.Hour).In(time.FixedZone("EST", -5*3600))
	rec, first, err := st.Acknowledge(ctx, b.Origin, b.ID, by, at)
	if err != nil || !first {
		t.Fatalf("Acknowledge = _, %v, %v, want first", first, err)
	}
	if !rec.AckedAt.Equal(at) || rec.AckedBy != by {
		t.Errorf("Acknowledge record ack = %v by %q, want %v by %q", rec.AckedAt, rec.AckedBy, at, by)
	}
	again, first, err := st.Acknowledge(ctx, b.Origin, b.ID, "spiffe://iant.oas.org/state/us/focal/eve", at.Add(time.Hour))
	if err != nil || first {
		t.Fatalf("second Acknowledge = _, %v, %v, want not first", first, err)
	}
	got, err := st.Get(ctx, "", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Record{again, got} {
		if diff := cmp.Diff(rec, r); diff != "" {
			t.Errorf("record after second ack (-first ack +got):\n%s", diff)
		}
	}
	if _, _, err := st.Acknowledge(ctx, "US", "01JUNKNOWN", by, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Acknowledge(unknown) = %v, want ErrNotFound", err)
	}
	if _, _, err := st.Acknowledge(ctx, b.Origin, b.ID, "", at); problem.KindOf(err) != problem.KindInvalid {
		t.Errorf("Acknowledge(by \"\") = %v, want kind invalid", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	put(t, st, sample("01JCLOSED"), store.Sent)
	if err := st.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	calls := map[string]func() error{
		"Put":         func() error { _, _, err := st.Put(ctx, sample("01JNEW"), store.Sent, t0); return err },
		"Get":         func() error { _, err := st.Get(ctx, "", "01JCLOSED"); return err },
		"List":        func() error { _, err := st.List(ctx, store.Filter{}); return err },
		"Search":      func() error { _, err := st.Search(ctx, "manpads", store.Filter{}); return err },
		"Acknowledge": func() error { _, _, err := st.Acknowledge(ctx, "US", "01JCLOSED", "x", t0); return err },
		"LastCursor":  func() error { _, err := st.LastCursor(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrClosed) || problem.KindOf(err) != problem.KindUnavailable {
			t.Errorf("%s after Close = %v, want ErrClosed of kind unavailable", name, err)
		}
	}
}

func TestCursorSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := openStore(t)
	var last uint64
	for i := range 3 {
		last = put(t, st, sample(fmt.Sprintf("01JREOPEN%d", i)), store.Received).Cursor
	}
	// Delete the newest row behind the store's back: AUTOINCREMENT must not
	// hand its cursor out again.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM bulletins WHERE cursor = ?`, int64(last)); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	st2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st2.Close()
	if got, err := st2.LastCursor(ctx); err != nil || got != last-1 {
		t.Errorf("LastCursor after reopen = %d, %v, want %d", got, err, last-1)
	}
	if _, err := st2.Get(ctx, "", "01JREOPEN0"); err != nil {
		t.Errorf("Get after reopen = %v", err)
	}
	if rec := put(t, st2, sample("01JREOPENNEW"), store.Received); rec.Cursor <= last {
		t.Errorf("cursor after reopen = %d, want > %d", rec.Cursor, last)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	st, path := openStore(t)
	st.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if st, err := store.Open(context.Background(), path); err == nil {
		st.Close()
		t.Errorf("Open(schema version 99) = nil error, want refusal")
	}
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	const writers, each = 4, 25
	cursors := make([][]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rec, _, err := st.Put(ctx, sample(fmt.Sprintf("01JW%dI%02d", w, i)), store.Received, t0)
				if err != nil {
					t.Errorf("Put = %v", err)
					return
				}
				cursors[w] = append(cursors[w], rec.Cursor)
				if _, _, err := st.Acknowledge(ctx, rec.Bulletin.Origin, rec.Bulletin.ID, "by", t0); err != nil {
					t.Errorf("Acknowledge = %v", err)
				}
			}
		})
	}
	wg.Go(func() { // a reader alongside
		for range 20 {
			if _, err := st.List(ctx, store.Filter{Descending: true}); err != nil {
				t.Errorf("List = %v", err)
			}
		}
	})
	wg.Wait()
	seen := map[uint64]bool{}
	for w, cs := range cursors {
		for i, c := range cs {
			if seen[c] {
				t.Errorf("cursor %d handed out twice", c)
			}
			seen[c] = true
			if i > 0 && c <= cs[i-1] {
				t.Errorf("writer %d: cursor %d after %d, want increasing", w, c, cs[i-1])
			}
		}
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct cursors, want %d", len(seen), writers*each)
	}
}

func TestDirectionString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    store.Direction
		want string
	}{{store.Sent, "sent"}, {store.Received, "received"}, {0, "direction(0)"}, {7, "direction(7)"}}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Direction(%d).String() = %q, want %q", int(tt.d), got, tt.want)
		}
	}
}

func TestReceiveTimesGrowWithTheCursor(t *testing.T) {
	st, _ := openStore(t)
	ats := []time.Time{t0.Add(time.Hour), t0, t0, t0.Add(2 * time.Hour)}
	var prev store.Record
	for i, at := range ats {
		rec, _, err := st.Put(context.Background(), sample(fmt.Sprintf("01J%023d", i)), store.Received, at)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && (rec.Cursor <= prev.Cursor || !rec.ReceivedAt.After(prev.ReceivedAt)) {
			t.Errorf("Put at %v: cursor %d received %v after cursor %d received %v; want both to grow",
				at, rec.Cursor, rec.ReceivedAt, prev.Cursor, prev.ReceivedAt)
		}
		if !at.After(prev.ReceivedAt) && !rec.ReceivedAt.Equal(prev.ReceivedAt.Add(time.Nanosecond)) {
			t.Errorf("Put at %v after %v stored %v, want 1 ns after the last", at, prev.ReceivedAt, rec.ReceivedAt)
		}
		got, err := st.Get(context.Background(), "", rec.Bulletin.ID)
		if err != nil || !got.ReceivedAt.Equal(rec.ReceivedAt) {
			t.Errorf("Get = %v, %v; want received %v", got.ReceivedAt, err, rec.ReceivedAt)
		}
		prev = rec
	}
	if want := t0.Add(2 * time.Hour); !prev.ReceivedAt.Equal(want) {
		t.Errorf("a later time is kept: got %v, want %v", prev.ReceivedAt, want)
	}
}
