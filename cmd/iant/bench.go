package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/bench"
	"github.com/oas-cicte/iant/pkg/region"
)

const benchLong = `Measure the whole network end to end, side by side with the bare backbone.

bench starts, in this process on loopback, the embedded backbone, the
secretariat and a node for each state (default all 35), with one analyst
subscribed at every state. For each scenario it measures, over the same
plan of bulletins (origins round robin among the states):
  - sealing and opening alone, on every CPU: the crypto ceiling;
  - IANT: focal points post through the gRPC API; latency to the author's
    answer, to the copy stored at each recipient node, to each recipient's
    analyst, and to the LAST recipient's analyst (the headline);
  - the backbone alone, twice: as many messages, of the sealed size, to
    the same recipients, with PublishInbox (8 copies in flight) and then
    each bulletin's copies as one JetStream atomic batch, consumed with
    ConsumeInbox, on a second embedded JetStream with the same mTLS.
It prints p50/p95/p99/max, bulletins/s and deliveries/s, CPU per bulletin,
bytes written, peak RSS (whole process, and divided per node), delivery
counts, the IANT/backbone ratios (each against the faster baseline), and
issue 14's targets judged met or missed from those ratios (-o json
carries them as "targets"). A scenario stops at --count bulletins or after
--duration, whichever comes first, then waits for every delivery.

--scenario overload finds IANT's capacity (broadcasts, closed loop), then
posts at twice that, one in four FLASH and the rest ROUTINE, and reports
refusals (ResourceExhausted, with their retry hints), the accepted
latency per precedence and the peak RSS; "all" does not include it.

--rate R posts open loop at R bulletins/s (for latency); --rate 0 posts
closed loop with --concurrency posters (for the ceiling).

--nats URL,... runs the nodes on an external backbone instead, such as the
three-server cluster of deploy/local-cluster.sh (start it with
--backbone-only and --states all); --pki names the PKI it trusts. The
baseline then runs on an embedded cluster of three of its own, with R3
streams, so replication is on both sides.

Examples:
  iant bench --scenario all --rate 20 --duration 15s
  iant bench --scenario overload --concurrency 8 --duration 15s
  iant bench --rate 0 --concurrency 4 --cpuprofile /tmp/bench.prof
  iant bench --states MX,US,CA,BR --scenario broadcast -o json --out results/
  deploy/local-cluster.sh up --backbone-only --states all --dir /tmp/cluster
  iant bench --nats tls://127.0.0.1:14000,tls://127.0.0.1:14001,tls://127.0.0.1:14002 --pki /tmp/cluster/pki`

// benchFlags are the flags of iant bench.
type benchFlags struct {
	states, scenario, out, cpuprofile, dir, logLevel, pki string
	nats                                                  []string
	bodySize, concurrency, count, replicas                int
	rate                                                  float64
	duration                                              time.Duration
}

func newBenchCmd(g *globals) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure end-to-end speed of a whole network against the bare backbone",
		Long:  benchLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			o, err := f.options(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runBench(cmd, g, f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.states, "states", "all", "states running a node: a number N, all, or codes such as MX,US,CA")
	fl.StringVar(&f.scenario, "scenario", "mixed", "bilateral, regional, broadcast, mixed, all (those four in turn) or overload")
	fl.IntVar(&f.bodySize, "body-size", bench.DefaultBodySize, "bulletin body in bytes")
	fl.Float64Var(&f.rate, "rate", 0, "open-loop rate in bulletins/s; 0 = closed loop")
	fl.IntVar(&f.concurrency, "concurrency", bench.DefaultConcurrency, "closed-loop posters")
	fl.IntVar(&f.count, "count", bench.DefaultCount, "at most this many bulletins per scenario")
	fl.DurationVar(&f.duration, "duration", bench.DefaultDuration, "at most this long posting per scenario")
	fl.StringVar(&f.out, "out", "", "directory to write bench.json and bench-latency.svg into")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fl.StringVar(&f.dir, "dir", "", "directory for the network's PKI and data (default a temporary one, removed after)")
	fl.StringSliceVar(&f.nats, "nats", nil, "client URLs of an external backbone, e.g. the cluster of deploy/local-cluster.sh (default: the embedded server)")
	fl.StringVar(&f.pki, "pki", "", "with --nats: the development PKI the backbone trusts (e.g. DIR/pki of deploy/local-cluster.sh)")
	fl.IntVar(&f.replicas, "replicas", 0, "with --nats: stream replicas the secretariat provisions (default 3)")
	fl.StringVar(&f.logLevel, "log-level", "error", "log level of the nodes: debug, info, warn or error")
	return cmd
}

