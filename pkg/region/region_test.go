package region_test

import (
	"slices"
	"testing"

	"github.com/oas-cicte/iant/pkg/region"
)

func TestTableCoversThirtyFiveStatesInFourRegions(t *testing.T) {
	if got := len(region.States()); got != 35 {
		t.Fatalf("len(States()) = %d, want 35", got)
	}
	codes := region.Codes()
	if !slices.IsSorted(codes) {
		t.Errorf("Codes() not sorted: %v", codes)
	}
	seen := map[string]bool{}
	total := 0
	for _, r := range region.All() {
		for _, c := range region.StatesOf(r) {
			if seen[c] {
				t.Errorf("state %s is in two regions", c)
			}
			seen[c] = true
			total++
		}
	}
	if total != 35 {
		t.Errorf("regions cover %d states, want 35", total)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		code string
		want region.Region
		ok   bool
	}{
		{"MX", region.NorthAmerica, true},
		{"JM", region.Caribbean, true},
		{"BR", region.SouthAmerica, true},
		{"PA", region.CentralAmerica, true},
		{"mx", 0, false},
		{"FR", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		st, ok := region.Lookup(tt.code)
		if ok != tt.ok || st.Region != tt.want {
			t.Errorf("Lookup(%q) = %v, %v, want %v, %v", tt.code, st.Region, ok, tt.want, tt.ok)
		}
	}
}

func TestParse(t *testing.T) {
	for _, in := range []string{"caribbean", "Caribbean", " CARIBBEAN "} {
		if r, err := region.Parse(in); err != nil || r != region.Caribbean {
			t.Errorf("Parse(%q) = %v, %v, want caribbean", in, r, err)
		}
	}
	if r, err := region.Parse("South America"); err != nil || r != region.SouthAmerica {
		t.Errorf("Parse(South America) = %v, %v", r, err)
	}
	if _, err := region.Parse("europe"); err == nil {
		t.Error("Parse(europe) succeeded, want error")
	}
}
