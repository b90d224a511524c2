package spire_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopTimeout bounds how long a process gets to exit after SIGTERM before
// it is killed.
const stopTimeout = 10 * time.Second

// pollInterval is how often the helpers look again while waiting.
const pollInterval = 50 * time.Millisecond

// proc is a child process whose output goes to a log file.
type proc struct {
	name string
	log  string // path of the file holding stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// credential runs a child as uid (and gid uid) with no supplementary
// groups; nil runs it as the test's own user.
func credential(uid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
}

// startProc starts bin with args, output to logPath. It registers a
// cleanup that stops the process (SIGTERM, then SIGKILL after
// stopTimeout) and, if the test failed, prints the end of its log.
// Cleanups run last-in first-out, so processes stop in reverse start order.
func startProc(t *testing.T, name, logPath string, attr *syscall.SysProcAttr, env []string, bin string, args ...string) *proc {
	t.Helper()
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatalf("%s: log file: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = attr
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("--- end of %s log (%s) ---\n%s", name, logPath, tail(logPath, 40))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout.
func (p *proc) stop(t *testing.T) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Errorf("%s did not stop within %v of SIGTERM; killing it", p.name, stopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logRecord is one line of iantd's JSON log.
type logRecord map[string]any

// str returns the string field key of r, or "".
func (r logRecord) str(key string) string {
	s, _ := r[key].(string)
	return s
}

// readLog returns the JSON records of a log file; lines that are not JSON
// (a Go panic, say) are returned as records with only "msg".
func readLog(path string) ([]logRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []logRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var r logRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			r = logRecord{"msg": sc.Text()}
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// waitLog waits until p's JSON log has a record with message msg and
// returns it. It fails the test if p exits first or ctx ends.
func waitLog(ctx context.Context, t *testing.T, p *proc, msg string) logRecord {
	t.Helper()
	for {
		recs, err := readLog(p.log)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: read log: %v", p.name, err)
		}
		for _, r := range recs {
			if r.str("msg") == msg {
				return r
			}
		}
		if p.exited() {
			t.Fatalf("%s exited (%v) before logging %q", p.name, p.err, msg)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no %q in its log: %v", p.name, msg, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// waitFor polls cond until it returns nil, failing the test with cond's
// last error when ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() error) {
	t.Helper()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last error: %v)", what, ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}
