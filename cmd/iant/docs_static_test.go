package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	goRun     = regexp.MustCompile(`(?:^|do )go run \./cmd/(iant-backbone|iantd|iant)(\s[^&;]*|$)`)
	iantLine  = regexp.MustCompile(`^iant\b(.*)$`)
	scriptRun = regexp.MustCompile(`^((?:deploy|scripts)/[\w./-]+\.sh)\b`)
	anyVar    = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// checkDocLine checks one documented shell line without running it (see
// TestDocsCommandsAreReal); vars collects the block's assignments.
func checkDocLine(text string, vars map[string]string) error {
	text = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), "&"))
	if m := assignment.FindStringSubmatch(text); m != nil && !strings.HasPrefix(m[2], "$(") {
		if ws, err := words(staticExpand(m[2], vars), nil); err == nil && len(ws) == 1 {
			vars[m[1]] = ws[0]
		}
		return nil
	}
	if m := iantLine.FindStringSubmatch(text); m != nil {
		return checkIant(m[1], vars)
	}
	if m := goRun.FindStringSubmatch(text); m != nil {
		if m[1] == "iant" {
			return checkIant(m[2], vars)
		}
		return checkConfigFlag(m[2], vars)
	}
	if m := scriptRun.FindStringSubmatch(text); m != nil {
		info, err := os.Stat(filepath.Join(repoRoot, m[1]))
		if err != nil {
			return err
		}
		if info.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", m[1])
		}
	}
	return nil
}

// staticExpand replaces the variables of s: known ones by their value,
// others (e.g. an id a command printed) by a word standing for them.
func staticExpand(s string, vars map[string]string) string {
	return anyVar.ReplaceAllStringFunc(s, func(m string) string {
		name := anyVar.FindStringSubmatch(m)[1]
		if v, ok := vars[name]; ok {
			return v
		}
		return "X"
	})
}

// checkIant parses an iant command line with the CLI's own command tree:
// the subcommand, its flags and its arguments must be valid.
func checkIant(rest string, vars map[string]string) error {
	args, err := words(staticExpand(rest, vars), nil)
	if err != nil {
		return err
	}
	root := newRootCmd(&globals{})
	cmd, flags, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no iant subcommand in %q", args)
	}
	if err := cmd.ParseFlags(flags); err != nil {
		return fmt.Errorf("iant %s: %w", cmd.Name(), err)
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

// checkConfigFlag checks that the -config file of an iantd or
// iant-backbone command line exists (a shell loop's $i stands for any).
func checkConfigFlag(rest string, vars map[string]string) error {
	ws, err := words(anyVar.ReplaceAllString(rest, "*"), nil)
	if err != nil {
		return err
	}
	for i, w := range ws {
		if w != "-config" || i+1 == len(ws) {
			continue
		}
		files, err := filepath.Glob(filepath.Join(repoRoot, ws[i+1]))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no config file %s", ws[i+1])
		}
		return nil
	}
	return fmt.Errorf("no -config FILE")
}

// TestCheckDocLine: the static check refuses what does not exist.
func TestCheckDocLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{"iant --context $C/x.yaml get $ID", true},
		{"go run ./cmd/iant bench --scenario all --rate 1 --duration 60s --out bench-light", true},
		{"iant --context x.yaml get", false},
		{"iant --context x.yaml frobnicate", false},
		{"iant --context x.yaml list --colour red", false},
		{"go run ./cmd/iant demo --no-such-flag", false},
		{"go run ./cmd/iantd -config deploy/iantd/mx.yaml &", true},
		{"go run ./cmd/iantd -config deploy/iantd/nowhere.yaml &", false},
		{"for i in 1 2 3; do go run ./cmd/iant-backbone -config deploy/nats/hub-$i.yaml & done", true},
		{"deploy/local-cluster.sh up --dir /tmp/iant --states MX,US,CA", true},
		{"deploy/no-such-script.sh up", false},
		{"spire-server run -config deploy/spire/server.conf &", true},
	}
	for _, tt := range tests {
		if err := checkDocLine(tt.line, map[string]string{}); (err == nil) != tt.ok {
			t.Errorf("checkDocLine(%q) = %v, want ok %v", tt.line, err, tt.ok)
		}
	}
}
