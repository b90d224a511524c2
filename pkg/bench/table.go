package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	c, m, n := r.Config, r.Machine, r.Network
	load := fmt.Sprintf("closed loop with %d posters", c.Concurrency)
	if c.Mode == "open-loop" {
		load = fmt.Sprintf("open loop at %g bulletins/s", c.Rate)
	}
	ew.printf("IANT bench: %d states (%d nodes in one process), body %d B, %s, up to %d bulletins or %gs per scenario\n",
		len(c.States), n.Nodes, c.BodySize, load, c.Count, c.DurationSec)
	ew.printf("machine: %s/%s, %d CPUs (GOMAXPROCS %d), %s, load average %.2f at the start\n", m.OS, m.Arch, m.CPUs, m.GOMAXPROCS, m.GoVersion, m.LoadAverage)
	ew.printf("network: up in %.1f s; idle RSS %s = %s per node (process RSS / %d nodes); Go heap in use %s\n",
		n.StartSeconds, mib(n.IdleRSS), mib(n.IdleRSSPerNode), n.Nodes, mib(n.IdleHeap))
	ew.printf("idle network: %.1f%% of a CPU, %s/s written to storage\n", n.IdleCPU*100, kib(n.IdleDiskWrites))
	ew.printf("backbone: %s; baseline: an embedded server with the same TLS\n", n.Backbone)
	for _, s := range r.Scenarios {
		ew.printf("\n")
		writeScenario(ew, &s, n.Nodes, c.Mode == "closed-loop")
	}
	writeTargets(ew, r.Targets)
	return ew.err
}

// writeTargets writes issue 14's targets judged from the run.
func writeTargets(ew *errWriter, ts []Target) {
	if len(ts) == 0 {
		return
	}
	met := 0
	for _, t := range ts {
		if t.Status == "met" {
			met++
		}
	}
	ew.printf("\ntargets (ratios to the faster baseline of this run): %d of %d met\n", met, len(ts))
	for _, t := range ts {
		ew.printf("  %s\n", t)
	}
}

func writeScenario(ew *errWriter, s *ScenarioReport, nodes int, closedLoop bool) {
	i, b, bb, c := &s.IANT, &s.Baseline, &s.BaselineBatch, &s.Ceiling
	if o := s.Overload; o != nil {
		ew.printf("== %s: capacity %.1f bulletins/s in closed loop (p99 %.1f ms), offered %.1f/s open loop\n",
			s.Scenario, o.CapacityPerSecond, o.Capacity.LastRecipient.P99, o.OfferedPerSecond)
	}
	ew.printf("== %s: fan-out %.1f, body %.0f B, sealed copy %.0f B (baseline payload %.0f B); load average %.2f at the end\n",
		s.Scenario, s.FanOut, i.PayloadBytes, c.SealedBytes, b.PayloadBytes, s.LoadAverage)
	ew.printf("%-38s %6s %9s %9s %9s %9s\n", "latency (ms)", "n", "p50", "p95", "p99", "max")
	rows := []struct {
		name string
		s    Summary
	}{
		{"IANT post (author's answer)", i.Post},
		{"IANT post → stored at each recipient", i.Stored},
		{"IANT post → pushed to each analyst", i.Pushed},
		{"IANT post → LAST recipient's analyst", i.LastRecipient},
		{"backbone publish of all copies", b.Post},
		{"backbone post → stored (JetStream)", b.Stored},
		{"backbone post → each consumer", b.Pushed},
		{"backbone post → LAST consumer", b.LastRecipient},
		{"batch backbone publish of all copies", bb.Post},
		{"batch backbone post → LAST consumer", bb.LastRecipient},
	}
	for _, r := range rows {
		ew.printf("%-38s %6d %9.2f %9.2f %9.2f %9.2f\n", r.name, r.s.N, r.s.P50, r.s.P95, r.s.P99, r.s.Max)
	}
	for _, cl := range i.Classes {
		ew.printf("IANT %-8s sent %d, accepted %d, refused %d; accepted post p50 %.2f p99 %.2f ms, last analyst p50 %.2f p99 %.2f ms\n",
			cl.Precedence, cl.Sent, cl.Posted, cl.Refused, cl.Post.P50, cl.Post.P99, cl.LastRecipient.P50, cl.LastRecipient.P99)
	}
	ew.printf("throughput: IANT %.1f bulletins/s, %.0f deliveries/s; backbone %.1f bulletins/s, %.0f deliveries/s; batch %.1f, %.0f\n",
		i.BulletinsPerSecond, i.DeliveriesPerSecond, b.BulletinsPerSecond, b.DeliveriesPerSecond, bb.BulletinsPerSecond, bb.DeliveriesPerSecond)
	ew.printf("seal+open alone: %.1f bulletins/s on %d CPUs (seal %.2f ms, open %.2f ms per copy)\n",
		c.PerSecond, c.Workers, c.SealMs, c.OpenMs)
	ew.printf("CPU per bulletin (whole process): IANT %.1f ms, backbone %.1f ms, batch %.1f ms, seal+open alone %.1f ms\n",
		i.CPUPerBulletin*1e3, b.CPUPerBulletin*1e3, bb.CPUPerBulletin*1e3, c.CPUPerBulletin*1e3)
	ew.printf("written to storage per bulletin: IANT %s, backbone %s, batch %s; per delivery %s, %s, %s\n",
		kib(i.DiskWritesPerBulletin), kib(b.DiskWritesPerBulletin), kib(bb.DiskWritesPerBulletin),
		kib(i.DiskWritesPerDelivery), kib(b.DiskWritesPerDelivery), kib(bb.DiskWritesPerDelivery))
	ew.printf("peak RSS (process): IANT %s (%s per node), backbone %s, batch %s (/%d nodes)\n",
		mib(i.PeakRSS), mib(i.PeakRSSPerNode), mib(b.PeakRSS), mib(bb.PeakRSS), nodes)
	writeCounts(ew, "IANT", i)
	writeCounts(ew, "backbone", b)
	writeCounts(ew, "batch", bb)
	rt := s.Ratios
	ew.printf("IANT/faster backbone (%s at p99): last-recipient p50 %s, p99 %s, author's answer p50 %s, throughput %s, CPU %s, bytes per delivery %s",
		s.FasterBaseline, times(rt.LastRecipientP50), times(rt.LastRecipientP99), times(rt.PostP50), times(rt.Throughput), times(rt.CPU), times(rt.DiskPerDelivery))
	if closedLoop {
		ew.printf("; IANT/seal+open ceiling %s", times(rt.OfCeiling))
	}
	ew.printf("\n")
}

func writeCounts(ew *errWriter, name string, r *Result) {
	ew.printf("%s: posted %d, failed %d, refused %d (%d with a retry hint), expected %d, delivered %d, duplicates %d, missing %d, unexpected %d\n",
		name, r.Posted, r.Failed, r.Refused, r.RefusedWithRetryHint, r.Expected, r.Delivered, r.Duplicates, r.Missing, r.Unexpected)
	if r.FirstError != "" {
		ew.printf("  first error: %s\n", strings.ReplaceAll(r.FirstError, "\n", " "))
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }

func times(v float64) string {
	if v == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
