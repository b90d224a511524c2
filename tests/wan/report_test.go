package wan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// report collects what the test measured: into the test log as it goes,
// and into a file at the end ($IANT_WAN_REPORT, default
// iant-wan-report.txt in the temporary directory), for people to read.
type report struct {
	t     *testing.T
	lines []string
}

func newReport(t *testing.T) *report {
	r := &report{t: t}
	r.line("IANT over a simulated inter-American WAN (tests/wan), %s", time.Now().UTC().Format(time.RFC3339))
	t.Cleanup(r.write)
	return r
}

// line adds a line to the report and the test log.
func (r *report) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.t.Log(s)
	r.lines = append(r.lines, s)
}

// latencies adds a line summing up ds: count, p50, p95, max.
func (r *report) latencies(what string, ds []time.Duration) {
	if len(ds) == 0 {
		r.line("%-44s none", what)
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	r.line("%-44s n=%-4d p50 %-8s p95 %-8s max %s", what, len(s), ms(pct(0.5)), ms(pct(0.95)), ms(s[len(s)-1]))
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// write writes the report file.
func (r *report) write() {
	path := os.Getenv("IANT_WAN_REPORT")
	if path == "" {
		path = filepath.Join(os.TempDir(), "iant-wan-report.txt")
	}
	status := "passed"
	if r.t.Failed() {
		status = "FAILED"
	}
	body := strings.Join(append(r.lines, "test "+status), "\n") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil { //nolint:gosec // a report for people
		r.t.Errorf("write the report: %v", err)
		return
	}
	r.t.Logf("report written to %s", path)
}
