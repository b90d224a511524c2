package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// Defaults of [Options].
const (
	DefaultBodySize     = 2048
	DefaultConcurrency  = 4
	DefaultCount        = 500
	DefaultDuration     = 20 * time.Second
	DefaultDrainTimeout = 30 * time.Second
	DefaultCeilingTime  = 2 * time.Second
)

// Scenario is a shape of traffic: who a bulletin is released to.
type Scenario int

// The scenarios. Their names are frozen: they appear in the JSON report.
const (
	// Bilateral releases each bulletin to one other state.
	Bilateral Scenario = iota + 1
	// Regional releases each bulletin to the other states of the origin's
	// region (those running in the bench network).
	Regional
	// Broadcast releases each bulletin to every other state of the network.
	Broadcast
	// Mixed cycles bilateral, regional, bilateral, broadcast: half the
	// bulletins bilateral, a quarter regional, a quarter broadcast.
	Mixed
	// Overload measures what the network does past its capacity: it
	// first finds the capacity (closed loop, broadcasts), then posts
	// broadcasts open loop at twice that, one in four FLASH and the
	// others ROUTINE, and reports refusals, the accepted latency per
	// precedence and the peak memory ([OverloadReport]). Not part of
	// "all".
	Overload
)

var scenarioNames = [...]string{"", "bilateral", "regional", "broadcast", "mixed", "overload"}

// String returns the scenario's name, e.g. "broadcast".
func (s Scenario) String() string {
	if s <= 0 || int(s) >= len(scenarioNames) {
		return "scenario(" + strconv.Itoa(int(s)) + ")"
	}
	return scenarioNames[s]
}

// AllScenarios lists every scenario in the order "--scenario all" runs them.
func AllScenarios() []Scenario { return []Scenario{Bilateral, Regional, Broadcast, Mixed} }

// ParseScenarios reads a scenario name, or "all" for [AllScenarios].
func ParseScenarios(s string) ([]Scenario, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "all" {
		return AllScenarios(), nil
	}
	for i, n := range scenarioNames {
		if i > 0 && n == s {
			return []Scenario{Scenario(i)}, nil
		}
	}
	return nil, fmt.Errorf("unknown scenario %q (want bilateral, regional, broadcast, mixed, overload or all)", s)
}

