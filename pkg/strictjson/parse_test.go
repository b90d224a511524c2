package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/strictjson"
)

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		lim      strictjson.Limits
		wantPath string
		wantErr  error
	}{
		{"duplicate key at the top", `{"a":1,"a":2}`, strictjson.Limits{}, "a", strictjson.ErrDuplicateKey},
		{"duplicate key deep", `{"objects":[{"type":"x"},{"type":"y","type":"z"}]}`, strictjson.Limits{}, "objects[1].type", strictjson.ErrDuplicateKey},
		{"duplicate odd key", `{"o":{"a b":1,"a b":2}}`, strictjson.Limits{}, `o["a b"]`, strictjson.ErrDuplicateKey},
		{"trailing data", `{"a":1} {"b":2}`, strictjson.Limits{}, "", strictjson.ErrSyntax},
		{"trailing comma", `{"a":[1,2,]}`, strictjson.Limits{}, "a[2]", strictjson.ErrSyntax},
		{"unterminated", `{"a":[1,2`, strictjson.Limits{}, "a", strictjson.ErrSyntax},
		{"not JSON", `hello`, strictjson.Limits{}, "", strictjson.ErrSyntax},
		{"empty", ``, strictjson.Limits{}, "", strictjson.ErrSyntax},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", strictjson.Limits{}, "", strictjson.ErrSyntax},
		{"too many bytes", `{"a":"0123456789"}`, strictjson.Limits{MaxBytes: 10}, "", strictjson.ErrTooLarge},
		{"too deep", `{"a":{"b":{"c":1}}}`, strictjson.Limits{MaxDepth: 2}, "a.b", strictjson.ErrTooLarge},
		{"too many elements", `{"a":[1,2,3,4]}`, strictjson.Limits{MaxElems: 3}, "a", strictjson.ErrTooLarge},
		{"too many keys", `{"a":{"w":1,"x":2,"y":3,"z":4}}`, strictjson.Limits{MaxElems: 3}, "a", strictjson.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := strictjson.Parse([]byte(tt.in), tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
			if path, _ := strictjson.PathOf(err); path != tt.wantPath {
				t.Errorf("Parse(%q) error path = %q, want %q (error %v)", tt.in, path, tt.wantPath, err)
			}
		})
	}
}

func TestAccessorsNameThePath(t *testing.T) {
	doc, err := strictjson.Parse([]byte(`{"objects":[{"type":"report","n":1.5,"when":"2026-01-02T03:04:05+01:00","list":["a",2]}]}`), strictjson.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := doc.Field("objects").Array()
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects = %v, %v", objs, err)
	}
	o := objs[0]
	if s, err := o.Field("type").String(); s != "report" || err != nil {
		t.Errorf("type = %q, %v", s, err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing", func() error { _, err := o.Field("name").String(); return err }(), "objects[0].name: required, must be a string"},
		{"wrong kind", func() error { _, err := o.Field("type").Array(); return err }(), "objects[0].type: must be an array, not a string"},
		{"not an integer", func() error { _, err := o.Field("n").Int(0, 10); return err }(), "objects[0].n: must be a whole number from 0 to 10, not 1.5"},
		{"not UTC Z", func() error { _, err := o.Field("when").Time(true); return err }(), `objects[0].when: "2026-01-02T03:04:05+01:00" is not an RFC 3339 time in UTC`},
		{"element kind", func() error { _, err := o.Field("list").Strings(5); return err }(), "objects[0].list[1]: must be a string, not a number"},
		{"too many strings", func() error { _, err := o.Field("list").Strings(1); return err }(), "objects[0].list: has 2 elements, the limit is 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
				t.Errorf("error = %v, want prefix %q", tt.err, tt.want)
			}
		})
	}
	if s, err := o.Field("absent").OptString(); s != "" || err != nil {
		t.Errorf("OptString of an absent field = %q, %v; want \"\", nil", s, err)
	}
	if tm, err := o.Field("when").Time(false); err != nil || tm.Hour() != 2 {
		t.Errorf("Time(false) = %v, %v; want 02:04:05 UTC", tm, err)
	}
}

// FuzzParse checks that Parse never panics, accepts only valid JSON, and
// refuses valid JSON only for a duplicate key or a limit.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1,"a":2}`, `{"a":[1,{"b":null}]}`, `"x"`, `1e400`, `{"a":"\ud800"}`, "[" + strings.Repeat("[", 40) + strings.Repeat("]", 41)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := strictjson.Parse(data, strictjson.Limits{MaxDepth: 16, MaxElems: 64})
		valid := json.Valid(data) && utf8.Valid(data) // encoding/json passes invalid UTF-8
		switch {
		case err == nil && !valid:
			t.Fatalf("Parse accepted invalid JSON %q", data)
		case err == nil:
			_ = v.Keys()
		case valid && !errors.Is(err, strictjson.ErrDuplicateKey) && !errors.Is(err, strictjson.ErrTooLarge):
			t.Fatalf("Parse refused valid JSON %q: %v", data, err)
		}
	})
}
