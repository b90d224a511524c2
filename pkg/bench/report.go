package bench

import (
	"math"
	"slices"
	"time"
)

// ReportVersion is the version of the JSON report; it grows when a field
// changes meaning.
const ReportVersion = 2

// Report is the outcome of a [Run]. Latencies are in milliseconds, sizes
// in bytes, CPU in seconds. It encodes to JSON as it is.
type Report struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	Machine Machine   `json:"machine"`
	Config  Config    `json:"config"`
	Network Network   `json:"network"`
	// Scenarios hold one entry per scenario run, in order.
	Scenarios []ScenarioReport `json:"scenarios"`
	// Targets are issue 14's targets that this run can judge, each with
	// the ratio measured in it ([Target]).
	Targets []Target `json:"targets"`
}

// Machine describes where the run took place.
type Machine struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	// LoadAverage is the machine's 1-minute load average when the run
	// started: other work on the machine shows here.
	LoadAverage float64 `json:"load_average"`
}

// Config echoes the options the run used.
type Config struct {
	States      []string `json:"states"`
	BodySize    int      `json:"body_size"`
	Mode        string   `json:"mode"` // "open-loop" or "closed-loop"
	Rate        float64  `json:"rate,omitempty"`
	Concurrency int      `json:"concurrency,omitempty"`
	Count       int      `json:"count"`
	DurationSec float64  `json:"duration_seconds"`
}

// Network describes the network under test. Every node, the backbone
// server and the bench's own clients run in one process, so memory is
// measured for the process: per-node figures are the process's RSS divided
// by Nodes, not a measurement of one node alone.
type Network struct {
	// Nodes counts the state nodes plus the secretariat node.
	Nodes int `json:"nodes"`
	// Backbone says which backbone the nodes used: the embedded server or
	// an external cluster's URLs (the baseline always runs on an embedded
	// server).
	Backbone     string  `json:"backbone"`
	StartSeconds float64 `json:"start_seconds"`
	// BaseRSS is the process RSS before the network started.
	BaseRSS int64 `json:"base_rss_bytes"`
	// IdleRSS is the process RSS with the network up, subscriptions open,
	// warmed up and idle (after a GC), and IdleRSSPerNode is IdleRSS/Nodes.
	IdleRSS        int64 `json:"idle_rss_bytes"`
	IdleRSSPerNode int64 `json:"idle_rss_per_node_bytes"`
	// IdleHeap is the Go heap in use at that point.
	IdleHeap int64 `json:"idle_heap_bytes"`
	// IdleCPU is the CPU the idle network uses, in CPU seconds per second,
	// and IdleDiskWrites the bytes per second it writes to storage
	// (timers, audit checkpoints and the like).
	IdleCPU        float64 `json:"idle_cpu"`
	IdleDiskWrites int64   `json:"idle_disk_write_bytes_per_second"`
}

// ScenarioReport holds the figures of one scenario: IANT end to end, the
// bare backbone with the same plan, and the seal-and-open ceiling.
type ScenarioReport struct {
	Scenario string `json:"scenario"`
	// LoadAverage is the machine's 1-minute load average at the end.
	LoadAverage float64 `json:"load_average"`
	// FanOut is the mean number of recipients per bulletin.
	FanOut float64 `json:"fan_out"`
	// IANT posts through the public gRPC API and measures at the analysts.
	IANT Result `json:"iant"`
	// Baseline publishes the same number of messages, of the sealed size,
	// to the same recipients, with PublishInbox (up to
	// statenode.MaxInflightCopies copies of a bulletin in flight), and
	// consumes them with ConsumeInbox, on a second embedded JetStream
	// server (with --nats, a cluster of three) with the same configuration
	// and mTLS.
	Baseline Result `json:"baseline"`
	// BaselineBatch is the same with each bulletin's copies published as
	// one JetStream atomic batch (PublishInboxBatch).
	BaselineBatch Result `json:"baseline_batch"`
	// FasterBaseline names the baseline with the lower headline p99
	// ("per-message" or "atomic-batch"); each ratio divides by the better
	// of the two figures it compares.
	FasterBaseline string  `json:"faster_baseline"`
	Ceiling        Ceiling `json:"ceiling"`
	Ratios         Ratios  `json:"ratios"`
	// Overload holds the overload scenario's capacity and offered rate.
	Overload *OverloadReport `json:"overload,omitempty"`
}

