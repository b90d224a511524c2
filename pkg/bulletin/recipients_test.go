package bulletin_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

func TestRecipients(t *testing.T) {
	allBut := func(origin string) []string {
		return slices.DeleteFunc(region.Codes(), func(c string) bool { return c == origin })
	}
	tests := []struct {
		name   string
		origin string
		r      bulletin.Releasability
		want   []string
	}{
		{
			name:   "region leaves out origin",
			origin: "MX",
			r:      bulletin.Releasability{Regions: []region.Region{region.NorthAmerica}},
			want:   []string{"CA", "US"},
		},
		{
			name:   "region from outside it",
			origin: "BR",
			r:      bulletin.Releasability{Regions: []region.Region{region.NorthAmerica}},
			want:   []string{"CA", "MX", "US"},
		},
		{
			name:   "all minus origin",
			origin: "MX",
			r:      bulletin.Releasability{All: true},
			want:   allBut("MX"),
		},
		{
			name:   "all with states and regions adds nothing",
			origin: "JM",
			r:      bulletin.Releasability{All: true, States: []string{"US", "JM"}, Regions: region.All()},
			want:   allBut("JM"),
		},
		{
			name:   "every region minus origin",
			origin: "AR",
			r:      bulletin.Releasability{Regions: region.All()},
			want:   allBut("AR"),
		},
		{
			name:   "state twice and in a region",
			origin: "AR",
			r:      bulletin.Releasability{States: []string{"US", "JM", "US"}, Regions: []region.Region{region.NorthAmerica, region.NorthAmerica}},
			want:   []string{"CA", "JM", "MX", "US"},
		},
		{
			name:   "states sorted",
			origin: "MX",
			r:      bulletin.Releasability{States: []string{"VE", "AG", "PA", "CO"}},
			want:   []string{"AG", "CO", "PA", "VE"},
		},
		{
			name:   "only the origin",
			origin: "MX",
			r:      bulletin.Releasability{States: []string{"MX"}},
			want:   nil,
		},
		{
			name:   "unknown codes and regions dropped",
			origin: "MX",
			r:      bulletin.Releasability{States: []string{"FR", "co", "", "PE"}, Regions: []region.Region{region.Unspecified, 99}},
			want:   []string{"PE"},
		},
		{
			name:   "nothing",
			origin: "MX",
			r:      bulletin.Releasability{},
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states := slices.Clone(tt.r.States)
			got := bulletin.Recipients(tt.origin, tt.r)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Recipients(%q, %+v) mismatch (-want +got):\n%s", tt.origin, tt.r, diff)
			}
			if !slices.IsSorted(got) {
				t.Errorf("Recipients(%q, %+v) = %v, not sorted", tt.origin, tt.r, got)
			}
			if slices.Contains(got, tt.origin) {
				t.Errorf("Recipients(%q, %+v) = %v, contains the origin", tt.origin, tt.r, got)
			}
			if !slices.Equal(states, tt.r.States) {
				t.Errorf("Recipients modified its input states: %v, was %v", tt.r.States, states)
			}
		})
	}
}

func TestRecipientsAllIsThirtyFour(t *testing.T) {
	for _, origin := range region.Codes() {
		got := bulletin.Recipients(origin, bulletin.Releasability{All: true})
		if len(got) != 34 {
			t.Errorf("len(Recipients(%q, all)) = %d, want 34", origin, len(got))
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("Recipients(%q, all) = %v, has duplicates", origin, got)
		}
	}
}

func TestReleasedTo(t *testing.T) {
	b := complete()
	for _, s := range b.Recipients {
		if !b.ReleasedTo(s) {
			t.Errorf("ReleasedTo(%q) = false for a recipient", s)
		}
	}
	if !b.ReleasedTo(b.Origin) {
		t.Errorf("ReleasedTo(origin %q) = false, want true", b.Origin)
	}
	for _, s := range []string{"BR", "JM", "mx", ""} {
		if b.ReleasedTo(s) {
			t.Errorf("ReleasedTo(%q) = true, want false (recipients %v)", s, b.Recipients)
		}
	}
}

func TestHasCaveat(t *testing.T) {
	b := draft()
	if !b.HasCaveat(bulletin.NoOnwardSharing) {
		t.Errorf("HasCaveat(%v) = false, want true", bulletin.NoOnwardSharing)
	}
	if b.HasCaveat(bulletin.OriginatorConsentRequired) {
		t.Errorf("HasCaveat(%v) = true, want false", bulletin.OriginatorConsentRequired)
	}
}

// TestResolveAmongMembers: a node resolves among the states the membership
// table releases to, so a region takes in a state added at runtime and
// leaves out one that is not (or no longer) a member.
func TestResolveAmongMembers(t *testing.T) {
	members := func(codes ...string) []region.State {
		var out []region.State
		for _, c := range codes {
			st, _ := region.Lookup(c)
			out = append(out, st)
		}
		return out
	}
	tests := []struct {
		name    string
		origin  string
		r       bulletin.Releasability
		members []region.State
		want    []string
	}{
		{"region of the members only", "MX", bulletin.Releasability{Regions: []region.Region{region.NorthAmerica}}, members("MX", "US", "JM"), []string{"US"}},
		{"a state joined the region", "MX", bulletin.Releasability{Regions: []region.Region{region.NorthAmerica}}, members("CA", "MX", "US"), []string{"CA", "US"}},
		{"all members", "JM", bulletin.Releasability{All: true}, members("JM", "MX", "BR"), []string{"BR", "MX"}},
		{"a listed non-member", "MX", bulletin.Releasability{States: []string{"BR", "US"}}, members("MX", "US"), []string{"US"}},
		{"no members", "MX", bulletin.Releasability{All: true}, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bulletin.Resolve(tt.origin, tt.r, tt.members)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%s, %+v) (-want +got):\n%s", tt.origin, tt.r, diff)
			}
		})
	}
}
