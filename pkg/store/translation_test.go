package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/store"
)

func TestAddTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	rec := put(t, st, sample("a"), store.Received)
	pt := bulletin.Translation{Language: bulletin.Portuguese, Title: "Armas", Body: "Dois sistemas em Curitiba.", By: "BR",
		At: t0.Add(time.Hour)}
	add := func(tr bulletin.Translation, revision int) (store.Applied, error) {
		return st.AddTranslation(ctx, store.Translation{Origin: "MX", ID: "a", Revision: revision, Translation: tr, At: t0.Add(2 * time.Hour)})
	}
	a, err := add(pt, 1)
	if err != nil || !a.Changed || a.Record.Cursor <= rec.Cursor || len(a.Record.Bulletin.Translations) != 1 {
		t.Fatalf("AddTranslation = %+v, %v; want the bulletin at a new cursor with the translation", a, err)
	}
	if found, err := st.Search(ctx, "curitiba", store.Filter{}); err != nil || len(found) != 1 {
		t.Errorf("Search(a word of the translation) = %d records, %v; want 1", len(found), err)
	}
	if again, err := add(pt, 1); err != nil || again.Changed {
		t.Errorf("AddTranslation(the same again) = changed %v, %v; want unchanged, nil", again.Changed, err)
	}
	if _, inserted, err := st.Put(ctx, sample("a"), store.Received, t0.Add(3*time.Hour)); err != nil || inserted {
		t.Errorf("Put(the origin's content again) = inserted %v, %v; want the same content held", inserted, err)
	}
	other := pt
	other.By, other.Title = "US", "Outro"
	es := pt
	es.Language = bulletin.Spanish
	for _, tt := range []struct {
		name     string
		tr       bulletin.Translation
		id       string
		revision int
		want     error
	}{
		{"another state's in the same language", other, "a", 1, store.ErrConflict},
		{"the original's language", es, "a", 1, store.ErrConflict},
		{"of another revision", pt, "a", 2, store.ErrStale},
		{"a bulletin not held", pt, "zz", 1, store.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.AddTranslation(ctx, store.Translation{Origin: "MX", ID: tt.id, Revision: tt.revision, Translation: tt.tr, At: t0})
			if !errors.Is(err, tt.want) {
				t.Errorf("AddTranslation = %v, want %v", err, tt.want)
			}
		})
	}
}
