package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// Warm-up and settling.
const (
	// warmupTimeout bounds the warm-up of each side.
	warmupTimeout = 2 * time.Minute
	// settle is how long the idle network is watched before its memory is
	// read.
	settle = 3 * time.Second
	// calmCPU is the process CPU use (CPU seconds per second) below which
	// the network counts as idle, calmWindow how long it is measured at a
	// time, and calmLimit how long calm waits at most.
	calmCPU    = 0.15
	calmWindow = time.Second
	calmLimit  = time.Minute
)

// Run starts a network of o.States in this process, warms it up, and runs
// each scenario of o: the seal-and-open ceiling, IANT end to end, then the
// bare backbone with the same plan. It writes a progress line to progress
// (nil discards it) about once a second. Every goroutine and the network
// are stopped before Run returns. If ctx ends, Run returns the report of
// the scenarios finished so far with ctx's error.
func Run(ctx context.Context, o Options, progress io.Writer) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if progress == nil {
		progress = io.Discard
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Dir == "" {
		tmp, err := os.MkdirTemp("", "iant-bench-*")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(tmp)
		o.Dir = tmp
	}
	r := &runner{o: o, log: log, progress: progress, rep: newReport(o)}
	return r.run(ctx)
}

// runner is one Run's state.
type runner struct {
	o        Options
	log      *slog.Logger
	progress io.Writer
	rep      *Report
	tag      string
	phaseID  int

	nw   *testenv.Network
	iant *iantDriver
	base *baseline
	seal *sealer
}

func newReport(o Options) *Report {
	cfg := Config{States: o.States, BodySize: o.BodySize, Count: o.Count, DurationSec: o.Duration.Seconds()}
	if o.Rate > 0 {
		cfg.Mode, cfg.Rate = "open-loop", o.Rate
	} else {
		cfg.Mode, cfg.Concurrency = "closed-loop", o.Concurrency
	}
	return &Report{
		Version: ReportVersion, Started: time.Now().UTC().Truncate(time.Second),
		Machine: Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), LoadAverage: loadAverage()},
		Config:  cfg,
	}
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	defer r.close()
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	for _, s := range r.o.Scenarios {
		sr, err := r.scenario(ctx, s)
		if err != nil {
			return r.rep, fmt.Errorf("bench: %s: %w", s, err)
		}
		r.rep.Scenarios = append(r.rep.Scenarios, sr)
		r.rep.Targets = judgeTargets(r.rep)
	}
	return r.rep, nil
}

