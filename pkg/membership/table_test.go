package membership_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

func TestGenesis(t *testing.T) {
	tb, err := membership.Genesis(network, []string{"US", "MX", "JM", "MX"}, day0.Add(123*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Version != 1 || !tb.Issued.Equal(day0) {
		t.Errorf("Genesis: version %d issued %s, want 1 at %s", tb.Version, tb.Issued, day0)
	}
	if got := tb.Codes(membership.Active); !slices.Equal(got, []string{"JM", "MX", "US"}) {
		t.Errorf("Genesis active = %v, want JM, MX, US", got)
	}
	if m, _ := tb.Member("JM"); m.Region != region.Caribbean {
		t.Errorf("JM's region = %s, want caribbean", m.Region)
	}
	if _, err := membership.Genesis(network, []string{"FR"}, day0); err == nil {
		t.Error("Genesis with FR: no error, want one (not in the region table)")
	}
}

func TestChange(t *testing.T) {
	g, err := membership.Genesis(network, []string{"MX", "US"}, day0)
	if err != nil {
		t.Fatal(err)
	}
	add := membership.Change{Kind: membership.Add, State: "CA", Region: region.NorthAmerica}
	tests := []struct {
		name    string
		changes []membership.Change
		want    map[string]membership.Status
		field   string // of the last change's *problem.Error when it fails
		kind    problem.Kind
	}{
		{"add", []membership.Change{add}, map[string]membership.Status{"CA": membership.Active}, "", 0},
		{"suspend and reinstate", []membership.Change{add, {Kind: membership.Suspend, State: "CA"}, {Kind: membership.Reinstate, State: "CA"}},
			map[string]membership.Status{"CA": membership.Active}, "", 0},
		{"suspend", []membership.Change{{Kind: membership.Suspend, State: "MX", Reason: "dues"}}, map[string]membership.Status{"MX": membership.Suspended}, "", 0},
		{"remove suspended", []membership.Change{{Kind: membership.Suspend, State: "MX"}, {Kind: membership.Remove, State: "MX"}},
			map[string]membership.Status{"MX": membership.Removed}, "", 0},
		{"add twice", []membership.Change{add, add}, nil, "", problem.KindConflict},
		{"add removed", []membership.Change{{Kind: membership.Remove, State: "MX"}, {Kind: membership.Add, State: "MX", Region: region.NorthAmerica}}, nil, "", problem.KindConflict},
		{"reinstate active", []membership.Change{{Kind: membership.Reinstate, State: "MX"}}, nil, "", problem.KindConflict},
		{"suspend non-member", []membership.Change{{Kind: membership.Suspend, State: "BR"}}, nil, "", problem.KindConflict},
		{"unknown state", []membership.Change{{Kind: membership.Add, State: "FR", Region: region.NorthAmerica}}, nil, "state", problem.KindInvalid},
		{"lower case", []membership.Change{{Kind: membership.Add, State: "ca", Region: region.NorthAmerica}}, nil, "state", problem.KindInvalid},
		{"wrong region", []membership.Change{{Kind: membership.Add, State: "CA", Region: region.Caribbean}}, nil, "region", problem.KindInvalid},
		{"no region", []membership.Change{{Kind: membership.Add, State: "CA"}}, nil, "region", problem.KindInvalid},
		{"no change", []membership.Change{{State: "CA"}}, nil, "change", problem.KindInvalid},
		{"bad node", []membership.Change{{Kind: membership.Add, State: "CA", Region: region.NorthAmerica, Nodes: []string{"Node A"}}}, nil, "nodes", problem.KindInvalid},
		{"nodes on suspend", []membership.Change{{Kind: membership.Suspend, State: "MX", Nodes: []string{"x"}}}, nil, "nodes", problem.KindInvalid},
		{"reason with escape", []membership.Change{{Kind: membership.Suspend, State: "MX", Reason: "a\x1b[2Jb"}}, nil, "reason", problem.KindInvalid},
		{"reason with bidi override", []membership.Change{{Kind: membership.Suspend, State: "MX", Reason: "a\u202eb"}}, nil, "reason", problem.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := g
			var err error
			for i, c := range tt.changes {
				var next membership.Table
				next, err = cur.Change(c, day0.Add(time.Duration(i+1)*time.Hour))
				if err != nil {
					break
				}
				if next.Version != cur.Version+1 {
					t.Errorf("Change(%v) version %d after %d", c, next.Version, cur.Version)
				}
				cur = next
			}
			if tt.want == nil {
				var p *problem.Error
				if !errors.As(err, &p) || p.Kind != tt.kind || p.Field != tt.field {
					t.Fatalf("Change = %v, want a %s problem naming field %q", err, tt.kind, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("Change: %v", err)
			}
			for cc, st := range tt.want {
				if got := cur.StatusOf(cc); got != st {
					t.Errorf("StatusOf(%s) = %s, want %s", cc, got, st)
				}
			}
			if g.StatusOf("CA") != membership.StatusUnspecified || g.StatusOf("MX") != membership.Active {
				t.Error("Change modified the table it was called on")
			}
		})
	}
}

func TestReceivingAndAdmits(t *testing.T) {
	g, _ := membership.Genesis(network, []string{"CA", "MX", "US"}, day0)
	tb, err := g.Change(membership.Change{Kind: membership.Suspend, State: "CA"}, day0)
	if err != nil {
		t.Fatal(err)
	}
	if tb, err = tb.Change(membership.Change{Kind: membership.Remove, State: "US"}, day0); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range tb.Receiving() {
		got = append(got, s.Code+"/"+s.Region.String())
	}
	if diff := cmp.Diff([]string{"CA/north-america", "MX/north-america"}, got); diff != "" {
		t.Errorf("Receiving (-want +got):\n%s", diff)
	}
	for cc, want := range map[string]bool{"CA": false, "MX": true, "US": false, "BR": false} {
		if tb.Admits(cc) != want {
			t.Errorf("Admits(%s) = %v, want %v", cc, !want, want)
		}
	}
	if !tb.Receives("CA") || tb.Receives("US") {
		t.Error("Receives: a suspended state must receive (its copies queue), a removed one not")
	}
}
