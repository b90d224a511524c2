package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// corpus stores six bulletins a..f, cursors 1..6, created an hour apart.
func corpus(t testing.TB) (*store.Store, []store.Record) {
	t.Helper()
	st, _ := openStore(t)
	rows := []struct {
		origin string
		cat    bulletin.Category
		prec   bulletin.Precedence
		mark   bulletin.Marking
	}{
		{"MX", bulletin.ArmsTrafficking, bulletin.Immediate, bulletin.Amber},   // a: north america
		{"PA", bulletin.CBRN, bulletin.Flash, bulletin.Red},                    // b: central america
		{"JM", bulletin.ArmsTrafficking, bulletin.Routine, bulletin.Green},     // c: caribbean
		{"BR", bulletin.TerrorismFinancing, bulletin.Priority, bulletin.Clear}, // d: south america
		{"US", bulletin.CBRN, bulletin.Flash, bulletin.AmberStrict},            // e: north america
		{"XX", bulletin.CategoryOther, bulletin.Routine, bulletin.Amber},       // f: no region
	}
	var recs []store.Record
	for i, r := range rows {
		b := sample(string(rune('a' + i)))
		b.Origin, b.Category, b.Precedence, b.Marking = r.origin, r.cat, r.prec, r.mark
		b.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
		recs = append(recs, put(t, st, b, store.Received))
	}
	return st, recs
}

func ids(recs []store.Record) string {
	s := ""
	for _, r := range recs {
		s += r.Bulletin.ID
	}
	return s
}

func TestFilter(t *testing.T) {
	t.Parallel()
	st, all := corpus(t)
	if got := ids(all); got != "abcdef" {
		t.Fatalf("corpus = %q", got)
	}
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name string
		f    store.Filter
		want string
	}{
		{"empty", store.Filter{}, "abcdef"},
		{"origins", store.Filter{Origins: []string{"MX", "BR"}}, "ad"},
		{"origin absent", store.Filter{Origins: []string{"CA"}}, ""},
		{"regions", store.Filter{Regions: []region.Region{region.NorthAmerica}}, "ae"},
		{"two regions", store.Filter{Regions: []region.Region{region.Caribbean, region.SouthAmerica}}, "cd"},
		{"unknown origin region", store.Filter{Regions: []region.Region{region.Unspecified}}, "f"},
		{"categories", store.Filter{Categories: []bulletin.Category{bulletin.CBRN}}, "be"},
		{"precedences", store.Filter{Precedences: []bulletin.Precedence{bulletin.Flash, bulletin.Routine}}, "bcef"},
		{"markings", store.Filter{Markings: []bulletin.Marking{bulletin.Amber}}, "af"},
		{"since inclusive", store.Filter{Since: hour(2)}, "cdef"},
		{"since other zone", store.Filter{Since: hour(2).In(time.FixedZone("X", -4*3600))}, "cdef"},
		{"since one ns later", store.Filter{Since: hour(2).Add(time.Nanosecond)}, "def"},
		{"until exclusive", store.Filter{Until: hour(2)}, "ab"},
		{"since and until", store.Filter{Since: hour(1), Until: hour(3)}, "bc"},
		{"after cursor", store.Filter{AfterCursor: all[2].Cursor}, "def"},
		{"after the newest cursor", store.Filter{AfterCursor: all[5].Cursor}, ""},
		{"before cursor", store.Filter{BeforeCursor: all[2].Cursor}, "ab"},
		{"before max cursor", store.Filter{BeforeCursor: math.MaxUint64}, "abcdef"},
		{"cursor window", store.Filter{AfterCursor: all[0].Cursor, BeforeCursor: all[3].Cursor}, "bc"},
		{"combined", store.Filter{Regions: []region.Region{region.NorthAmerica}, Categories: []bulletin.Category{bulletin.CBRN}}, "e"},
		{"combined none", store.Filter{Origins: []string{"MX"}, Markings: []bulletin.Marking{bulletin.Red}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := st.List(context.Background(), tt.f)
			if err != nil {
				t.Fatalf("List = %v", err)
			}
			if got := ids(recs); got != tt.want {
				t.Errorf("List(%+v) = %q, want %q", tt.f, got, tt.want)
			}
			var matched []store.Record
			for _, r := range all {
				if tt.f.Match(r) {
					matched = append(matched, r)
				}
			}
			if got := ids(matched); got != tt.want {
				t.Errorf("Match(%+v) keeps %q, want %q", tt.f, got, tt.want)
			}
		})
	}
}

func TestListOrderAndLimit(t *testing.T) {
	t.Parallel()
	st, _ := corpus(t)
	ctx := context.Background()
	tests := []struct {
		f    store.Filter
		want string
	}{
		{store.Filter{Descending: true}, "fedcba"},
		{store.Filter{Descending: true, Limit: 2}, "fe"},
		{store.Filter{Limit: 2}, "ab"},
		{store.Filter{Limit: 1, Categories: []bulletin.Category{bulletin.CBRN}, Descending: true}, "e"},
		{store.Filter{Limit: 5000}, "abcdef"},
	}
	for _, tt := range tests {
		recs, err := st.List(ctx, tt.f)
		if got := ids(recs); err != nil || got != tt.want {
			t.Errorf("List(%+v) = %q, %v, want %q", tt.f, got, err, tt.want)
		}
	}
}

