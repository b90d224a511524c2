package misp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/misp"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

func sample() bulletin.Bulletin {
	created := time.Date(2026, 11, 20, 14, 3, 7, 123456789, time.UTC)
	return bulletin.Bulletin{
		ID: "01KAQZ7W3M4T3V9K6R5N0B1C2D", Origin: "MX", Author: "spiffe://iant.test/state/MX/focal-point/focal",
		CreatedAt: created, ExpiresAt: created.Add(72 * time.Hour),
		Precedence: bulletin.Immediate, Category: bulletin.CBRN, Grading: bulletin.Grading{Reliability: 3, Credibility: 6},
		Language: bulletin.Portuguese, Marking: bulletin.Amber,
		Releasability: bulletin.Releasability{States: []string{"JM", "US"}, Regions: []region.Region{region.SouthAmerica}, All: true},
		Caveats:       []bulletin.Caveat{bulletin.OriginatorConsentRequired},
		Title:         `Radiological source "missing" <b>`,
		Body:          "Cs-137 source stolen from a hospital.\n",
		Indicators: []bulletin.Indicator{
			{Type: bulletin.IndicatorVehicle, Value: "ABC 123", Description: "white van", Attributes: map[string]string{"colour": "white", "odd\"key": "50%"}},
			{Type: bulletin.IndicatorPerson, Value: "Juan Pérez"},
			{Type: bulletin.IndicatorTravelDocument, Value: "P1234567"},
			{Type: bulletin.IndicatorFlight, Value: "CM471"},
			{Type: bulletin.IndicatorWeapon, Value: "RDD"},
			{Type: bulletin.IndicatorNetwork, Value: "198.51.100.7"},
			{Type: bulletin.IndicatorNetwork, Value: "evil.example.org"},
			{Type: bulletin.IndicatorNetwork, Value: "AS64500"},
			{Type: bulletin.IndicatorNetwork, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		},
		Recipients: []string{"AR", "JM", "US"},
		Revises:    "01KAQZ7W3M4T3V9K6R5N0B0000", Supersedes: "01KAQZ7W3M4T3V9K6R5N0B0001",
	}
}

func encode(t *testing.T, ev misp.Event) []byte {
	t.Helper()
	data, err := json.Marshal(misp.File{Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRoundTripBulletinMISPBulletin(t *testing.T) {
	b := sample()
	ev, err := misp.FromBulletin(misp.Version{Bulletin: b, First: "01KAQZ7W3M4T3V9K6R5N0B0000"})
	if err != nil {
		t.Fatal(err)
	}
	im, err := misp.Decode(encode(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	// What MISP cannot carry: times finer than a second (the event
	// timestamp), and Cedar conditions.
	want := b
	want.CreatedAt = b.CreatedAt.Truncate(time.Second)
	if diff := cmp.Diff(want, im.Bulletin, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("bulletin -> MISP -> bulletin (-want +got):\n%s", diff)
	}
	if len(im.Defaulted) != 0 || im.UUID != strings.TrimPrefix(stix.ReportID(b.Origin, "01KAQZ7W3M4T3V9K6R5N0B0000"), "report--") {
		t.Errorf("defaulted %v, uuid %s (want the STIX report's)", im.Defaulted, im.UUID)
	}
}

func TestRoundTripMISPBulletinMISP(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "foreign_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := misp.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	b := im.Bulletin
	if b.Body == "" || b.Marking != bulletin.Green || b.Grading.String() != "B3" || b.Precedence != bulletin.Priority || len(b.Indicators) != 6 {
		t.Fatalf("read %+v", b)
	}
	// As a node would post it: it sets the id and its own origin.
	b.ID, b.Origin, b.Releasability = "01KAQZ7W3M4T3V9K6R5N0B1C2F", "US", bulletin.Releasability{All: true}
	ev, err := misp.FromBulletin(misp.Version{Bulletin: b})
	if err != nil {
		t.Fatal(err)
	}
	var orig struct{ Event map[string]any }
	if err := json.Unmarshal(data, &orig); err != nil {
		t.Fatal(err)
	}
	var again struct{ Event map[string]any }
	if err := json.Unmarshal(encode(t, ev), &again); err != nil {
		t.Fatal(err)
	}
	// The mapped event fields.
	for _, k := range []string{"info", "date", "timestamp", "threat_level_id", "distribution"} {
		if orig.Event[k] != again.Event[k] {
			t.Errorf("Event.%s: %v, then %v", k, orig.Event[k], again.Event[k])
		}
	}
	// The mapped tags: TLP and the Admiralty grading.
	tags := func(e map[string]any) []string {
		var out []string
		for _, t := range e["Tag"].([]any) {
			n := t.(map[string]any)["name"].(string)
			if strings.HasPrefix(n, "tlp:") || strings.HasPrefix(n, "admiralty-scale:") {
				out = append(out, n)
			}
		}
		return out
	}
	if diff := cmp.Diff(tags(orig.Event), tags(again.Event)); diff != "" {
		t.Errorf("TLP and Admiralty tags (-first +again):\n%s", diff)
	}
	// The attributes not deleted, on every mapped field; the body comes
	// back as IANT's body attribute.
	attrs := func(e map[string]any, skipBody bool) []map[string]any {
		var out []map[string]any
		for _, a := range e["Attribute"].([]any) {
			m := a.(map[string]any)
			if m["deleted"] == true || skipBody && m["comment"] == "bulletin body" {
				continue
			}
			out = append(out, map[string]any{"type": m["type"], "category": m["category"], "to_ids": m["to_ids"], "value": m["value"], "comment": m["comment"]})
		}
		return out
	}
	if diff := cmp.Diff(attrs(orig.Event, false), attrs(again.Event, true)); diff != "" {
		t.Errorf("attributes (-first +again):\n%s", diff)
	}
}

func TestRevisionRevocationSightings(t *testing.T) {
	first := sample()
	first.Revises = ""
	rev := sample()
	rev.ID, rev.Revises = "01KAR0000000000000000000RV", first.ID
	rev.Revoked = true
	revokedAt := first.CreatedAt.Add(time.Hour)
	if _, err := misp.FromBulletin(misp.Version{Bulletin: rev}); err == nil {
		t.Error("a revision without its first version was written")
	}
	if _, err := misp.FromBulletin(misp.Version{Bulletin: rev, First: first.ID}); err == nil {
		t.Error("a revocation without its time was written")
	}
	e1, err := misp.FromBulletin(misp.Version{Bulletin: first})
	if err != nil {
		t.Fatal(err)
	}
	seen := misp.Sighted{ReplyID: "01KAR1000000000000000000S1", Origin: "US", At: revokedAt, Of: first.Indicators[5]}
	e2, err := misp.FromBulletin(misp.Version{Bulletin: rev, First: first.ID, Modified: revokedAt, Sightings: []misp.Sighted{seen}})
	if err != nil {
		t.Fatal(err)
	}
	if e1.UUID != e2.UUID || e2.Timestamp <= e1.Timestamp {
		t.Errorf("revision: uuid %s then %s, timestamp %s then %s; want one event, a later timestamp", e1.UUID, e2.UUID, e1.Timestamp, e2.Timestamp)
	}
	for i, a := range e2.Attribute {
		if !a.Deleted || a.UUID != e1.Attribute[i].UUID {
			t.Errorf("revoked event's attribute %d: deleted %v, uuid %s (was %s)", i, a.Deleted, a.UUID, e1.Attribute[i].UUID)
		}
	}
	if s := e2.Attribute[6].Sighting; len(s) != 1 || s[0].Type != "0" || s[0].Source != "IANT US" {
		t.Errorf("sighting of 198.51.100.7: %+v", s)
	}
	if len(misp.Hashes(e2)) != 0 || len(misp.Hashes(e1)) != len(e1.Attribute) {
		t.Errorf("hashes of the revoked event %v, of the first %d lines", misp.Hashes(e2), len(misp.Hashes(e1)))
	}
	im, err := misp.Decode(encode(t, e2))
	if err != nil {
		t.Fatal(err)
	}
	if !im.Bulletin.Revoked || len(im.Bulletin.Indicators) != 0 {
		t.Errorf("decoded revoked event: revoked %v, %d indicators", im.Bulletin.Revoked, len(im.Bulletin.Indicators))
	}
	if _, err := im.Draft("MX"); err == nil {
		t.Error("a revoked event became a draft")
	}
}
