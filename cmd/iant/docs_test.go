package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// repoRoot is where the documentation and deploy/ live.
const repoRoot = "../.."

// docPages are the pages whose shell blocks the tests read: README.md and
// every page under docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs pages: %v", err)
	}
	return append([]string{filepath.Join(repoRoot, "README.md")}, pages...)
}

// block is one ```sh block of a page.
type block struct {
	page string
	line int  // of its first command line
	run  bool // marked <!-- run... --> : the docs test runs it against the demo
	text string
}

// shBlocks reads the ```sh blocks of a markdown page.
func shBlocks(t *testing.T, page string) []block {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		b := block{page: page, line: i + 2, run: i > 0 && strings.HasPrefix(lines[i-1], "<!-- run")}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		b.text = strings.Join(body, "\n")
		out = append(out, b)
	}
	return out
}

// session is one terminal: its variables and background jobs.
type session struct {
	t    *testing.T
	ctx  context.Context
	vars map[string]string
	jobs []*job // %1 is jobs[0]
	args [][]string
}

func newSession(t *testing.T, ctx context.Context) *session {
	return &session{t: t, ctx: ctx, vars: map[string]string{}}
}

// runBlock runs every line of b in order.
func (s *session) runBlock(b block) {
	for _, l := range parseBlock(b.text, b.line) {
		s.runLine(b, l)
	}
}

var (
	assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	kill       = regexp.MustCompile(`^kill %([0-9]+)$`)
)

func (s *session) runLine(b block, l docLine) {
	t := s.t
	t.Helper()
	where := fmt.Sprintf("%s:%d", filepath.Base(b.page), l.n)
	if heredoc.MatchString(l.text) {
		writeHeredoc(t, l)
		return
	}
	l.want, l.note = expand(l.want, s.vars), expand(l.note, s.vars) // "# -> posted $ID ..."
	if m := kill.FindStringSubmatch(l.text); m != nil {
		n := 0
		fmt.Sscan(m[1], &n)
		if n < 1 || n > len(s.jobs) {
			t.Fatalf("%s: no job %%%d", where, n)
		}
		if err := s.jobs[n-1].stop(); !stopped(err) {
			t.Errorf("%s: job %%%d (iant %q) ended with %v", where, n, s.args[n-1], err)
		}
		return
	}
	if m := assignment.FindStringSubmatch(l.text); m != nil {
		s.vars[m[1]] = s.value(where, l, m[2])
		return
	}
	args := s.command(where, l.text)
	if strings.HasSuffix(l.text, "&") {
		s.jobs = append(s.jobs, startJob(s.ctx, args...))
		s.args = append(s.args, args)
		return
	}
	s.run(where, l, args)
}

// value evaluates the right side of an assignment.
func (s *session) value(where string, l docLine, v string) string {
	if strings.HasPrefix(v, "$(") && strings.HasSuffix(v, ")") {
		o := s.run(where, l, s.command(where, v[2:len(v)-1]))
		return strings.TrimSpace(o.out)
	}
	ws, err := words(v, s.vars)
	if err != nil || len(ws) != 1 {
		s.t.Fatalf("%s: cannot assign %q: %v", where, v, err)
	}
	return ws[0]
}

// command reads `iant ARGS [&]` into the CLI's arguments.
func (s *session) command(where, text string) []string {
	ws, err := words(strings.TrimSuffix(strings.TrimSpace(text), "&"), s.vars)
	if err != nil {
		s.t.Fatalf("%s: %v", where, err)
	}
	if len(ws) == 0 || ws[0] != "iant" {
		s.t.Fatalf("%s: the docs test runs only iant commands, assignments, cat <<'EOF' and kill %%N, not %q", where, text)
	}
	return ws[1:]
}

// run runs a command until it gives the documented outcome (a post only
// once), then waits for the background tails to print a posted bulletin.
func (s *session) run(where string, l docLine, args []string) outcome {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(retryFor)
	for {
		o := s.once(args)
		why := l.check(o)
		if why == "" {
			if slices.Contains(args, "post") && o.errLine == "" {
				s.waitForTails(where, ulid.FindString(o.out))
			}
			return o
		}
		if slices.Contains(args, "post") || time.Now().After(deadline) {
			t.Fatalf("%s: iant %q: %s", where, args, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *session) once(args []string) outcome {
	ctx, cancel := context.WithTimeout(s.ctx, retryFor)
	defer cancel()
	o := outcome{}
	o.out, o.errLine = iant(s.t, ctx, args...)
	return o
}

// waitForTails waits until every running background tail printed id, as
// a person watching it would before going on.
func (s *session) waitForTails(where, id string) {
	if id == "" {
		s.t.Fatalf("%s: a post printed no bulletin id", where)
	}
	for i, j := range s.jobs {
		if !slices.Contains(s.args[i], "tail") {
			continue
		}
		select {
		case <-j.done:
			continue
		default:
		}
		j.waitFor(s.t, id)
	}
}

// stopped reports whether a job's error is only that it was stopped (a
// person's kill or Ctrl-C), or none.
func stopped(err error) bool {
	return err == nil || errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled
}

// close stops the jobs still running; each must end without an error.
func (s *session) close() {
	for i, j := range s.jobs {
		if err := j.stop(); !stopped(err) {
			s.t.Errorf("job %%%d (iant %q) ended with %v", i+1, s.args[i], err)
		}
	}
}
