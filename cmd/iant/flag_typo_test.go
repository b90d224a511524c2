package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestFlagTypoSuggestsTheFlag: a mistyped flag is named and the nearest
// flag of the command offered; a flag far from any gets no guess.
func TestFlagTypoSuggestsTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"post", "--title", "T", "--relase", "US"}, "unknown flag: --relase; did you mean --release?"},
		{[]string{"post", "--precedance", "flash"}, "unknown flag: --precedance; did you mean --precedence?"},
		{[]string{"--contxt", "x.yaml", "list"}, "unknown flag: --contxt; did you mean --context?"},
		{[]string{"list", "--zzzzzzzz"}, "unknown flag: --zzzzzzzz"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || errorText(err) != "InvalidArgument: "+tc.want {
			t.Errorf("iant %s: %v, want %q", strings.Join(tc.args, " "), err, "InvalidArgument: "+tc.want)
		}
	}
}

// TestMissingContextIsAUsageError: a mistyped --context is one
// InvalidArgument line naming the flag and the file.
func TestMissingContextIsAUsageError(t *testing.T) {
	path := t.TempDir() + "/us-analyst.yaml"
	for _, cmd := range [][]string{{"list"}, {"whoami"}, {"status"}} {
		err := run(context.Background(), append([]string{"--context", path}, cmd...), io.Discard, io.Discard)
		if want := "InvalidArgument: --context: context file " + path + " does not exist"; err == nil || !strings.HasPrefix(errorText(err), want) {
			t.Errorf("iant --context %s %s: %v, want %q…", path, cmd[0], err, want)
		}
	}
}
