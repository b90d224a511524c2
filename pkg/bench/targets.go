package bench

import "fmt"

// Target is one of issue 14's targets as this run measured it. Ratios
// divide by the faster baseline of the same run (see [Ratios]).
type Target struct {
	// Name says what is compared and where, e.g. "broadcast: post → last
	// analyst p99 / backbone's".
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	// Measured is the ratio (or, for Unit "ms", the latency) measured;
	// Limit the bound it must not pass (Unit "≥": must reach).
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	// Unit is "×" for a ratio at most Limit, "≥×" for a ratio at least
	// Limit, "ms" for a latency below Limit.
	Unit string `json:"unit"`
	// Status is "met", "missed", or "no figure" when a side measured
	// nothing (e.g. no bulletin delivered everywhere).
	Status string `json:"status"`
}

// Load classes of the open loop: the targets are stated at 1
// bulletin/s and at 20/s.
const (
	lightRate = 5 // at most this: the 1/s targets
)

// judgeTargets lists the targets the run's mode can judge.
func judgeTargets(r *Report) []Target {
	var out []Target
	open, rate := r.Config.Mode == "open-loop", r.Config.Rate
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		rt := s.Ratios
		add := func(name string, measured, limit float64, unit string) {
			out = append(out, newTarget(s.Scenario, name, measured, limit, unit))
		}
		if s.Scenario == Overload.String() {
			out = append(out, overloadTargets(s)...)
			continue
		}
		switch {
		case open && s.Scenario == Broadcast.String() && rate <= lightRate:
			add("post → last analyst p99 / backbone's", rt.LastRecipientP99, 1.5, "×")
			add("post → last analyst p99 (stretch)", s.IANT.LastRecipient.P99, 30, "ms")
		case open && s.Scenario == Broadcast.String():
			add("post → last analyst p99 / backbone's", rt.LastRecipientP99, 2, "×")
		case open && (s.Scenario == Bilateral.String() || s.Scenario == Regional.String()):
			add("post → last analyst p99 / backbone's", rt.LastRecipientP99, 1.5, "×")
		}
		if open && rate > lightRate {
			kept := 0.0
			if s.IANT.Missing == 0 {
				kept = round3(s.IANT.BulletinsPerSecond / rate)
			}
			add("no growing backlog: bulletins/s delivered / offered", kept, 0.9, "≥×")
		}
		if s.Scenario == Broadcast.String() {
			add("author's answer p50 / backbone's publish of all copies", rt.PostP50, 2, "×")
		}
		add("CPU per bulletin / (backbone's + seal and open)", rt.CPU, 2, "×")
		add("bytes written per delivery / backbone's", rt.DiskPerDelivery, 3, "×")
		if !open {
			add("closed loop: bulletins/s / backbone's", rt.Throughput, 0.5, "≥×")
		}
	}
	return out
}

// overloadTargets judge the overload scenario: FLASH keeps priority
// (never refused while ROUTINE is taken), every accepted bulletin
// delivered (no backlog left behind), and a refusal says when to retry.
func overloadTargets(s *ScenarioReport) []Target {
	var flashRefused, routineRefused float64
	for _, c := range s.IANT.Classes {
		if c.Sent == 0 {
			continue
		}
		share := float64(c.Refused) / float64(c.Sent)
		if c.Precedence == "FLASH" {
			flashRefused = share
		} else {
			routineRefused = share
		}
	}
	delivered := 0.0
	if s.IANT.Expected > 0 {
		delivered = round3(float64(s.IANT.Delivered) / float64(s.IANT.Expected))
	}
	hinted := 1.0
	if s.IANT.Refused > 0 {
		hinted = round3(float64(s.IANT.RefusedWithRetryHint) / float64(s.IANT.Refused))
	}
	return []Target{
		judge(s.Scenario, "FLASH share refused / ROUTINE share refused", ratioOrZero(flashRefused, routineRefused), 1, "×", true),
		newTarget(s.Scenario, "accepted bulletins delivered / owed", delivered, 1, "≥×"),
		newTarget(s.Scenario, "refusals with a retry hint / refusals", hinted, 1, "≥×"),
	}
}

// ratioOrZero is a/b, 0 when a is 0 (nothing of a refused meets any
// bound), and a large figure when only b is 0.
func ratioOrZero(a, b float64) float64 {
	switch {
	case a == 0:
		return 0
	case b == 0:
		return 1e3
	}
	return round3(a / b)
}

// newTarget judges measured against limit; a ratio or latency of 0 means
// a side measured nothing ("no figure").
func newTarget(scenario, name string, measured, limit float64, unit string) Target {
	return judge(scenario, name, measured, limit, unit, false)
}

// judge is newTarget; zeroOK makes 0 a figure (a share of refusals).
func judge(scenario, name string, measured, limit float64, unit string, zeroOK bool) Target {
	t := Target{Name: name, Scenario: scenario, Measured: measured, Limit: limit, Unit: unit, Status: "missed"}
	switch {
	case unit != "≥×" && measured <= 0 && !zeroOK:
		t.Status = "no figure"
	case unit == "≥×" && measured >= limit, unit == "×" && measured <= limit, unit == "ms" && measured < limit:
		t.Status = "met"
	}
	return t
}

// String renders t as a line of the target table.
func (t Target) String() string {
	op, val := "≤", fmt.Sprintf("%.2f×", t.Measured)
	switch t.Unit {
	case "≥×":
		op = "≥"
	case "ms":
		op, val = "<", fmt.Sprintf("%.1f ms", t.Measured)
	}
	lim := fmt.Sprintf("%g×", t.Limit)
	if t.Unit == "ms" {
		lim = fmt.Sprintf("%g ms", t.Limit)
	}
	return fmt.Sprintf("%-10s %-56s %10s  %s %-7s %s", t.Scenario, t.Name, val, op, lim, t.Status)
}