// options checks the flags and turns them into bench options.
func (f benchFlags) options(stderr io.Writer) (bench.Options, error) {
	states, err := bench.ParseStates(f.states)
	if err != nil {
		return bench.Options{}, usagef("--states: %v", err)
	}
	scenarios, err := bench.ParseScenarios(f.scenario)
	if err != nil {
		return bench.Options{}, usagef("--scenario: %v", err)
	}
	if slices.Contains(scenarios, bench.Regional) && !sharesRegion(states) {
		return bench.Options{}, usagef("--scenario: regional needs two states of one region in --states %s", strings.Join(states, ","))
	}
	switch {
	case f.rate < 0:
		return bench.Options{}, usagef("--rate: %g is negative (0 means closed loop)", f.rate)
	case f.bodySize < 1:
		return bench.Options{}, usagef("--body-size: %d must be at least 1", f.bodySize)
	case f.concurrency < 1:
		return bench.Options{}, usagef("--concurrency: %d must be at least 1", f.concurrency)
	case f.count < 1:
		return bench.Options{}, usagef("--count: %d must be at least 1", f.count)
	case f.duration <= 0:
		return bench.Options{}, usagef("--duration: %s must be positive", f.duration)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return bench.Options{}, usagef("--log-level: %v", err)
	}
	o := bench.Options{
		States: states, Scenarios: scenarios, BodySize: f.bodySize, Rate: f.rate,
		Concurrency: f.concurrency, Count: f.count, Duration: f.duration,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})),
	}
	o.NATS, o.Replicas = f.nats, f.replicas
	if f.pki != "" {
		if o.PKIDir, err = filepath.Abs(f.pki); err != nil {
			return bench.Options{}, err
		}
	}
	if f.dir != "" {
		abs, err := filepath.Abs(f.dir)
		if err != nil {
			return bench.Options{}, err
		}
		o.Dir = abs
	}
	if err := o.Validate(); err != nil {
		return bench.Options{}, usagef("%s", strings.TrimPrefix(err.Error(), "bench: "))
	}
	return o, nil
}

// sharesRegion reports whether two of states are in one region.
func sharesRegion(states []string) bool {
	seen := map[region.Region]bool{}
	for _, s := range states {
		st, _ := region.Lookup(s)
		if seen[st.Region] {
			return true
		}
		seen[st.Region] = true
	}
	return false
}

// runBench runs the bench (profiled if asked) and writes its outputs.
func runBench(cmd *cobra.Command, g *globals, f benchFlags, o bench.Options) error {
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(cmd.Context(), o, cmd.ErrOrStderr())
	if rep == nil {
		return err
	}
	if werr := writeBench(cmd.OutOrStdout(), g.output, f.out, rep); werr != nil && err == nil {
		err = werr
	}
	return err
}

// writeBench prints the report (table or JSON) and, with --out, writes
// bench.json and the latency chart into that directory.
func writeBench(stdout io.Writer, format, out string, rep *bench.Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if format == "json" {
		if _, err := stdout.Write(data); err != nil {
			return err
		}
	} else if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if out == "" {
		return nil
	}
	if err := os.WriteFile(filepath.Join(out, "bench.json"), data, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	svg, err := os.Create(filepath.Join(out, "bench-latency.svg"))
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := rep.WriteChart(svg); err != nil {
		svg.Close()
		return fmt.Errorf("--out: %w", err)
	}
	return svg.Close()
}