// Options describe a bench run. Zero values mean the documented default.
type Options struct {
	// Dir holds the network's PKI and data; "" means a temporary directory
	// removed when Run returns. An existing Dir is reused.
	Dir string
	// States are the member states that run a node, each with one
	// subscribed analyst; default every member state. At least two.
	States []string
	// Scenarios run one after the other; default [Mixed].
	Scenarios []Scenario
	// BodySize is the bulletin body in bytes; default [DefaultBodySize],
	// at most bulletin.MaxBodyBytes.
	BodySize int
	// Rate is the open-loop posting rate in bulletins per second; 0 means
	// closed loop: Concurrency posters each post again as soon as the
	// previous post is answered.
	Rate float64
	// Concurrency is the number of closed-loop posters; default
	// [DefaultConcurrency]. Ignored in open loop.
	Concurrency int
	// Count bounds the bulletins per scenario; default [DefaultCount].
	Count int
	// Duration bounds the posting time per scenario; default
	// [DefaultDuration]. Posting stops at Count or Duration, whichever
	// comes first.
	Duration time.Duration
	// DrainTimeout bounds the wait for outstanding deliveries after the
	// last post of a phase; default [DefaultDrainTimeout]. Deliveries
	// still outstanding then are reported missing; if any are, or posts
	// failed, the next phase waits (again up to DrainTimeout) until
	// deliveries stop, so that an overloaded phase does not spill into it.
	DrainTimeout time.Duration
	// CeilingTime is how long the seal-and-open ceiling of each scenario
	// is measured; default [DefaultCeilingTime].
	CeilingTime time.Duration
	// NATS, when set, are the client URLs of an external backbone (e.g.
	// the three-server cluster of deploy/nats) that the nodes use instead
	// of the embedded server. Its users must include the secretariat node
	// and the node of every state in States, with certificates of the PKI
	// in PKIDir. The baseline still runs on an embedded server of its own:
	// the backbone grants the nodes no subjects to benchmark with.
	NATS []string
	// PKIDir is the development PKI the external backbone trusts; required
	// with NATS.
	PKIDir string
	// Replicas is the replica count of the streams the secretariat
	// provisions on the external backbone; 0 means 3 with NATS.
	Replicas int
	// Logger receives the network's logs; nil discards them.
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if len(o.States) == 0 {
		o.States = region.Codes()
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = []Scenario{Mixed}
	}
	if len(o.NATS) > 0 && o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.BodySize == 0 {
		o.BodySize = DefaultBodySize
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Count == 0 {
		o.Count = DefaultCount
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.CeilingTime == 0 {
		o.CeilingTime = DefaultCeilingTime
	}
	return o
}

// Validate names the first bad field of o (after defaults are applied).
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case len(o.States) < 2:
		return errors.New("bench: States: at least two states are needed")
	case o.BodySize < 1 || o.BodySize > bulletin.MaxBodyBytes:
		return fmt.Errorf("bench: BodySize %d out of range (1 to %d)", o.BodySize, bulletin.MaxBodyBytes)
	case o.Rate < 0:
		return fmt.Errorf("bench: Rate %v must not be negative", o.Rate)
	case o.Concurrency < 0:
		return fmt.Errorf("bench: Concurrency %d must not be negative", o.Concurrency)
	case o.Count < 0:
		return fmt.Errorf("bench: Count %d must not be negative", o.Count)
	case o.Duration < 0:
		return fmt.Errorf("bench: Duration %s must not be negative", o.Duration)
	case o.DrainTimeout < 0:
		return fmt.Errorf("bench: DrainTimeout %s must not be negative", o.DrainTimeout)
	case o.CeilingTime < 0:
		return fmt.Errorf("bench: CeilingTime %s must not be negative", o.CeilingTime)
	case len(o.NATS) > 0 && o.PKIDir == "":
		return errors.New("bench: PKIDir: an external backbone (NATS) needs the PKI it trusts")
	case len(o.NATS) == 0 && (o.PKIDir != "" || o.Replicas != 0):
		return errors.New("bench: PKIDir and Replicas apply only to an external backbone (NATS)")
	case o.Replicas < 0 || o.Replicas > 5:
		return fmt.Errorf("bench: Replicas %d out of range (1 to 5)", o.Replicas)
	}
	for _, raw := range o.NATS {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "tls" && u.Scheme != "nats") || u.Port() == "" {
			return fmt.Errorf("bench: NATS: %q is not a URL like tls://127.0.0.1:4222", raw)
		}
	}
	seen := map[string]bool{}
	for _, s := range o.States {
		if !region.IsMember(s) {
			return fmt.Errorf("bench: States: %q is not an OAS member state code", s)
		}
		if seen[s] {
			return fmt.Errorf("bench: States: %s listed twice", s)
		}
		seen[s] = true
	}
	for _, s := range o.Scenarios {
		if s < Bilateral || s > Overload {
			return fmt.Errorf("bench: Scenarios: unknown %v", s)
		}
		if s == Regional && len(regionalOrigins(o.States)) == 0 {
			return errors.New("bench: Scenarios: regional needs two states of one region")
		}
	}
	return nil
}

// ParseStates reads a --states value: a number N (the first N states of
// [PickStates]), "all", or comma-separated ISO codes such as "MX,US,CA".
func ParseStates(spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "all") {
		return region.Codes(), nil
	}
	if n, err := strconv.Atoi(spec); err == nil {
		if n < 2 || n > len(region.Codes()) {
			return nil, fmt.Errorf("%d states: want 2 to %d", n, len(region.Codes()))
		}
		return PickStates(n), nil
	}
	var out []string
	for _, s := range strings.Split(spec, ",") {
		s = strings.ToUpper(strings.TrimSpace(s))
		if !region.IsMember(s) {
			return nil, fmt.Errorf("%q is not an OAS member state code", s)
		}
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("%s listed twice", s)
		}
		out = append(out, s)
	}
	if len(out) < 2 {
		return nil, errors.New("at least two states are needed")
	}
	return out, nil
}

// PickStates returns n member states taken two at a time from each region
// in turn (North America, Central America, the Caribbean, South America),
// so that a small network still has regional neighbours.
func PickStates(n int) []string {
	var per [][]string
	for _, r := range region.All() {
		per = append(per, region.StatesOf(r))
	}
	var out []string
	for len(out) < n {
		took := false
		for i := range per {
			for k := 0; k < 2 && len(per[i]) > 0 && len(out) < n; k++ {
				out = append(out, per[i][0])
				per[i] = per[i][1:]
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}
