package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeTour runs the README's first command, `go run ./cmd/iant
// demo`, as the CLI's run function (with --base-port 0 added, the one
// change: tests must not take fixed ports), with the demo's default of all
// 35 member states, then every block of README.md and docs/*.md marked
// <!-- run -->, as written, one terminal session per page, in a directory
// standing for the repository root (deploy/ is linked into it). Not run:
// the `go build` line before the tour, which makes the `iant` those blocks
// call.
func TestReadmeTour(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	readme := shBlocks(t, filepath.Join(repoRoot, "README.md"))
	first := strings.Fields(parseBlock(readme[0].text, readme[0].line)[0].text)
	if strings.Join(first, " ") != "go run ./cmd/iant demo" {
		t.Fatalf("the README's first command is %q, want go run ./cmd/iant demo", first)
	}
	pages := docPages(t)
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "deploy"), filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	demo := startJob(t.Context(), append(first[3:], "--base-port", "0")...)
	defer demo.stop()
	waitReady(t, demo)
	if !strings.Contains(demo.out.String(), ", 35 states\n") {
		t.Errorf("the demo does not run the 35 member states:\n%s", demo.out.String())
	}
	ran := 0
	for _, page := range pages {
		var blocks []block
		for _, b := range shBlocks(t, filepath.Join(root, strings.TrimPrefix(page, repoRoot+"/"))) {
			if b.run {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		t.Run(filepath.Base(page), func(t *testing.T) {
			s := newSession(t, t.Context())
			defer s.close()
			for _, b := range blocks {
				s.runBlock(b)
				ran++
			}
		})
	}
	if ran < 3 {
		t.Errorf("ran %d blocks; the README's tour alone has 3", ran)
	}
	if err := demo.stop(); err != nil {
		t.Errorf("demo = %v", err)
	}
}

// waitReady waits for the demo's "ready" line; 35 nodes start in seconds,
// though a loaded machine under the race detector may need minutes.
func waitReady(t *testing.T, demo *job) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for !strings.Contains(demo.out.String(), "ready") {
		select {
		case <-demo.done:
			t.Fatalf("demo ended: %v\n%s", demo.err, demo.errw.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not ready within 4 minutes:\n%s", demo.errw.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadmeIsShort keeps README.md to what a newcomer needs; the rest is
// in docs/.
func TestReadmeIsShort(t *testing.T) {
	info, err := os.Stat(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() >= 16000 {
		t.Errorf("README.md is %d bytes, want under 16 KB (16,000 bytes): move detail into docs/", info.Size())
	}
}

// TestDocsLinksResolve: every relative link of README.md and docs/ names
// a file of the repository.
func TestDocsLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`)
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := filepath.Join(filepath.Dir(page), m[1])
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s: %v", page, m[1], err)
			}
		}
	}
}

// TestDocsCommandsAreReal checks every shell line of README.md and docs/
// that no other test runs: an iant command must parse (its subcommand,
// flags and arguments exist), the configs iantd and iant-backbone are
// given must exist, and so must the scripts called. tests/faults runs
// deploy/local-cluster.sh, tests/spire the SPIRE steps, tests/deploy the
// systemd units.
func TestDocsCommandsAreReal(t *testing.T) {
	for _, page := range docPages(t) {
		vars := map[string]string{} // a page is one terminal session
		for _, b := range shBlocks(t, page) {
			for _, l := range parseBlock(b.text, b.line) {
				if l.failing() {
					continue // documents an error; run by TestReadmeTour when marked
				}
				if err := checkDocLine(l.text, vars); err != nil {
					t.Errorf("%s:%d: %q: %v", page, l.n, l.text, err)
				}
			}
		}
	}
}
