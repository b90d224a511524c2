package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// FuzzListFilter checks List's validation of a filter: it either answers
// records that Match the filter, within the limit, or refuses with kind
// Invalid naming a field; never another error.
func FuzzListFilter(f *testing.F) {
	f.Add(uint16(0), uint16(0), uint64(0), 0, "MX")
	f.Add(uint16(store.MaxFilterValues), uint16(1), uint64(3), 10, "JM")
	f.Add(uint16(store.MaxFilterValues+1), uint16(0), uint64(0), 0, "XX")
	f.Add(uint16(1), uint16(store.MaxFilterValues+1), uint64(7), -1, "")
	f.Add(uint16(2), uint16(2), ^uint64(0), 5000, "\xff")
	st, _ := corpus(f)
	f.Fuzz(func(t *testing.T, origins, categories uint16, after uint64, limit int, origin string) {
		fl := store.Filter{
			Origins:     repeat(origin, int(origins%1024)),
			Categories:  repeat(bulletin.CBRN, int(categories%1024)),
			AfterCursor: after,
			Limit:       limit,
		}
		recs, err := st.List(context.Background(), fl)
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field == "" {
				t.Fatalf("List(%d origins, %d categories, after %d, limit %d) = %v, want kind invalid naming a field", len(fl.Origins), len(fl.Categories), after, limit, err)
			}
			return
		}
		if len(fl.Origins) > store.MaxFilterValues || len(fl.Categories) > store.MaxFilterValues || limit < 0 {
			t.Fatalf("List accepted %d origins, %d categories, limit %d", len(fl.Origins), len(fl.Categories), limit)
		}
		if after > 6 {
			t.Fatalf("List accepted cursor %d beyond the newest (6)", after)
		}
		for _, r := range recs {
			if !fl.Match(r) {
				t.Fatalf("List returned %s, which does not Match", r.Bulletin.ID)
			}
		}
	})
}
