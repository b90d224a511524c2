package nettest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logs keeps every record logged through [Logs.Logger] in memory (debug
// level and up, as JSON), for tests that check what a node logged: a
// refusal, the rule that refused. Set it as testenv.Options.Logger.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogs returns an empty Logs whose records are written to t's log if
// t fails.
func NewLogs(t testing.TB) *Logs {
	l := &Logs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", l.String())
		}
	})
	return l
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns every record logged so far, one JSON object a line.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a logger writing to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Count returns how many records carry every attribute of attrs, each
// "key=value" (the level is the key "level", e.g. "level=WARN"; the
// message "msg"); values compare as their JSON text.
func (l *Logs) Count(attrs ...string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if matches(rec, attrs) {
			n++
		}
	}
	return n
}

func matches(rec map[string]any, attrs []string) bool {
	for _, a := range attrs {
		k, v, _ := strings.Cut(a, "=")
		got, ok := rec[k]
		if !ok || fmt.Sprint(got) != v {
			return false
		}
	}
	return true
}
