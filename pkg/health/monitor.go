package health

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultTimeout bounds one run of one check.
const DefaultTimeout = 5 * time.Second

// Check is one health check.
type Check struct {
	// Name is short, lower case, stable: it names the check in the gRPC
	// health service, the metrics and `iant status`.
	Name string
	// Run returns nil when the node is well in this respect, else an
	// error whose text tells an operator what is wrong. It must return
	// when ctx ends.
	Run func(ctx context.Context) error
}

// Result is the latest outcome of a check.
type Result struct {
	Name string
	OK   bool
	// Detail is the failed check's error text; "" when OK.
	Detail string
	// Since is when the check last changed between OK and failing (its
	// first run, if it never did).
	Since time.Time
	// Checked is when the check last ran.
	Checked time.Time
}

// Options configure a [Monitor]. Zero values mean the documented default.
type Options struct {
	// Timeout bounds each run of a check; default [DefaultTimeout].
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Report, if set, is told of every result, changed or not, in the
	// order of the checks, after each run.
	Report func(Result)
}

// Monitor runs checks and keeps their latest results.
type Monitor struct {
	checks []Check
	opts   Options

	mu      sync.Mutex
	results []Result // in the order of checks; Checked zero before the first run
}

// NewMonitor returns a monitor of checks, none run yet.
func NewMonitor(checks []Check, opts Options) *Monitor {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Monitor{checks: checks, opts: opts, results: make([]Result, len(checks))}
	for i, c := range checks {
		m.results[i] = Result{Name: c.Name, Detail: "not checked yet"}
	}
	return m
}

// CheckNow runs every check at once, each bounded by the timeout,
// records and reports the results and returns them.
func (m *Monitor) CheckNow(ctx context.Context) []Result {
	errs := make([]error, len(m.checks))
	var wg sync.WaitGroup
	for i, c := range m.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
			defer cancel()
			errs[i] = c.Run(cctx)
			if errs[i] == nil && cctx.Err() != nil && ctx.Err() == nil {
				errs[i] = fmt.Errorf("check timed out after %s", m.opts.Timeout)
			}
		})
	}
	wg.Wait()
	now := m.opts.Now()
	m.mu.Lock()
	for i, err := range errs {
		r := &m.results[i]
		ok := err == nil
		if r.Checked.IsZero() || r.OK != ok {
			r.Since = now
		}
		r.OK, r.Checked, r.Detail = ok, now, ""
		if err != nil {
			r.Detail = err.Error()
		}
	}
	out := append([]Result(nil), m.results...)
	m.mu.Unlock()
	if m.opts.Report != nil {
		for _, r := range out {
			m.opts.Report(r)
		}
	}
	return out
}

// Run runs the checks every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.CheckNow(ctx)
		}
	}
}

// Results returns the latest results, in the order of the checks.
func (m *Monitor) Results() []Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Result(nil), m.results...)
}

// Healthy reports whether every result is OK (and there is one at least
// checked).
func Healthy(rs []Result) bool {
	for _, r := range rs {
		if !r.OK {
			return false
		}
	}
	return true
}

// Failing returns a one-line summary of the failing results, e.g.
// "disk: data dir /x: 10 MiB free, below the minimum 256 MiB; svid: ...",
// or "" when all pass.
func Failing(rs []Result) string {
	s := ""
	for _, r := range rs {
		if r.OK {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += r.Name + ": " + r.Detail
	}
	return s
}
