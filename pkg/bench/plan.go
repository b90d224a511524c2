package bench

import (
	"math/rand/v2"
	"slices"

	"github.com/oas-cicte/iant/pkg/region"
)

// message is one planned bulletin: IANT and the baseline send the same
// plan, so they see the same origins, fan-outs and sizes.
type message struct {
	seq        int
	kind       Scenario // Bilateral, Regional or Broadcast
	origin     string
	recipients []string // sorted, never the origin
	routine    bool     // ROUTINE rather than FLASH (the overload scenario)
}

// overloadFlashEvery: one overload bulletin in this many is FLASH, the
// others ROUTINE.
const overloadFlashEvery = 4

// precedence names m's precedence as the report does.
func (m message) precedence() string {
	if m.routine {
		return "ROUTINE"
	}
	return "FLASH"
}

// mixedCycle is the order of kinds in the mixed scenario.
var mixedCycle = []Scenario{Bilateral, Regional, Bilateral, Broadcast}

// planSeed fixes the choice of bilateral partners, so that runs compare.
const planSeed = 7

// makePlan lays out n bulletins of scenario s over states. Origins rotate
// round robin among the states that can send that kind (a regional origin
// needs a neighbour in the network).
func makePlan(s Scenario, states []string, n int) []message {
	rng := rand.New(rand.NewPCG(planSeed, uint64(s)))
	regional := regionalOrigins(states)
	next := map[Scenario]int{}
	plan := make([]message, 0, n)
	for seq := range n {
		kind := s
		switch s {
		case Mixed:
			kind = mixedCycle[seq%len(mixedCycle)]
		case Overload:
			kind = Broadcast
		}
		if kind == Regional && len(regional) == 0 {
			kind = Bilateral // mixed in a network without regional neighbours
		}
		origins := states
		if kind == Regional {
			origins = regional
		}
		origin := origins[next[kind]%len(origins)]
		next[kind]++
		plan = append(plan, message{seq: seq, kind: kind, origin: origin, recipients: recipientsOf(kind, origin, states, rng),
			routine: s == Overload && seq%overloadFlashEvery != 0})
	}
	return plan
}

// recipientsOf returns the sorted recipients of a bulletin of kind from
// origin within states.
func recipientsOf(kind Scenario, origin string, states []string, rng *rand.Rand) []string {
	var out []string
	switch kind {
	case Bilateral:
		for {
			if p := states[rng.IntN(len(states))]; p != origin {
				return []string{p}
			}
		}
	case Regional:
		out = neighbours(origin, states)
	default:
		for _, s := range states {
			if s != origin {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// neighbours lists the states of origin's region in states, origin aside.
func neighbours(origin string, states []string) []string {
	st, _ := region.Lookup(origin)
	var out []string
	for _, s := range states {
		if o, _ := region.Lookup(s); s != origin && o.Region == st.Region {
			out = append(out, s)
		}
	}
	return out
}

// regionalOrigins lists the states that have a neighbour in states.
func regionalOrigins(states []string) []string {
	var out []string
	for _, s := range states {
		if len(neighbours(s, states)) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// meanFanOut is the mean number of recipients per bulletin of plan.
func meanFanOut(plan []message) float64 {
	if len(plan) == 0 {
		return 0
	}
	n := 0
	for _, m := range plan {
		n += len(m.recipients)
	}
	return float64(n) / float64(len(plan))
}
