package membership_test

import (
	"testing"

	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

// FuzzOpenTable signs arbitrary text with the membership key and opens it:
// the decoder must never panic, and what it accepts must sign and open to
// the same table.
func FuzzOpenTable(f *testing.F) {
	s, vkey := testKey(f, network, 1)
	g, _ := membership.Genesis(network, []string{"MX", "US"}, day0)
	t2, _ := g.Change(membership.Change{Kind: membership.Add, State: "CA", Region: region.NorthAmerica, Reason: "joins \"today\""}, day0)
	for _, tb := range []membership.Table{g, t2} {
		signed, _ := tb.Sign(s)
		f.Add(noteText(signed))
	}
	f.Add("iant membership table v1\nnetwork iant.test\nversion 1\nissued 2026-11-20T10:00:00Z\nmember MX north-america active 2026-11-20T10:00:00Z - \"\"\n")
	f.Add("iant deny list v1\nnetwork iant.test\nversion 1\nissued 2026-11-20T10:00:00Z\n")
	v := verifier(f, vkey)
	f.Fuzz(func(t *testing.T, text string) {
		signed, err := signText(s, text)
		if err != nil {
			return
		}
		tb, err := membership.OpenTable(signed, v, network)
		if err != nil {
			return
		}
		again, err := tb.Sign(s)
		if err != nil {
			t.Fatalf("accepted table does not sign again: %v", err)
		}
		if string(again) != string(signed) {
			t.Fatalf("accepted text %q is not the table's one encoding %q", signed, again)
		}
	})
}

// FuzzOpenDenyList is FuzzOpenTable for the deny list.
func FuzzOpenDenyList(f *testing.F) {
	s, vkey := testKey(f, network, 1)
	var l membership.DenyList
	l, _ = l.With(network, membership.DenyEntry{ID: "spiffe://iant.test/state/MX/focal-point/focal", Reason: "stolen", By: admin}, day0)
	l, _ = l.With(network, membership.DenyEntry{Serial: "ab:cd", Reason: "leaked «key»", By: admin}, day0)
	signed, _ := l.Sign(s)
	f.Add(noteText(signed))
	f.Add("iant deny list v1\nnetwork iant.test\nversion 1\nissued 2026-11-20T10:00:00Z\nserial 0 2026-11-20T10:00:00Z " + admin + " \"x\"\n")
	v := verifier(f, vkey)
	f.Fuzz(func(t *testing.T, text string) {
		signed, err := signText(s, text)
		if err != nil {
			return
		}
		dl, err := membership.OpenDenyList(signed, v, network)
		if err != nil {
			return
		}
		again, err := dl.Sign(s)
		if err != nil || string(again) != string(signed) {
			t.Fatalf("accepted deny list %q does not sign again to itself: %q, %v", signed, again, err)
		}
	})
}
