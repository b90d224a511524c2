package stix_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// generic returns the bundle of one bulletin with indicators as plain
// JSON values, to be spoiled by the tests. Its objects are: 0 identity,
// 1 marking definition, 2 flight indicator, 3 network indicator, 4 report.
func generic(t *testing.T) map[string]any {
	t.Helper()
	b := minimal()
	b.Indicators = []bulletin.Indicator{
		{Type: bulletin.IndicatorFlight, Value: "CM471"},
		{Type: bulletin.IndicatorNetwork, Value: "198.51.100.7"},
	}
	var m map[string]any
	if err := json.Unmarshal(bundleOf(t, stix.Version{Bulletin: b}), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(m map[string]any, i int) map[string]any { return m["objects"].([]any)[i].(map[string]any) }

func TestDecodeRefusesBadBundles(t *testing.T) {
	tests := []struct {
		name     string
		spoil    func(m map[string]any)
		raw      func(data string) string // applied to the JSON text after spoil
		wantPath string
		wantErr  error
		wantMsg  string
	}{
		{name: "malformed", raw: func(s string) string { return s[:len(s)/2] }, wantPath: "*", wantErr: strictjson.ErrSyntax},
		{name: "duplicate key", raw: func(s string) string {
			return strings.Replace(s, `"pattern":`, `"pattern":"[ipv4-addr:value = '1.1.1.1']","pattern":`, 1)
		}, wantPath: "objects[2].pattern", wantErr: strictjson.ErrDuplicateKey},
		{name: "huge", raw: func(s string) string {
			return strings.Replace(s, `"name":"t"`, `"name":"`+strings.Repeat("x", stix.MaxBundleBytes)+`"`, 1)
		}, wantErr: strictjson.ErrTooLarge, wantMsg: "the limit is"},
		{name: "not a bundle", spoil: func(m map[string]any) { m["type"] = "report" }, wantPath: "type", wantErr: stix.ErrInvalid},
		{name: "unknown object type", spoil: func(m map[string]any) { obj(m, 2)["type"] = "x-acme-thing" },
			wantPath: "objects[2].type", wantErr: stix.ErrUnknownType, wantMsg: `unknown object type "x-acme-thing"`},
		{name: "STIX type not mapped", spoil: func(m map[string]any) {
			m["objects"] = append(m["objects"].([]any), map[string]any{"type": "malware", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"})
		}, wantPath: "objects[5].type", wantErr: stix.ErrUnknownType, wantMsg: `STIX type "malware" is not one IANT maps`},
		{name: "TLP 1.0 marking", spoil: func(m map[string]any) {
			obj(m, 4)["object_marking_refs"] = []any{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}
		}, wantPath: "objects[4].object_marking_refs[0]", wantErr: stix.ErrMarking, wantMsg: "TLP 1.0 (TLP:WHITE)"},
		{name: "other marking", spoil: func(m map[string]any) {
			obj(m, 4)["object_marking_refs"] = []any{"marking-definition--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"}
		}, wantPath: "objects[4].object_marking_refs[0]", wantErr: stix.ErrMarking},
		{name: "other marking definition", spoil: func(m map[string]any) {
			obj(m, 1)["id"] = "marking-definition--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"
		}, wantPath: "objects[1].id", wantErr: stix.ErrMarking},
		{name: "TLP name that lies", spoil: func(m map[string]any) { obj(m, 1)["name"] = "TLP:RED" },
			wantPath: "objects[1].name", wantErr: stix.ErrMarking},
		{name: "no marking", spoil: func(m map[string]any) { delete(obj(m, 4), "object_marking_refs") },
			wantPath: "objects[4].object_marking_refs", wantErr: stix.ErrMarking},
		{name: "granular markings", spoil: func(m map[string]any) { obj(m, 3)["granular_markings"] = []any{} },
			wantPath: "objects[3].granular_markings", wantErr: stix.ErrMarking},
		{name: "indicator marked apart", spoil: func(m map[string]any) {
			obj(m, 3)["object_marking_refs"] = []any{stix.MarkingID(bulletin.Red)}
		}, wantPath: "objects[3].object_marking_refs", wantErr: stix.ErrMarking},
		{name: "pattern that does not parse", spoil: func(m map[string]any) { obj(m, 3)["pattern"] = "[ipv4-addr:value = '1.2.3.4'" },
			wantPath: "objects[3].pattern", wantErr: stix.ErrPattern, wantMsg: "pattern ends where"},
		{name: "pattern operator", spoil: func(m map[string]any) { obj(m, 3)["pattern"] = "[url:value LIKE '%evil%']" },
			wantPath: "objects[3].pattern", wantErr: stix.ErrPattern, wantMsg: "operator LIKE is not supported"},
		{name: "pattern path", spoil: func(m map[string]any) { obj(m, 3)["pattern"] = "[process:name = 'x.exe']" },
			wantPath: "objects[3].pattern", wantErr: stix.ErrPattern, wantMsg: "object path process:name is not one IANT maps"},
		{name: "pattern type", spoil: func(m map[string]any) { obj(m, 3)["pattern_type"] = "sigma" },
			wantPath: "objects[3].pattern_type", wantErr: stix.ErrPattern},
		{name: "loose indicator", spoil: func(m map[string]any) {
			r := obj(m, 4)
			r["object_refs"] = r["object_refs"].([]any)[:1]
		}, wantPath: "objects[3]", wantErr: stix.ErrInvalid, wantMsg: "not referred to by any report"},
		{name: "reference outside the bundle", spoil: func(m map[string]any) {
			r := obj(m, 4)
			r["object_refs"] = append(r["object_refs"].([]any), "indicator--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061")
		}, wantPath: "objects[4].object_refs[2]", wantErr: stix.ErrInvalid, wantMsg: "is not in the bundle"},
		{name: "id twice", spoil: func(m map[string]any) { obj(m, 3)["id"] = obj(m, 2)["id"] },
			wantPath: "objects[3].id", wantErr: stix.ErrInvalid, wantMsg: "given twice"},
		{name: "id of another type", spoil: func(m map[string]any) { obj(m, 3)["id"] = "report--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061" },
			wantPath: "objects[3].id", wantErr: strictjson.ErrValue},
		{name: "STIX 2.0", spoil: func(m map[string]any) { obj(m, 2)["spec_version"] = "2.0" },
			wantPath: "objects[2].spec_version", wantErr: strictjson.ErrValue},
		{name: "time not UTC", spoil: func(m map[string]any) { obj(m, 4)["published"] = "2026-11-21T09:00:00+01:00" },
			wantPath: "objects[4].published", wantErr: strictjson.ErrValue},
		{name: "title of wrong type", spoil: func(m map[string]any) { obj(m, 4)["name"] = 7 },
			wantPath: "objects[4].name", wantErr: strictjson.ErrType},
		{name: "two categories", spoil: func(m map[string]any) { obj(m, 4)["labels"] = []any{"cbrn", "x", "arms-trafficking"} },
			wantPath: "objects[4].labels[2]", wantErr: stix.ErrInvalid},
		{name: "unknown language", spoil: func(m map[string]any) { obj(m, 4)["lang"] = "de" },
			wantPath: "objects[4].lang", wantErr: strictjson.ErrValue},
		{name: "unknown region", spoil: func(m map[string]any) {
			obj(m, 4)["x_iant_releasability"] = map[string]any{"regions": []any{"europe"}}
		}, wantPath: "objects[4].x_iant_releasability.regions[0]", wantErr: stix.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := generic(t)
			if tt.spoil != nil {
				tt.spoil(m)
			}
			data := string(marshal(t, m))
			if tt.raw != nil {
				data = tt.raw(data)
			}
			d, err := stix.DecodeBundle([]byte(data))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeBundle = %+v, %v; want %v", d, err, tt.wantErr)
			}
			if path, _ := strictjson.PathOf(err); path != tt.wantPath && tt.wantPath != "*" {
				t.Errorf("error %q names path %q, want %q", err, path, tt.wantPath)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "stix: ") {
				t.Errorf("error %q, want it to start with \"stix: \" and contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestForeignBundleTakesDefaults(t *testing.T) {
	m := generic(t)
	r := obj(m, 4)
	for _, k := range []string{"x_iant_precedence", "labels", "lang", "created_by_ref", "x_iant_bulletin_id", "x_iant_author", "x_iant_releasability"} {
		delete(r, k)
	}
	d, err := stix.DecodeBundle(marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	im := d.Bulletins[0]
	b := im.Bulletin
	if b.Precedence != bulletin.Routine || b.Category != bulletin.CategoryOther || b.Language != bulletin.English || len(im.Defaulted) != 3 {
		t.Errorf("defaults: %s %s %s, defaulted %v", b.Precedence, b.Category, b.Language, im.Defaulted)
	}
	draft, err := im.Draft("MX")
	if err != nil {
		t.Fatal(err)
	}
	err = im.Check(&draft)
	if path, _ := strictjson.PathOf(err); path != "objects[4].x_iant_releasability" {
		t.Errorf("Check without releasability = %v (path %q), want the path objects[4].x_iant_releasability", err, path)
	}
}

func TestCreatorIdentityIsAReference(t *testing.T) {
	m := generic(t)
	creator := map[string]any{"type": "identity", "spec_version": "2.1", "id": "identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
		"created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "An analyst", "identity_class": "individual"}
	m["objects"] = append([]any{creator}, m["objects"].([]any)...)
	obj(m, 5)["created_by_ref"] = creator["id"]
	d, err := stix.DecodeBundle(marshal(t, m))
	if err != nil {
		t.Fatalf("a bundle whose report was created by an individual: %v", err)
	}
	if b := d.Bulletins[0].Bulletin; b.Origin != "" || len(b.Indicators) != 2 {
		t.Errorf("origin %q, %d indicators; want no IANT origin and the 2 indicators", b.Origin, len(b.Indicators))
	}
}

func TestDraftClearsNodeFieldsAndRefusesOtherStates(t *testing.T) {
	d, err := stix.DecodeBundle(bundleOf(t, stix.Version{Bulletin: sample()}))
	if err != nil {
		t.Fatal(err)
	}
	im := d.Bulletins[0]
	if _, err := im.Draft("US"); !errors.Is(err, stix.ErrProvenance) {
		t.Errorf("Draft at US of a bulletin of MX = %v, want ErrProvenance", err)
	} else if path, _ := strictjson.PathOf(err); path != "objects[18].created_by_ref" {
		t.Errorf("provenance error path %q", path)
	}
	draft, err := im.Draft("MX")
	if err != nil {
		t.Fatal(err)
	}
	if draft.ID != "" || draft.Origin != "" || draft.Author != "" || !draft.CreatedAt.IsZero() || draft.Recipients != nil {
		t.Errorf("draft keeps node-set fields: %+v", draft)
	}
	if err := im.Check(&draft); err != nil {
		t.Errorf("Check(draft of a valid bulletin) = %v", err)
	}
	draft.Indicators[5].Value = strings.Repeat("x", bulletin.MaxIndicatorBytes+1)
	if path, _ := strictjson.PathOf(im.Check(&draft)); path != "objects[7]" {
		t.Errorf("Check of a too long indicator names %q, want objects[7]", path)
	}
	draft.Title = ""
	if path, _ := strictjson.PathOf(im.Check(&draft)); path != "objects[18].name" {
		t.Errorf("Check without a title names %q, want objects[18].name", path)
	}
}

func FuzzDecodeBundle(f *testing.F) {
	f.Add(bundleOf(f, stix.Version{Bulletin: sample()}))
	f.Add(bundleOf(f, stix.Version{Bulletin: minimal()}))
	f.Add([]byte(`{"type":"bundle","id":"bundle--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","objects":[{"type":"report"}]}`))
	f.Add(repliesBundle(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := stix.DecodeBundle(data)
		if err != nil {
			if _, ok := strictjson.PathOf(err); !ok {
				t.Fatalf("error without a JSON path: %v", err)
			}
			return
		}
		for _, im := range d.Bulletins {
			if im.Bulletin.Marking == 0 || len(im.Objects) == 0 {
				t.Fatalf("decoded a bulletin without marking or objects: %+v", im)
			}
			if draft, err := im.Draft(im.Bulletin.Origin); err == nil {
				_ = im.Check(&draft)
			}
		}
	})
}

// repliesBundle is a bulletin with a false-positive sighting (kind and
// place) and an answer, as a node serves them: a fuzz seed.
func repliesBundle(f *testing.F) []byte {
	f.Helper()
	b := sample()
	objs, err := stix.Objects(stix.Version{Bulletin: b})
	if err != nil {
		f.Fatal(err)
	}
	at := b.CreatedAt.Add(time.Hour)
	for _, r := range []stix.Reply{
		{ID: "01KAR1000000000000000000S7", Kind: stix.ReplySighting, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "US", CreatedAt: at,
			Marking: bulletin.Amber, FirstSeen: at, LastSeen: at, SightingKind: "false-positive", Place: "Tocumen"},
		{ID: "01KAR1000000000000000000A7", Kind: stix.ReplyAnswer, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "JM", CreatedAt: at,
			Marking: bulletin.Amber, Body: "known to us"},
	} {
		o, err := stix.ReplyObject(r)
		if err != nil {
			f.Fatal(err)
		}
		objs = append(objs, o)
	}
	data, err := json.Marshal(stix.NewBundle(objs))
	if err != nil {
		f.Fatal(err)
	}
	return data
}
