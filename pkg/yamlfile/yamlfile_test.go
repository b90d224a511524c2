package yamlfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/yamlfile"
)

type target struct {
	Name  string            `yaml:"name"`
	Port  int               `yaml:"port"`
	Tags  []string          `yaml:"tags"`
	Attrs map[string]string `yaml:"attrs"`
	Items []struct {
		Type string `yaml:"type"`
	} `yaml:"items"`
	Wait time.Duration `yaml:"wait"`
	On   bool          `yaml:"on"`
}

func TestDecode(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var got target
	if err := yamlfile.Decode(write("good.yaml", "name: hub-1\nport: 4222\n---\n"), &got); err != nil || got.Name != "hub-1" || got.Port != 4222 {
		t.Fatalf("Decode(good, with a trailing ---) = %+v, %v", got, err)
	}
	tests := []struct{ name, body, want string }{
		{"unknown field", "name: a\ncolour: blue\n", `bad.yaml: line 2: unknown field "colour"`},
		{"two unknown fields", "name: a\nfoo: 1\nbar: 2\n", `bad.yaml: line 2: unknown field "foo"; line 3: unknown field "bar"`},
		{"unknown nested field", "items:\n  - {kind: x}\n", `bad.yaml: line 2: unknown field "kind"`},
		{"text for a number", "port: many\n", `bad.yaml: line 1: want a number, got "many"`},
		{"text for a list", "tags: US\n", `bad.yaml: line 1: want a list, got "US"`},
		{"list for text", "name: [a, b]\n", "bad.yaml: line 1: want text, got a list"},
		{"list for a mapping", "attrs: [a]\n", "bad.yaml: line 1: want a mapping of fields, got a list"},
		{"mapping for a list of mappings", "items: {type: x}\n", "bad.yaml: line 1: want a list, got a mapping"},
		{"bad duration", "wait: soon\n", `bad.yaml: line 1: want a duration such as 72h, got "soon"`},
		{"bad bool", "on: maybe\n", `bad.yaml: line 1: want true or false, got "maybe"`},
		{"not YAML", "name: [unclosed\n", "bad.yaml: line 1: did not find expected ',' or ']'"},
		{"empty", "", "bad.yaml: the file is empty: want one YAML document"},
		{"only a comment", "# nothing\n", "bad.yaml: the file is empty"},
		{"second document", "name: a\n---\nname: b\n", "bad.yaml: line 3: a second YAML document (after ---) is not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := yamlfile.Decode(write("bad.yaml", tt.body), &v)
			if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, tt.want)) {
				t.Fatalf("Decode = %v, want an error starting %q", err, tt.want)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "yamlfile_test") || strings.Contains(msg, "struct") {
				t.Errorf("Decode error %q spans lines or names Go types", msg)
			}
		})
	}
	if err := yamlfile.Decode(filepath.Join(dir, "missing.yaml"), &got); !os.IsNotExist(err) {
		t.Errorf("Decode(missing) = %v, want a not-exist error", err)
	}
}

// FuzzDecodeBytes: whatever the file holds, an error is one line without
// Go type names.
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{"name: a\n", "name: a\nx: 1\n", "port: x\n", "{{{", "items: {type: 1}\n", "a: x\n---\nb: y\n", "", "tags: [1, [2]]\n", "on: [\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var v target
		err := yamlfile.DecodeBytes([]byte(data), &v)
		if err == nil {
			return
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "yamlfile_test.") || strings.Contains(msg, "struct {") {
			t.Fatalf("DecodeBytes(%q) = %q: spans lines or names Go types", data, msg)
		}
	})
}