// OverloadReport describes the overload scenario: the capacity found in
// closed loop, and the open-loop rate offered at twice that.
type OverloadReport struct {
	// CapacityPerSecond is IANT's broadcasts/s in closed loop with
	// Concurrency posters, all delivered.
	CapacityPerSecond float64 `json:"capacity_bulletins_per_second"`
	// OfferedPerSecond is the open-loop rate then offered.
	OfferedPerSecond float64 `json:"offered_bulletins_per_second"`
	// Capacity is the closed-loop phase's figures.
	Capacity Result `json:"capacity"`
}

// Result is one phase's figures. For the baseline, "stored" is the
// JetStream timestamp of the copy and "pushed" the moment the recipient's
// consumer handler ran.
type Result struct {
	// Posted counts bulletins whose post was answered with success, Failed
	// those answered with an error.
	Posted int `json:"posted"`
	Failed int `json:"failed"`
	// Expected counts deliveries owed to recipients of posted bulletins,
	// Delivered those seen exactly once at a recipient's analyst (or
	// consumer), Duplicates the repeated ones, Missing those never seen
	// before the drain timeout, Unexpected deliveries nobody was owed.
	Expected   int `json:"expected_deliveries"`
	Delivered  int `json:"delivered"`
	Duplicates int `json:"duplicates"`
	Missing    int `json:"missing"`
	Unexpected int `json:"unexpected"`
	// Refused counts posts refused by admission control
	// (ResourceExhausted), RefusedWithRetryHint those that said when to
	// try again; they are not in Failed.
	Refused              int `json:"refused"`
	RefusedWithRetryHint int `json:"refused_with_retry_hint"`
	// FirstError is the first error a post was answered with (refusals
	// aside).
	FirstError string `json:"first_error,omitempty"`
	// PayloadBytes is the mean size of a message on the backbone: for IANT
	// the body as posted (the sealed copy is in [Ceiling]), for the
	// baseline the sealed size it stands in for.
	PayloadBytes float64 `json:"payload_bytes"`

	// Post is the author's view: from the post to its answer.
	Post Summary `json:"post_ms"`
	// Stored runs from the post to the copy stored at each recipient.
	Stored Summary `json:"stored_ms"`
	// Pushed runs from the post to each recipient's analyst.
	Pushed Summary `json:"pushed_ms"`
	// LastRecipient runs from the post to the last recipient's analyst:
	// the headline. Only bulletins delivered everywhere count.
	LastRecipient Summary `json:"last_recipient_ms"`

	// ElapsedSeconds runs from the first post to the last delivery.
	ElapsedSeconds      float64 `json:"elapsed_seconds"`
	BulletinsPerSecond  float64 `json:"bulletins_per_second"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`
	// CPUPerBulletin is the process's CPU time (user+system) during the
	// phase divided by Posted.
	CPUPerBulletin float64 `json:"cpu_seconds_per_bulletin"`
	// DiskWritesPerBulletin is the bytes the process caused to be written
	// to storage during the phase (Linux write_bytes) divided by Posted.
	DiskWritesPerBulletin int64 `json:"disk_write_bytes_per_bulletin"`
	// DiskWritesPerDelivery is the same divided by Delivered.
	DiskWritesPerDelivery int64 `json:"disk_write_bytes_per_delivery"`
	// PeakRSS is the process's peak RSS during the phase (VmHWM, reset
	// before the phase where the kernel allows), PeakRSSPerNode that
	// divided by the network's nodes.
	PeakRSS        int64 `json:"peak_rss_bytes"`
	PeakRSSPerNode int64 `json:"peak_rss_per_node_bytes"`

	// Classes split the figures by precedence when the plan mixes them
	// (the overload scenario).
	Classes []PrecedenceClass `json:"classes,omitempty"`

	// LastRecipientSamples are the sorted headline latencies, for the chart.
	LastRecipientSamples []float64 `json:"last_recipient_samples_ms,omitempty"`
}

// PrecedenceClass is a phase's figures for the bulletins of one
// precedence.
type PrecedenceClass struct {
	Precedence string `json:"precedence"`
	// Sent counts posts sent, Posted those accepted, Refused those
	// refused by admission control.
	Sent    int `json:"sent"`
	Posted  int `json:"posted"`
	Refused int `json:"refused"`
	// Post and LastRecipient are the accepted posts' latencies.
	Post          Summary `json:"post_ms"`
	LastRecipient Summary `json:"last_recipient_ms"`
}

