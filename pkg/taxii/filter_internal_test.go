package taxii

import (
	"net/url"
	"testing"
)

func TestPositionRoundTrip(t *testing.T) {
	for _, p := range []position{{0, 0}, {1, 0}, {12, 3}, {1<<64 - 1, 1 << 20}} {
		got, ok := parsePosition(p.String())
		if !ok || got != p {
			t.Errorf("parsePosition(%q) = %v, %v; want %v", p.String(), got, ok, p)
		}
	}
	for _, s := range []string{"", "12", "-1", "1-", "1--2", "a-1", "1-a", "1-9999999999", "18446744073709551616-0"} {
		if p, ok := parsePosition(s); ok {
			t.Errorf("parsePosition(%q) = %v, want refused", s, p)
		}
	}
}

// FuzzQuery checks that the query decoders never panic and that a token
// they accept is written back the same.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"limit=5&next=3-1", "added_after=2026-01-02T03:04:05Z&match%5Bversion%5D=first,all", "match%5Bid%5D=a,b&match%5Btype%5D=report", "next=--", "limit=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := parseFilter(q, "limit", "next", "added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]")
		if err != nil {
			return
		}
		if fl.limit < 1 || fl.limit > maxLimit {
			t.Fatalf("limit %d accepted", fl.limit)
		}
		if p, ok := parsePosition(fl.next); ok {
			if again, ok := parsePosition(p.String()); !ok || again != p {
				t.Fatalf("position %v written as %q reads back as %v", p, p.String(), again)
			}
		}
	})
}
