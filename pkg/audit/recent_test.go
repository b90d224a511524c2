package audit_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// postFrom logs a bulletin of origin: its posted receipt with its header
// (kind bulletin unless h says otherwise).
func (f *fixture) postFrom(h *audit.SignedHeader) {
	f.tb.Helper()
	f.accept(audit.Event{Kind: audit.EventPosted, BulletinID: h.ID, Origin: h.Origin,
		Actor: person(h.Origin, "focal-point", "fp"), Precedence: h.Precedence, At: h.CreatedAt}, h)
}

// TestRecent lists the most recent bulletins newest first by signed
// creation time (ties by origin and id, descending), page by page, by
// origin, never a reply.
func TestRecent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	f.post("01JA", bulletin.Flash, at(0), "BR")
	f.post("01JB", bulletin.Routine, at(1), "BR")
	f.postFrom(&audit.SignedHeader{Origin: "BR", ID: "01JC", Signer: node("BR"), Precedence: bulletin.Priority,
		CreatedAt: at(1), Recipients: []string{"MX"}})
	f.post("01JD", bulletin.Flash, at(1), "CA")
	f.post("01JE", bulletin.Immediate, at(2), "BR", "CA")
	f.postFrom(&audit.SignedHeader{Origin: "BR", ID: "01JREPLY", Signer: node("BR"), Precedence: bulletin.Flash,
		CreatedAt: at(3), Recipients: []string{"MX"}, Kind: bulletin.KindReply, Subkind: int(bulletin.ReplyAnswer),
		Ref: bulletin.Ref{Origin: "MX", ID: "01JA"}})

	pages := func(q audit.RecentQuery) (keys []string, sizes []int) {
		t.Helper()
		limit := q.Limit
		if limit == 0 {
			limit = audit.DefaultRecentLimit
		}
		for range 10 {
			got, err := f.lg.Recent(ctx, q)
			if err != nil {
				t.Fatalf("Recent(%+v) = %v", q, err)
			}
			sizes = append(sizes, len(got))
			for _, r := range got {
				keys = append(keys, r.Origin+"/"+r.ID)
			}
			if len(got) < limit {
				return keys, sizes
			}
			k, err := audit.ParseReportToken(got[len(got)-1].Key().Token())
			if err != nil {
				t.Fatalf("ParseReportToken(the last report's token) = %v", err)
			}
			q.After = &k
		}
		t.Fatal("Recent did not end within 10 pages")
		return nil, nil
	}
	tests := []struct {
		name  string
		q     audit.RecentQuery
		want  []string
		sizes []int
	}{
		{"all, pages of 2", audit.RecentQuery{Limit: 2}, []string{"MX/01JE", "MX/01JD", "MX/01JB", "BR/01JC", "MX/01JA"}, []int{2, 2, 1}},
		{"all, one page", audit.RecentQuery{Limit: 100}, []string{"MX/01JE", "MX/01JD", "MX/01JB", "BR/01JC", "MX/01JA"}, []int{5}},
		{"MX, pages of 3", audit.RecentQuery{Limit: 3, Origin: "MX"}, []string{"MX/01JE", "MX/01JD", "MX/01JB", "MX/01JA"}, []int{3, 1}},
		{"BR: not its reply", audit.RecentQuery{Origin: "BR"}, []string{"BR/01JC"}, []int{1}},
		{"US: none", audit.RecentQuery{Origin: "US"}, nil, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, sizes := pages(tt.q)
			if diff := cmp.Diff(tt.want, keys); diff != "" {
				t.Errorf("Recent pages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sizes, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
		})
	}

	// A listed report is the report Report gives.
	got, err := f.lg.Recent(ctx, audit.RecentQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.lg.Report(ctx, "MX", "01JE")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]audit.BulletinReport{want}, got); diff != "" {
		t.Errorf("Recent(limit 1) (-want +got):\n%s", diff)
	}
	// The reply shows in its bulletin's thread.
	if got, err := f.lg.Recent(ctx, audit.RecentQuery{Origin: "MX", After: &audit.ReportKey{CreatedAt: at(1), Origin: "MX", ID: "01JB"}}); err != nil ||
		len(got) != 1 || len(got[0].Thread) != 1 || got[0].Thread[0].ID != "01JREPLY" {
		t.Errorf("Recent(after MX/01JB) = %+v, %v; want 01JA with the reply in its thread", got, err)
	}
}

func TestRecentRefusesBadQueries(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name  string
		q     audit.RecentQuery
		field string
	}{
		{"negative limit", audit.RecentQuery{Limit: -1}, "page_size"},
		{"limit above the largest", audit.RecentQuery{Limit: audit.MaxRecentLimit + 1}, "page_size"},
		{"origin not a member", audit.RecentQuery{Origin: "XX"}, "origin"},
		{"origin lower-case", audit.RecentQuery{Origin: "mx"}, "origin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.lg.Recent(context.Background(), tt.q)
			if p := problemOf(err); p == nil || p.Kind != problem.KindInvalid || p.Field != tt.field {
				t.Errorf("Recent(%+v) = %v, want Invalid naming %s", tt.q, err, tt.field)
			}
		})
	}
}

func TestParseReportToken(t *testing.T) {
	k := audit.ReportKey{CreatedAt: t0, Origin: "MX", ID: "01J.with.dots"}
	got, err := audit.ParseReportToken(k.Token())
	if err != nil || !cmp.Equal(got, k) {
		t.Errorf("ParseReportToken(Token(%+v)) = %+v, %v", k, got, err)
	}
	for _, tok := range []string{"", "abc", "!!!!", b64("r1.1.MX"), b64("r2.1.MX.01J"), b64("r1.-1.MX.01J"), b64("r1.01.MX.01J"),
		b64("r1.1.XX.01J"), b64("r1.1.MX."), b64("r1.1.MX.a b"), b64("r1.1.MX." + strings.Repeat("a", 65)),
		b64("r1.1.MX.01J") + "=", strings.Repeat("A", 1000)} {
		if _, err := audit.ParseReportToken(tok); problemOf(err) == nil || problemOf(err).Field != "page_token" {
			t.Errorf("ParseReportToken(%q) = %v, want Invalid naming page_token", tok, err)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// problemOf is the *problem.Error in err, or nil.
func problemOf(err error) *problem.Error {
	var p *problem.Error
	if errors.As(err, &p) {
		return p
	}
	return nil
}
