package misp_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/misp"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// foreign returns the fixture event as plain JSON values to spoil.
func foreign(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "foreign_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func event(m map[string]any) map[string]any { return m["Event"].(map[string]any) }
func attr(m map[string]any, i int) map[string]any {
	return event(m)["Attribute"].([]any)[i].(map[string]any)
}
func setTag(m map[string]any, i int, name string) {
	event(m)["Tag"].([]any)[i].(map[string]any)["name"] = name
}

func TestDecodeRefusesBadEvents(t *testing.T) {
	tests := []struct {
		name     string
		spoil    func(m map[string]any)
		raw      func(s string) string
		wantPath string
		wantErr  error
	}{
		{name: "malformed", raw: func(s string) string { return s + "}" }, wantPath: "", wantErr: strictjson.ErrSyntax},
		{name: "duplicate key", raw: func(s string) string { return strings.Replace(s, `"info":`, `"info":"x","info":`, 1) },
			wantPath: "Event.info", wantErr: strictjson.ErrDuplicateKey},
		{name: "huge", raw: func(s string) string {
			return strings.Replace(s, `"info":"`, `"info":"`+strings.Repeat("x", misp.MaxEventBytes), 1)
		}, wantErr: strictjson.ErrTooLarge},
		{name: "no Event", spoil: func(m map[string]any) { m["event"] = m["Event"]; delete(m, "Event") }, wantPath: "Event", wantErr: strictjson.ErrType},
		{name: "attribute type not mapped", spoil: func(m map[string]any) { attr(m, 2)["type"] = "yara" },
			wantPath: "Event.Attribute[2].type", wantErr: misp.ErrUnknownType},
		{name: "MISP objects", spoil: func(m map[string]any) { event(m)["Object"] = []any{map[string]any{}} },
			wantPath: "Event.Object", wantErr: misp.ErrUnknownType},
		{name: "TLP 1.0", spoil: func(m map[string]any) { setTag(m, 0, "tlp:white") }, wantPath: "Event.Tag[0].name", wantErr: misp.ErrMarking},
		{name: "not TLP 2.0", spoil: func(m map[string]any) { setTag(m, 0, "tlp:ex:chr") }, wantPath: "Event.Tag[0].name", wantErr: misp.ErrMarking},
		{name: "two TLP", spoil: func(m map[string]any) { setTag(m, 3, "tlp:red") }, wantPath: "Event.Tag[3].name", wantErr: misp.ErrMarking},
		{name: "no TLP", spoil: func(m map[string]any) { setTag(m, 0, "osint:source-type=\"blog-post\"") }, wantPath: "Event.Tag", wantErr: misp.ErrMarking},
		{name: "text without a tag", spoil: func(m map[string]any) { attr(m, 1)["type"] = "text" }, wantPath: "Event.Attribute[1].Tag", wantErr: misp.ErrInvalid},
		{name: "tag against the type", spoil: func(m map[string]any) { attr(m, 1)["Tag"] = []any{map[string]any{"name": `iant:indicator="flight"`}} },
			wantPath: "Event.Attribute[1].Tag", wantErr: misp.ErrInvalid},
		{name: "unknown category", spoil: func(m map[string]any) { attr(m, 0)["category"] = "Stuff" }, wantPath: "Event.Attribute[0].category", wantErr: strictjson.ErrValue},
		{name: "unknown IANT tag", spoil: func(m map[string]any) { setTag(m, 3, `iant:priority="high"`) }, wantPath: "Event.Tag[3].name", wantErr: misp.ErrInvalid},
		{name: "second precedence", spoil: func(m map[string]any) {
			event(m)["Tag"] = append(event(m)["Tag"].([]any), map[string]any{"name": `iant:precedence="flash"`}, map[string]any{"name": `iant:precedence="routine"`})
		}, wantPath: "Event.Tag[5].name", wantErr: misp.ErrInvalid},
		{name: "half a grading", spoil: func(m map[string]any) { setTag(m, 2, "misp:x") }, wantPath: "Event.Tag[1].name", wantErr: misp.ErrInvalid},
		{name: "threat level out of range", spoil: func(m map[string]any) { event(m)["threat_level_id"] = "7" }, wantPath: "Event.threat_level_id", wantErr: strictjson.ErrValue},
		{name: "timestamp not a number", spoil: func(m map[string]any) { event(m)["timestamp"] = "yesterday" }, wantPath: "Event.timestamp", wantErr: strictjson.ErrValue},
		{name: "uuid", spoil: func(m map[string]any) { event(m)["uuid"] = "1207" }, wantPath: "Event.uuid", wantErr: strictjson.ErrValue},
		{name: "unknown release", spoil: func(m map[string]any) { setTag(m, 3, `iant:release="FR"`) }, wantPath: "Event.Tag[3].name", wantErr: misp.ErrInvalid},
		{name: "to_ids of wrong type", spoil: func(m map[string]any) { attr(m, 0)["to_ids"] = "1" }, wantPath: "Event.Attribute[0].to_ids", wantErr: strictjson.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := foreign(t)
			if tt.spoil != nil {
				tt.spoil(m)
			}
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			s := string(data)
			if tt.raw != nil {
				s = tt.raw(s)
			}
			im, err := misp.Decode([]byte(s))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode = %+v, %v; want %v", im, err, tt.wantErr)
			}
			if path, _ := strictjson.PathOf(err); path != tt.wantPath {
				t.Errorf("error %q names %q, want %q", err, path, tt.wantPath)
			}
			if !strings.HasPrefix(err.Error(), "misp: ") {
				t.Errorf("error %q does not start with \"misp: \"", err)
			}
		})
	}
}

func TestDraftAndCheck(t *testing.T) {
	m := foreign(t)
	data, _ := json.Marshal(m)
	im, err := misp.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := im.Draft("US")
	if err != nil {
		t.Fatal(err)
	}
	if path, _ := strictjson.PathOf(im.Check(&d)); path != "Event.Tag" {
		t.Errorf("Check without releasability names %q, want Event.Tag", path)
	}
	d.Releasability.All = true
	if err := im.Check(&d); err != nil {
		t.Errorf("Check = %v", err)
	}
	d.Indicators[3].Value = strings.Repeat("x", bulletin.MaxIndicatorBytes+1)
	if path, _ := strictjson.PathOf(im.Check(&d)); path != "Event.Attribute[3]" {
		t.Errorf("Check of a long indicator names %q", path)
	}
	ev, err := misp.FromBulletin(misp.Version{Bulletin: sample(), First: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := misp.Decode(encode(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Draft("US"); !errors.Is(err, misp.ErrProvenance) {
		t.Errorf("Draft at US of an event of MX = %v, want ErrProvenance", err)
	}
}

func FuzzDecode(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "foreign_event.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	ev, err := misp.FromBulletin(misp.Version{Bulletin: sample(), First: "x"})
	if err != nil {
		f.Fatal(err)
	}
	ours, _ := json.Marshal(misp.File{Event: ev})
	f.Add(ours)
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := misp.Decode(data)
		if err != nil {
			if _, ok := strictjson.PathOf(err); !ok {
				t.Fatalf("error without a JSON path: %v", err)
			}
			return
		}
		if !im.Bulletin.Marking.Valid() || !im.Bulletin.Precedence.Valid() {
			t.Fatalf("decoded without marking or precedence: %+v", im.Bulletin)
		}
		if d, err := im.Draft(im.Bulletin.Origin); err == nil {
			_ = im.Check(&d)
		}
	})
}
