package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// BenchmarkPut measures one durable insert (a WAL commit with fsync).
func BenchmarkPut(b *testing.B) {
	st, _ := openStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := st.Put(ctx, sample(fmt.Sprintf("01JBENCH%08d", i)), store.Received, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListFiltered lists pages of 100 from 2,000 varied records.
func BenchmarkListFiltered(b *testing.B) {
	const n = 2000
	st, _ := openStore(b)
	ctx := context.Background()
	origins := []string{"MX", "US", "CA", "PA", "JM", "BR", "AR", "CO"}
	cats := []bulletin.Category{bulletin.ArmsTrafficking, bulletin.CBRN, bulletin.TerrorismFinancing, bulletin.ViolentExtremism}
	for i := range n {
		bl := sample(fmt.Sprintf("01JSEED%06d", i))
		bl.Origin = origins[i%len(origins)]
		bl.Category = cats[i%len(cats)]
		bl.Precedence = bulletin.Precedences()[i%4]
		bl.Marking = bulletin.Markings()[i%5]
		bl.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if i%10 == 0 {
			bl.Body += " Cargamento de uranio detectado."
		}
		if _, _, err := st.Put(ctx, bl, store.Received, t0); err != nil {
			b.Fatal(err)
		}
	}
	mid := t0.Add(n / 2 * time.Minute)
	filters := []struct {
		name string
		f    store.Filter
	}{
		{"all", store.Filter{}},
		{"category", store.Filter{Categories: []bulletin.Category{bulletin.CBRN}}},
		{"region+since", store.Filter{Regions: []region.Region{region.NorthAmerica}, Since: mid}},
		{"marking+descending", store.Filter{Markings: []bulletin.Marking{bulletin.Red}, Descending: true}},
		{"resume-cursor", store.Filter{AfterCursor: n - 50}},
	}
	for _, tt := range filters {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.List(ctx, tt.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("search", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Search(ctx, "uranio", store.Filter{Origins: []string{"MX", "US"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
