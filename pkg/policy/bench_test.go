package policy_test

import (
	"fmt"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/region"
)

// BenchmarkRead is one read decision on the real network set, building the
// request from the bulletin each time as a node does.
func BenchmarkRead(b *testing.B) {
	e := newEngine(b)
	bl := amberToUS()
	for b.Loop() {
		if d := e.Read(usAnalyst, policy.PersonAttrs{}, bl); !d.Allowed {
			b.Fatal(d)
		}
	}
}

// BenchmarkReadWithConditions adds per-bulletin conditions (cached after
// the first decision).
func BenchmarkReadWithConditions(b *testing.B) {
	e := newEngine(b)
	bl := amberToUS()
	bl.Conditions = `forbid (principal is Person, action == Action::"read", resource) when { principal.role == "analyst" } unless { ["US", "CA"].contains(principal.state) };
forbid (principal, action == Action::"release", resource) when { principal.state == "VE" };`
	for b.Loop() {
		if d := e.Read(usAnalyst, policy.PersonAttrs{}, bl); !d.Allowed {
			b.Fatal(d)
		}
	}
}

// BenchmarkFilterBatch decides 100 bulletins of mixed markings for one
// reader, as a node filtering a list does.
func BenchmarkFilterBatch(b *testing.B) {
	e := newEngine(b)
	bs := make([]*bulletin.Bulletin, 100)
	for i := range bs {
		bs[i] = &bulletin.Bulletin{
			ID: fmt.Sprintf("b%03d", i), Origin: "MX", Marking: bulletin.Markings()[i%5],
			Precedence: bulletin.Precedences()[i%4], Category: bulletin.CBRN,
			Releasability: bulletin.Releasability{States: []string{"US"}, Regions: []region.Region{region.Region(i%4 + 1)}},
		}
		if i%7 == 0 {
			bs[i].Caveats = []bulletin.Caveat{bulletin.LawEnforcementOnly}
		}
	}
	for b.Loop() {
		e.ReadBatch(usAnalyst, policy.PersonAttrs{}, bs)
	}
}

// BenchmarkRecipients releases one AMBER bulletin to all 34 other states.
func BenchmarkRecipients(b *testing.B) {
	e := newEngine(b)
	bl := amberToUS()
	bl.Releasability = bulletin.Releasability{All: true}
	for b.Loop() {
		if to, _ := e.Recipients(bl); len(to) != 34 {
			b.Fatal(to)
		}
	}
}
