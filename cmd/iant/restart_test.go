package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// job is a CLI command running in the background, as with "&".
type job struct {
	out, errw *syncBuffer
	cancel    context.CancelFunc
	done      chan struct{} // closed when the command returned
	err       error         // what it returned, once done
}

func startJob(ctx context.Context, args ...string) *job {
	ctx, cancel := context.WithCancel(ctx)
	j := &job{out: &syncBuffer{}, errw: &syncBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		j.err = run(ctx, args, j.out, j.errw)
	}()
	return j
}

// stop cancels the job and returns its error; it may be called again.
func (j *job) stop() error {
	j.cancel()
	<-j.done
	return j.err
}

// waitFor polls the job's stdout until it contains want; it fails if the
// job ends first or the deadline passes.
func (j *job) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(j.out.String(), want) {
		select {
		case <-j.done:
			t.Fatalf("job ended (%v) before printing %q; stdout %q, stderr %q", j.err, want, j.out.String(), j.errw.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 60s; stdout %q, stderr %q", want, j.out.String(), j.errw.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTailFollowsANetworkRestartedOnOtherPorts: tail keeps running while
// the whole network stops and starts again on free ports (new context
// files); it reconnects through the rewritten context file and prints
// what is posted next.
func TestTailFollowsANetworkRestartedOnOtherPorts(t *testing.T) {
	dir := t.TempDir()
	states := []string{"MX", "US"}
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: states})
	if err != nil {
		t.Fatal(err)
	}
	tail := startJob(t.Context(), "--context", ctxPath(dir, "us-analyst-analyst"), "tail", "--from-start")
	defer tail.stop()
	post := func(title string) string {
		out, errLine := iant(t, t.Context(), "--context", ctxPath(dir, "mx-focal-point-focal"), "post", "--quiet", "--title", title, "--body", "b", "--release", "US")
		if errLine != "" {
			t.Fatalf("post: %s", errLine)
		}
		return strings.TrimSpace(out)
	}
	tail.waitFor(t, post("before the restart"))
	oldPort := nw.Node("US").Addr()
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	nw, err = testenv.Start(t.Context(), testenv.Options{Dir: dir, States: states})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	if nw.Node("US").Addr() == oldPort {
		t.Logf("US listens on %s again; the test still passes, without proving the re-read", oldPort)
	}
	tail.waitFor(t, post("after the restart"))
	if err := tail.stop(); err != nil {
		t.Errorf("tail = %v", err)
	}
	if n := strings.Count(tail.out.String(), "\n"); n != 2 {
		t.Errorf("tail printed %d lines, want 2 (nothing twice):\n%s", n, tail.out.String())
	}
}

// TestSecondDemoOnTheSameDirIsRefused: the second demo names the first's
// pid and leaves the first one's context files alone.
func TestSecondDemoOnTheSameDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	first := startJob(t.Context(), "demo", "--dir", dir, "--base-port", "0", "--states", "MX,US")
	defer first.stop()
	first.waitFor(t, "ready")
	before, err := os.ReadFile(ctxPath(dir, "us-analyst-analyst"))
	if err != nil {
		t.Fatal(err)
	}
	_, errLine := iant(t, t.Context(), "demo", "--dir", dir, "--base-port", "0", "--states", "MX,US")
	want := fmt.Sprintf("--dir %s is in use by this process (pid %d), another iant demo: stop it first or choose another --dir", dir, os.Getpid())
	if errLine != want {
		t.Errorf("second demo = %q, want %q", errLine, want)
	}
	if after, err := os.ReadFile(ctxPath(dir, "us-analyst-analyst")); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the second demo changed the first one's context file: %q -> %q (%v)", before, after, err)
	}
	if err := first.stop(); err != nil {
		t.Errorf("first demo = %v", err)
	}
}

// TestStatesListsEveryNodeFromEveryNode: with free ports, every person's
// node lists every node at a real address, the secretariat's too.
func TestStatesListsEveryNodeFromEveryNode(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"JM", "MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	for _, stem := range []string{"secretariat-auditor-auditor", "jm-focal-point-focal", "mx-analyst-analyst", "us-analyst-analyst"} {
		out, errLine := iant(t, t.Context(), "--context", ctxPath(dir, stem), "states")
		if errLine != "" {
			t.Fatalf("states as %s: %s", stem, errLine)
		}
		for _, cc := range []string{"JM", "MX", "US"} {
			want := regexp.MustCompile(`(?m)^` + cc + ` .* ` + regexp.QuoteMeta(nw.Node(cc).Addr()) + `$`)
			if !want.MatchString(out) {
				t.Errorf("states as %s does not list %s at %s:\n%s", stem, cc, nw.Node(cc).Addr(), out)
			}
		}
		if strings.Contains(out, ":0\n") {
			t.Errorf("states as %s lists a port 0:\n%s", stem, out)
		}
	}
}
