package store_test

import (
	"context"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	a := sample("a") // Spanish, MX, vehicle ABC-1234
	b := sample("b")
	b.Origin, b.Language = "US", bulletin.English
	b.Title, b.Body = "Border crossing", "Suspected MANPADS shipment near the southern border."
	b.Indicators = []bulletin.Indicator{{Type: bulletin.IndicatorTravelDocument, Value: "P1234567", Description: "forged passport"}}
	c := sample("c")
	c.Title, c.Body, c.Indicators = "Financiamiento", "Transferencias sospechosas.", nil
	c.Translations = []bulletin.Translation{
		{Language: bulletin.Portuguese, Title: "Financiamento", Body: "Transferências suspeitas de Curitiba.", By: "BR"},
		{Language: bulletin.French, Title: "Financement", Body: "Virements douteux.", By: "MX"},
	}
	for _, x := range []bulletin.Bulletin{a, b, c} {
		put(t, st, x, store.Received)
	}
	tests := []struct {
		name  string
		query string
		f     store.Filter
		want  string
	}{
		{"body word", "frontera", store.Filter{}, "a"},
		{"case folded", "manpads", store.Filter{}, "ab"},
		{"diacritics folded", "transito", store.Filter{}, "a"},
		{"accented query", "TRÁNSITO", store.Filter{}, "a"},
		{"all words", "manpads border", store.Filter{}, "b"},
		{"prefix", "financ*", store.Filter{}, "c"},
		{"indicator value", "P1234567", store.Filter{}, "b"},
		{"indicator with punctuation", "abc-1234", store.Filter{}, "a"},
		{"indicator description", "passport", store.Filter{}, "b"},
		{"no hit", "ricin", store.Filter{}, ""},
		{"a translation's body", "curitiba", store.Filter{}, "c"},
		{"a translation's title", "financement", store.Filter{}, "c"},
		{"words of two languages", "virements sospechosas", store.Filter{}, "c"},
		{"filter origin", "manpads", store.Filter{Origins: []string{"US"}}, "b"},
		{"filter descending", "manpads", store.Filter{Descending: true}, "ba"},
		{"filter limit", "manpads", store.Filter{Limit: 1}, "a"},
		{"operators are words", "manpads OR ricin", store.Filter{}, ""},
		{"column syntax is literal", "title:border", store.Filter{}, ""},
		{"stray quote", `manpads"`, store.Filter{}, "ab"},
		{"parenthesis", "NEAR( manpads", store.Filter{}, "b"}, // "near" is a word of b
		{"punctuation-only word", "manpads - ;", store.Filter{}, "ab"},
		{"minus", "-manpads", store.Filter{}, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := st.Search(ctx, tt.query, tt.f)
			if err != nil {
				t.Fatalf("Search(%q) = %v", tt.query, err)
			}
			if got := ids(recs); got != tt.want {
				t.Errorf("Search(%q, %+v) = %q, want %q", tt.query, tt.f, got, tt.want)
			}
		})
	}
	for _, q := range []string{"", "   ", "*", "** *"} {
		if _, err := st.Search(ctx, q, store.Filter{}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("Search(%q) = %v, want kind invalid", q, err)
		}
	}
}

// FuzzSearch checks that no search text is a query syntax error: Search
// either runs or refuses the text as invalid.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"manpads", `"`, "a OR b", "NEAR(a b)", "title:x", "^x", "x*", "*", "-", "é", "a\x00b", "\"\"*"} {
		f.Add(s)
	}
	st, _ := openStore(f)
	put(f, st, sample("a"), store.Received)
	f.Fuzz(func(t *testing.T, text string) {
		_, err := st.Search(context.Background(), text, store.Filter{})
		if err != nil && problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("Search(%q) = %v, want nil or kind invalid", text, err)
		}
	})
}