// Ceiling is the cost of sealing and opening alone for the scenario's
// plan: seal once and marshal, then unmarshal and open once per recipient,
// on every CPU at once, with no network, storage or policy.
type Ceiling struct {
	Bulletins int     `json:"bulletins"`
	Workers   int     `json:"workers"`
	PerSecond float64 `json:"bulletins_per_second"`
	// CPUPerBulletin is process CPU seconds per bulletin while measuring.
	CPUPerBulletin float64 `json:"cpu_seconds_per_bulletin"`
	// SealMs is the mean time to seal and marshal one bulletin, OpenMs to
	// unmarshal and open one copy.
	SealMs float64 `json:"seal_ms"`
	OpenMs float64 `json:"open_ms"`
	// PlaintextBytes is the mean serialized bulletin that is sealed,
	// SealedBytes the mean sealed copy.
	PlaintextBytes float64 `json:"plaintext_bytes"`
	SealedBytes    float64 `json:"sealed_bytes"`
}

// Ratios compare IANT with the faster baseline (for each figure the
// better of the per-message and the atomic-batch baseline's) and the
// ceiling; 0 when a side has no figure.
type Ratios struct {
	// LastRecipientP50 and LastRecipientP99 are IANT's headline latency
	// over the baseline's.
	LastRecipientP50 float64 `json:"last_recipient_p50"`
	LastRecipientP99 float64 `json:"last_recipient_p99"`
	// PostP50 is the author's answer over the baseline's publish of all
	// copies, at the median.
	PostP50 float64 `json:"post_p50"`
	// Throughput is IANT's bulletins/s over the baseline's.
	Throughput float64 `json:"throughput"`
	// CPU is IANT's CPU per bulletin over the baseline's plus sealing and
	// opening alone.
	CPU float64 `json:"cpu"`
	// DiskPerDelivery is IANT's bytes written to storage per delivery
	// over the baseline's.
	DiskPerDelivery float64 `json:"disk_per_delivery"`
	// OfCeiling is IANT's bulletins/s over the seal-and-open ceiling: in
	// closed loop, the share of the crypto-only ceiling IANT reaches.
	OfCeiling float64 `json:"of_ceiling"`
}

// Summary describes a latency distribution in milliseconds.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// summarize sorts ms in place and describes it (nearest-rank percentiles).
func summarize(ms []float64) Summary {
	if len(ms) == 0 {
		return Summary{}
	}
	slices.Sort(ms)
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	return Summary{
		N: len(ms), Mean: round3(sum / float64(len(ms))),
		P50: percentile(ms, 50), P95: percentile(ms, 95), P99: percentile(ms, 99), Max: round3(ms[len(ms)-1]),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return round3(sorted[max(rank, 1)-1])
}

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 keeps three decimals: microseconds for milliseconds.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// ratio returns a/b, or 0 if either is not positive.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return round3(a / b)
}

// ratios compares the measurements of a scenario, each IANT figure with
// the better of the two baselines' (lower latency, CPU and bytes; higher
// throughput), and names the baseline with the lower headline p99.
func ratios(s *ScenarioReport) (Ratios, string) {
	a, b := &s.Baseline, &s.BaselineBatch
	faster := "per-message"
	if best(b.LastRecipient.P99, a.LastRecipient.P99) == b.LastRecipient.P99 && b.LastRecipient.P99 != a.LastRecipient.P99 {
		faster = "atomic-batch"
	}
	cpu := best(a.CPUPerBulletin, b.CPUPerBulletin)
	if cpu > 0 {
		cpu += s.Ceiling.CPUPerBulletin
	}
	return Ratios{
		LastRecipientP50: ratio(s.IANT.LastRecipient.P50, best(a.LastRecipient.P50, b.LastRecipient.P50)),
		LastRecipientP99: ratio(s.IANT.LastRecipient.P99, best(a.LastRecipient.P99, b.LastRecipient.P99)),
		PostP50:          ratio(s.IANT.Post.P50, best(a.Post.P50, b.Post.P50)),
		Throughput:       ratio(s.IANT.BulletinsPerSecond, max(a.BulletinsPerSecond, b.BulletinsPerSecond)),
		CPU:              ratio(s.IANT.CPUPerBulletin, cpu),
		DiskPerDelivery:  ratio(float64(s.IANT.DiskWritesPerDelivery), best(float64(a.DiskWritesPerDelivery), float64(b.DiskWritesPerDelivery))),
		OfCeiling:        ratio(s.IANT.BulletinsPerSecond, s.Ceiling.PerSecond),
	}, faster
}

// best returns the lower of two positive figures, or the positive one.
func best(a, b float64) float64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}
