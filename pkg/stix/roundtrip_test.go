package stix_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestRoundTripBulletinSTIXBulletin(t *testing.T) {
	tests := []struct {
		name string
		b    bulletin.Bulletin
	}{
		{"every field", sample()},
		{"required fields only", minimal()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := stix.DecodeBundle(bundleOf(t, stix.Version{Bulletin: tt.b}))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Bulletins) != 1 {
				t.Fatalf("decoded %d bulletins, want 1", len(d.Bulletins))
			}
			got := d.Bulletins[0]
			if diff := cmp.Diff(tt.b, got.Bulletin, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("bulletin -> STIX -> bulletin (-want +got):\n%s", diff)
			}
			if !got.Modified.Equal(tt.b.CreatedAt) || len(got.Defaulted) != 0 {
				t.Errorf("modified %v, defaulted %v; want %v and none", got.Modified, got.Defaulted, tt.b.CreatedAt)
			}
		})
	}
}

func TestExportIsDeterministic(t *testing.T) {
	a := bundleOf(t, stix.Version{Bulletin: sample()}, stix.Version{Bulletin: minimal()})
	b := bundleOf(t, stix.Version{Bulletin: sample()}, stix.Version{Bulletin: minimal()})
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of the same bulletins differ")
	}
	// The golden file pins the wire form: ids, property names, times.
	golden := filepath.Join("testdata", "bundle.golden.json")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, a, "", "  "); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("export differs from %s (run with -update if intended):\n%s", golden, diff)
	}
}

// TestReportsNamedByOriginAndID: two states' bulletins of one id are
// two reports, their indicators two sets of objects.
func TestReportsNamedByOriginAndID(t *testing.T) {
	mx, us := sample(), sample()
	us.Origin, us.Author = "US", "spiffe://iant.test/state/US/focal-point/focal"
	if stix.ReportID(mx.Origin, mx.ID) == stix.ReportID(us.Origin, us.ID) {
		t.Errorf("ReportID(MX, %s) = ReportID(US, %s)", mx.ID, us.ID)
	}
	ids := map[string]string{} // STIX id -> origin
	for _, b := range []bulletin.Bulletin{mx, us} {
		objs, err := stix.BulletinObjects(stix.Version{Bulletin: b})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			id := idOf(t, o)
			if other, ok := ids[id]; ok && other != b.Origin {
				t.Errorf("%s names an object of %s's bulletin and of %s's", id, other, b.Origin)
			}
			ids[id] = b.Origin
		}
	}
}

// idOf is the id of the STIX object o.
func idOf(t *testing.T, o stix.Object) string {
	t.Helper()
	var c struct{ ID string }
	if err := json.Unmarshal(marshalObject(t, o), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func marshalObject(t *testing.T, o stix.Object) []byte {
	t.Helper()
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestImportOfIDsNamedByIDAlone: a bundle exported before reports were
// named by origin and id (its ids derived from the bulletin id alone) is
// still read: import does not derive ids, it reads the objects.
func TestImportOfIDsNamedByIDAlone(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bundle-ids-by-id.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := stix.DecodeBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Bulletins) != 2 {
		t.Fatalf("decoded %d bulletins, want 2", len(d.Bulletins))
	}
	if diff := cmp.Diff(sample(), d.Bulletins[0].Bulletin, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("old bundle -> bulletin (-want +got):\n%s", diff)
	}
}

func TestExportShape(t *testing.T) {
	b := sample()
	bundle, err := stix.FromBulletins(stix.Version{Bulletin: b}, stix.Version{Bulletin: minimal()})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	var report stix.Report
	for _, o := range bundle.Objects {
		types[o.ObjectType()]++
		if r, ok := o.(stix.Report); ok && r.BulletinID == b.ID {
			report = r
		}
	}
	want := map[string]int{"identity": 3, "marking-definition": 2, "indicator": 14, "x-iant-weapon": 1, "report": 2}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("object types (-want +got):\n%s", diff)
	}
	if report.Confidence == nil || *report.Confidence != 70 || report.Grading != "B2" {
		t.Errorf("grading B2 gave confidence %v and x_iant_grading %q, want 70 and B2", report.Confidence, report.Grading)
	}
	if report.CreatedByRef != stix.StateIdentityID("MX") || report.ObjectMarkingRefs[0] != "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" {
		t.Errorf("created_by_ref %s, marking %v", report.CreatedByRef, report.ObjectMarkingRefs)
	}
	if len(report.ObjectRefs) != len(b.Indicators) || report.Labels[0] != "arms-trafficking" || report.Lang != "es" {
		t.Errorf("object_refs %d, labels %v, lang %q", len(report.ObjectRefs), report.Labels, report.Lang)
	}
}

func TestPatternsWritten(t *testing.T) {
	tests := []struct {
		in   bulletin.Indicator
		want string
	}{
		{bulletin.Indicator{Type: bulletin.IndicatorFlight, Value: "CM471"}, "[x-iant-flight:number = 'CM471']"},
		{bulletin.Indicator{Type: bulletin.IndicatorTravelDocument, Value: "P1"}, "[x-iant-travel-document:number = 'P1']"},
		{bulletin.Indicator{Type: bulletin.IndicatorVehicle, Value: `a'b\c`}, `[x-iant-vehicle:registration = 'a\'b\\c']`},
		{bulletin.Indicator{Type: bulletin.IndicatorNetwork, Value: "10.0.0.1"}, "[ipv4-addr:value = '10.0.0.1']"},
		{bulletin.Indicator{Type: bulletin.IndicatorNetwork, Value: "::1"}, "[ipv6-addr:value = '::1']"},
		{bulletin.Indicator{Type: bulletin.IndicatorNetwork, Value: "example.org"}, "[domain-name:value = 'example.org']"},
		{bulletin.Indicator{Type: bulletin.IndicatorNetwork, Value: strings.Repeat("a", 64)}, "[file:hashes.'SHA-256' = '" + strings.Repeat("a", 64) + "']"},
		{bulletin.Indicator{Type: bulletin.IndicatorNetwork, Value: "not a thing"}, "[x-iant-network:value = 'not a thing']"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, ok := stix.PatternOf(tt.in)
			if !ok || got != tt.want {
				t.Fatalf("PatternOf(%v) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
			p, err := stix.ParsePattern(got)
			if err != nil || len(p.Comparisons) != 1 || p.Comparisons[0].Value != tt.in.Value || p.Comparisons[0].Type() != tt.in.Type {
				t.Errorf("ParsePattern(%q) = %+v, %v; want one comparison of %v", got, p, err, tt.in)
			}
		})
	}
	for _, typ := range []bulletin.IndicatorType{bulletin.IndicatorPerson, bulletin.IndicatorWeapon} {
		if p, ok := stix.PatternOf(bulletin.Indicator{Type: typ, Value: "x"}); ok {
			t.Errorf("PatternOf(%s) = %q, want none", typ, p)
		}
	}
}

func TestTimestampPrecision(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 120e6, time.UTC), "2026-01-02T03:04:05.120Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), "2026-01-02T03:04:05.123456Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1, time.FixedZone("x", 3600)), "2026-01-02T02:04:05.000000001Z"},
	}
	for _, tt := range tests {
		if got := stix.At(tt.t).String(); got != tt.want {
			t.Errorf("At(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}
