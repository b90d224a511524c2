package yamlfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/yamlfile"
)

func TestDecode(t *testing.T) {
	type target struct {
		Name string `yaml:"name"`
		Port int    `yaml:"port"`
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var got target
	if err := yamlfile.Decode(write("good.yaml", "name: hub-1\nport: 4222\n"), &got); err != nil || got != (target{"hub-1", 4222}) {
		t.Fatalf("Decode(good) = %+v, %v", got, err)
	}
	tests := []struct{ name, body, want string }{
		{"unknown field", "name: a\ncolour: blue\n", "field colour not found"},
		{"wrong type", "port: many\n", "cannot unmarshal"},
		{"not YAML", "name: [unclosed\n", "bad.yaml"},
		{"empty", "", "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := yamlfile.Decode(write("bad.yaml", tt.body), &v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := yamlfile.Decode(filepath.Join(dir, "missing.yaml"), &got); !os.IsNotExist(err) {
		t.Errorf("Decode(missing) = %v, want a not-exist error", err)
	}
}