// start brings up the network, the clients, the baseline and the sealer,
// warms both sides up and reads the idle memory.
func (r *runner) start(ctx context.Context) error {
	var tb [4]byte
	rand.Read(tb[:])
	r.tag = hex.EncodeToString(tb[:])
	r.rep.Network.BaseRSS, _ = memory()
	r.rep.Network.Nodes = len(r.o.States) + 1
	t0 := time.Now()
	fmt.Fprintf(r.progress, "bench: starting %d state nodes and the secretariat\n", len(r.o.States))
	r.rep.Network.Backbone = "embedded server (in this process)"
	if len(r.o.NATS) > 0 {
		r.rep.Network.Backbone = fmt.Sprintf("external %s, R%d streams", strings.Join(r.o.NATS, ","), r.o.Replicas)
	}
	nw, err := testenv.Start(ctx, testenv.Options{
		Dir: r.o.Dir, States: r.o.States, Logger: r.o.Logger,
		BackboneURLs: r.o.NATS, BackboneReplicas: r.o.Replicas, PKIDir: r.o.PKIDir,
	})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	r.nw = nw
	if r.iant, err = startIANT(ctx, nw, r.tag, r.o.BodySize, r.log); err != nil {
		return fmt.Errorf("bench: clients: %w", err)
	}
	r.rep.Network.StartSeconds = round3(time.Since(t0).Seconds())
	if r.seal, err = newSealer(nw.TD, r.o.States, makeBody(r.o.BodySize)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := r.warmup(ctx, "iant", r.iant.register, r.iant.sender); err != nil {
		return err
	}
	r.calm(ctx)
	r.idleMemory()
	servers := 1
	if r.o.Replicas > 1 {
		servers = 3 // replication on both sides
	}
	if r.base, err = startBaseline(ctx, nw, filepath.Join(r.o.Dir, "baseline-"+r.tag), r.tag, servers, r.log); err != nil {
		return fmt.Errorf("bench: baseline: %w", err)
	}
	size := func(m message) int { return r.o.BodySize }
	return r.warmup(ctx, "baseline", r.base.register, func(id int) sender { return r.base.sender(id, size) })
}

// calm waits until the process uses less than calmCPU over a calmWindow
// (at most calmLimit): work a phase left behind, such as the delivery
// audit catching up, must not be charged to the next phase.
func (r *runner) calm(ctx context.Context) {
	end := time.Now().Add(calmLimit)
	for time.Now().Before(end) {
		cpu0, t0 := cpuTime(), time.Now()
		if !sleepUntil(ctx, t0.Add(calmWindow)) {
			return
		}
		if (cpuTime()-cpu0).Seconds()/time.Since(t0).Seconds() < calmCPU {
			return
		}
	}
	fmt.Fprintf(r.progress, "bench: the process still uses more than %.0f%% of a CPU after %s; going on\n", calmCPU*100, calmLimit)
}

// idleMemory reads the RSS of the warmed-up, idle network, and the CPU
// and storage writes it uses meanwhile.
func (r *runner) idleMemory() {
	runtime.GC()
	cpu0, disk0, t0 := cpuTime(), diskWrites(), time.Now()
	time.Sleep(settle)
	el := time.Since(t0).Seconds()
	r.rep.Network.IdleCPU = round3((cpuTime() - cpu0).Seconds() / el)
	r.rep.Network.IdleDiskWrites = int64(float64(diskWrites()-disk0) / el)
	rss, _ := memory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := &r.rep.Network
	n.IdleRSS, n.IdleRSSPerNode, n.IdleHeap = rss, rss/int64(n.Nodes), int64(ms.HeapInuse)
}

// warmup sends one broadcast from every state and waits until all are
// delivered: subscriptions and consumers are then live and directory
// entries cached, as in a network that has been running.
func (r *runner) warmup(ctx context.Context, side string, register func(int, *collector), send func(int) sender) error {
	plan := makePlan(Broadcast, r.o.States, len(r.o.States))
	o := r.o
	o.Rate, o.Count, o.Duration, o.DrainTimeout = 0, len(plan), warmupTimeout, warmupTimeout
	c := newCollector(plan)
	id := r.nextPhase()
	register(id, c)
	p := &phase{label: side + " warm-up", plan: plan, send: send(id), opts: o, progress: r.progress}
	res := p.run(ctx, c)
	if err := ctx.Err(); err != nil {
		return err
	}
	if res.Failed > 0 || res.Missing > 0 {
		return fmt.Errorf("bench: %s warm-up: %d of %d posts failed (%s), %d of %d deliveries missing",
			side, res.Failed, len(plan), res.FirstError, res.Missing, res.Expected)
	}
	return nil
}

func (r *runner) nextPhase() int {
	r.phaseID++
	return r.phaseID
}

// scenario measures the ceiling, IANT and both baselines for s.
func (r *runner) scenario(ctx context.Context, s Scenario) (ScenarioReport, error) {
	plan := makePlan(s, r.o.States, r.o.Count)
	sr := ScenarioReport{Scenario: s.String(), FanOut: round3(meanFanOut(plan))}
	sizes, err := r.seal.sizes(plan)
	if err != nil {
		return sr, err
	}
	r.calm(ctx)
	fmt.Fprintf(r.progress, "bench %s: seal-and-open ceiling\n", s)
	if sr.Ceiling, err = r.seal.ceiling(ctx, plan, r.o.CeilingTime); err != nil {
		return sr, err
	}
	o := r.o
	if s == Overload {
		if sr.Overload, err = r.capacity(ctx, plan); err != nil {
			return sr, err
		}
		o.Rate = sr.Overload.OfferedPerSecond
	}
	sr.IANT, plan = r.iantPhase(ctx, s.String(), plan, o)
	if err := ctx.Err(); err != nil {
		return sr, err
	}
	sr.Baseline = r.baseline(ctx, s, plan, sizes, o, false) // the same number of messages
	sr.BaselineBatch = r.baseline(ctx, s, plan, sizes, o, true)
	sr.Ratios, sr.FasterBaseline = ratios(&sr)
	sr.LoadAverage = loadAverage()
	return sr, ctx.Err()
}

// iantPhase posts plan through IANT with o and returns the figures and
// the part of plan that was posted.
func (r *runner) iantPhase(ctx context.Context, label string, plan []message, o Options) (Result, []message) {
	r.calm(ctx)
	id := r.nextPhase()
	c := newCollector(plan)
	r.iant.register(id, c)
	p := &phase{label: "iant " + label, plan: plan, send: r.iant.sender(id), opts: o, nodes: r.rep.Network.Nodes, progress: r.progress}
	res := p.run(ctx, c)
	res.PayloadBytes = float64(r.o.BodySize)
	begun, _, _, _ := c.counts()
	return res, plan[:begun]
}

// capacity measures IANT's broadcasts/s in closed loop (a third of the
// duration, at least 5 s) and returns twice that as the rate to offer.
func (r *runner) capacity(ctx context.Context, plan []message) (*OverloadReport, error) {
	o := r.o
	o.Rate, o.Duration = 0, max(o.Duration/3, 5*time.Second)
	res, _ := r.iantPhase(ctx, "overload capacity", plan, o)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if res.BulletinsPerSecond <= 0 || res.Posted == 0 {
		return nil, fmt.Errorf("capacity: nothing delivered in closed loop (%s)", res.FirstError)
	}
	return &OverloadReport{CapacityPerSecond: res.BulletinsPerSecond, OfferedPerSecond: round3(2 * res.BulletinsPerSecond), Capacity: res}, nil
}

// baseline sends plan through the bare backbone with o, each message the
// sealed size of its fan-out, its copies one by one or as a batch.
func (r *runner) baseline(ctx context.Context, s Scenario, plan []message, sizes map[int]int, o Options, batch bool) Result {
	size := func(m message) int { return sizes[len(m.recipients)] }
	r.calm(ctx)
	id := r.nextPhase()
	c := newCollector(plan)
	r.base.register(id, c)
	label, send := "backbone "+s.String(), r.base.sender(id, size)
	if batch {
		label, send = "backbone batch "+s.String(), r.base.batchSender(id, size)
	}
	p := &phase{label: label, plan: plan, send: send, opts: o, nodes: r.rep.Network.Nodes, progress: r.progress}
	res := p.run(ctx, c)
	total := 0
	for _, m := range plan {
		total += size(m)
	}
	if len(plan) > 0 {
		res.PayloadBytes = round3(float64(total) / float64(len(plan)))
	}
	return res
}

// close stops everything start started, in reverse order.
func (r *runner) close() {
	if r.iant != nil {
		r.iant.close()
	}
	if r.base != nil {
		r.base.close()
	}
	if r.nw != nil {
		if err := r.nw.Close(); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Warn("bench: network close", "err", err)
		}
	}
}
