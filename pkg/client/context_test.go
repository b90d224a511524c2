package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadContextNamesTheMissingFile: a mistyped context path names the
// file and offers the context files that hold what was typed, or says
// the directory itself is missing.
func TestLoadContextNamesTheMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"us-analyst-analyst.yaml", "us-focal-point-focal.yaml", "mx-analyst-analyst.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "us-analyst.yaml"), "did you mean " + filepath.Join(dir, "us-analyst-analyst.yaml") + "?"},
		{filepath.Join(dir, "ca-analyst-analyst.yaml"), "holds 3 context files"},
		{filepath.Join(dir, "nowhere", "us-analyst-analyst.yaml"), "nor does its directory"},
	} {
		_, err := LoadContext(tc.path)
		if err == nil || !strings.Contains(err.Error(), "context file "+tc.path+" does not exist") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadContext(%s): %v, want it to name the file and %q", tc.path, err, tc.want)
		}
	}
}
