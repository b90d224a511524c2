package stix_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

// sample is a bulletin with every field the mapping carries, times with
// nanoseconds, and every kind of indicator.
func sample() bulletin.Bulletin {
	created := time.Date(2026, 11, 20, 14, 3, 7, 123456789, time.UTC)
	return bulletin.Bulletin{
		ID: "01KAQZ7W3M4T3V9K6R5N0B1C2D", Origin: "MX", Author: "spiffe://iant.test/state/MX/focal-point/focal",
		CreatedAt: created, ExpiresAt: created.Add(72 * time.Hour),
		Precedence: bulletin.Flash, Category: bulletin.ArmsTrafficking, Grading: bulletin.Grading{Reliability: 2, Credibility: 2},
		Language: bulletin.Spanish, Marking: bulletin.AmberStrict,
		Releasability: bulletin.Releasability{States: []string{"JM", "US"}, Regions: []region.Region{region.CentralAmerica}},
		Caveats:       []bulletin.Caveat{bulletin.NoOnwardSharing, bulletin.LawEnforcementOnly},
		Conditions:    `forbid (principal, action, resource) when { principal.role == "analyst" };`,
		Title:         "Suspected MANPADS shipment <script>",
		Body:          "Container MSCU1234567 flagged at Manzanillo.\nIt's 'quoted' and \\ escaped.",
		Indicators: []bulletin.Indicator{
			{Type: bulletin.IndicatorFlight, Value: "CM471", Description: "arrives 2026-12-02"},
			{Type: bulletin.IndicatorTravelDocument, Value: "P1234567", Attributes: map[string]string{"country": "PA"}},
			{Type: bulletin.IndicatorVehicle, Value: "ABC-123'x"},
			{Type: bulletin.IndicatorPerson, Value: "Juan Pérez", Description: "courier"},
			{Type: bulletin.IndicatorWeapon, Value: "SA-7 Grail"},
			{Type: bulletin.IndicatorNetwork, Value: "198.51.100.7"},
			{Type: bulletin.IndicatorNetwork, Value: "2001:db8::1"},
			{Type: bulletin.IndicatorNetwork, Value: "203.0.113.0/24"},
			{Type: bulletin.IndicatorNetwork, Value: "evil.example.org"},
			{Type: bulletin.IndicatorNetwork, Value: "https://evil.example.org/a?b=c"},
			{Type: bulletin.IndicatorNetwork, Value: "x@evil.example.org"},
			{Type: bulletin.IndicatorNetwork, Value: "d41d8cd98f00b204e9800998ecf8427e"},
			{Type: bulletin.IndicatorNetwork, Value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
			{Type: bulletin.IndicatorNetwork, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			{Type: bulletin.IndicatorNetwork, Value: "AS64500"},
			{Type: bulletin.IndicatorFlight, Value: "CM471", Description: "the same flight again"},
		},
		Recipients: []string{"BZ", "CR", "GT", "HN", "JM", "NI", "PA", "SV", "US"},
	}
}

// minimal is a bulletin with only the required fields.
func minimal() bulletin.Bulletin {
	return bulletin.Bulletin{
		ID: "01KAQZ7W3M4T3V9K6R5N0B1C2E", Origin: "US", Author: "spiffe://iant.test/state/US/focal-point/focal",
		CreatedAt: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Precedence: bulletin.Routine,
		Category: bulletin.CategoryOther, Language: bulletin.English, Marking: bulletin.Clear,
		Releasability: bulletin.Releasability{All: true}, Title: "t", Body: "b",
	}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func bundleOf(t testing.TB, vs ...stix.Version) []byte {
	t.Helper()
	b, err := stix.FromBulletins(vs...)
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, b)
}