func TestListInvalidFilter(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	tests := []struct {
		f     store.Filter
		field string
	}{
		{store.Filter{Limit: -1}, "limit"},
		{store.Filter{Since: t0.AddDate(1000, 0, 0)}, "since"},
		{store.Filter{Until: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, "until"},
		{store.Filter{Origins: repeat("MX", 100_000)}, "filter.origins"},
		{store.Filter{Origins: repeat("MX", store.MaxFilterValues+1)}, "filter.origins"},
		{store.Filter{Regions: repeat(region.Caribbean, store.MaxFilterValues+1)}, "filter.regions"},
		{store.Filter{Categories: repeat(bulletin.CBRN, store.MaxFilterValues+1)}, "filter.categories"},
		{store.Filter{Precedences: repeat(bulletin.Flash, store.MaxFilterValues+1)}, "filter.precedences"},
		{store.Filter{Markings: repeat(bulletin.Red, store.MaxFilterValues+1)}, "filter.markings"},
	}
	for _, tt := range tests {
		_, err := st.List(context.Background(), tt.f)
		var p *problem.Error
		if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != tt.field {
			t.Errorf("List(%+v) = %v, want kind invalid on field %q", tt.f, err, tt.field)
		}
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestListAcceptsMaxFilterValues(t *testing.T) {
	t.Parallel()
	st, _ := corpus(t)
	recs, err := st.List(context.Background(), store.Filter{Origins: repeat("JM", store.MaxFilterValues)})
	if got := ids(recs); err != nil || got != "c" {
		t.Errorf("List(%d origins JM) = %q, %v, want \"c\"", store.MaxFilterValues, got, err)
	}
}

// TestListCursorAhead: a resume cursor beyond the newest issued is refused,
// also by a store that was deleted and started again (fewer cursors than a
// subscriber remembers); a cursor at the newest, or behind it with nothing
// newer matching, is an empty list.
func TestListCursorAhead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, all := corpus(t)
	newest := all[len(all)-1].Cursor
	tests := []struct {
		name    string
		f       store.Filter
		wantErr bool
	}{
		{"at the newest", store.Filter{AfterCursor: newest}, false},
		{"behind, nothing newer matches", store.Filter{AfterCursor: 2, Origins: []string{"MX"}}, false},
		{"one beyond", store.Filter{AfterCursor: newest + 1}, true},
		{"far beyond", store.Filter{AfterCursor: math.MaxUint64}, true},
		{"beyond with a filter", store.Filter{AfterCursor: newest + 10, Origins: []string{"MX"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := st.List(ctx, tt.f)
			if !tt.wantErr {
				if err != nil || len(recs) != 0 {
					t.Errorf("List(%+v) = %d records, %v, want none and no error", tt.f, len(recs), err)
				}
				return
			}
			var p *problem.Error
			if !errors.Is(err, store.ErrCursorAhead) || !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != "after_cursor" {
				t.Errorf("List(%+v) = %v, want ErrCursorAhead, kind invalid, field after_cursor", tt.f, err)
			}
		})
	}

	fresh, _ := openStore(t)
	put(t, fresh, sample("a"), store.Received)
	if _, err := fresh.List(ctx, store.Filter{AfterCursor: newest}); !errors.Is(err, store.ErrCursorAhead) {
		t.Errorf("List(after %d) of a new store holding one bulletin = %v, want ErrCursorAhead", newest, err)
	}
	empty, _ := openStore(t)
	if _, err := empty.List(ctx, store.Filter{AfterCursor: 1}); !errors.Is(err, store.ErrCursorAhead) {
		t.Errorf("List(after 1) of an empty store = %v, want ErrCursorAhead", err)
	}
}

func TestListDefaultLimit(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	for i := range store.DefaultLimit + 1 {
		put(t, st, sample(fmt.Sprintf("01JLIMIT%03d", i)), store.Received)
	}
	recs, err := st.List(context.Background(), store.Filter{})
	if err != nil || len(recs) != store.DefaultLimit {
		t.Errorf("List({}) = %d records, %v, want %d", len(recs), err, store.DefaultLimit)
	}
}

// TestPagination walks 25 records in pages of 10 both ways.
func TestPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	var want []uint64
	for i := range 25 {
		want = append(want, put(t, st, sample(fmt.Sprintf("01JPAGE%02d", i)), store.Received).Cursor)
	}
	var asc, sizes []uint64
	f := store.Filter{Limit: 10}
	for {
		page, err := st.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, uint64(len(page)))
		for _, r := range page {
			asc = append(asc, r.Cursor)
			f.AfterCursor = r.Cursor
		}
		if len(page) < f.Limit {
			break
		}
	}
	if diff := cmp.Diff(want, asc); diff != "" {
		t.Errorf("ascending pages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{10, 10, 5}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	var desc []uint64
	f = store.Filter{Limit: 10, Descending: true}
	for {
		page, err := st.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			desc = append([]uint64{r.Cursor}, desc...)
			f.BeforeCursor = r.Cursor
		}
		if len(page) < f.Limit {
			break
		}
	}
	if diff := cmp.Diff(want, desc); diff != "" {
		t.Errorf("descending pages, reversed (-want +got):\n%s", diff)
	}
}
