package policy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
)

const hideFromAnalysts = `@doc("for focal points only")
forbid (principal is Person, action == Action::"read", resource)
when { principal.role == "analyst" };`

func TestConditionsNarrow(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	if d := e.Read(usAnalyst, policy.PersonAttrs{}, b); !d.Allowed {
		t.Fatalf("Read(analyst, AMBER) without conditions = %+v, want allowed", d)
	}
	b.Conditions = hideFromAnalysts
	if err := policy.CheckConditions(b.Conditions); err != nil {
		t.Fatalf("CheckConditions = %v", err)
	}
	if err := e.CheckConditions(b.Conditions); err != nil {
		t.Fatalf("Engine.CheckConditions = %v", err)
	}
	d := e.Read(usAnalyst, policy.PersonAttrs{LawEnforcement: true}, b)
	if d.Allowed || d.Rule() != "bulletin-condition-0" {
		t.Errorf("Read(analyst) with conditions = %+v, want denied by bulletin-condition-0", d)
	}
	if want := "a condition of this bulletin refuses it (bulletin-condition-0): for focal points only"; d.Reason != want {
		t.Errorf("Reason = %q, want %q", d.Reason, want)
	}
	if d := e.Read(usFocal, policy.PersonAttrs{}, b); !d.Allowed {
		t.Errorf("Read(focal point) with conditions = %+v, want allowed", d)
	}
	allowed, refused := e.Recipients(b)
	if len(allowed) != len(bulletin.Recipients(b.Origin, b.Releasability)) || refused != nil {
		t.Errorf("Recipients with read-only conditions = %v, %v; want every state", allowed, refused)
	}
}

func TestCheckConditionsRefuses(t *testing.T) {
	tests := []struct {
		name, text, wantMsg string
	}{
		{"permit", `permit (principal, action, resource);`, "is a permit"},
		{"permit after forbid", hideFromAnalysts + "\npermit (principal, action == Action::\"read\", resource);", "condition 1 at conditions:4:1 is a permit"},
		{"syntax", `forbid (principal, action, resource) when { principal. };`, "do not parse"},
		{"not cedar", `analysts may not read this`, "do not parse"},
		{"too long", strings.Repeat(" ", policy.MaxConditionsBytes) + hideFromAnalysts, "the limit is 4096"},
		{"too many", strings.Repeat("forbid (principal, action, resource) when { false };\n", policy.MaxConditions+1), "hold 9 policies"},
		{"bad id", "@id(\"Bad Id\")\nforbid (principal, action, resource);", "may hold only"},
		{"reserved id", "@id(\"default-deny\")\nforbid (principal, action, resource);", "reserved"},
		{"duplicate id", "@id(\"bulletin-condition-1\")\nforbid (principal, action, resource);\nforbid (principal, action, resource);", "used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := policy.CheckConditions(tt.text)
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != "conditions" || !strings.Contains(p.Msg, tt.wantMsg) {
				t.Errorf("CheckConditions(%s) = %#v, want Invalid conditions containing %q", tt.name, err, tt.wantMsg)
			}
		})
	}
}

func TestEngineCheckConditions(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name, text, wantMsg string
	}{
		{"unknown attribute", `forbid (principal, action, resource) when { resource.secret };`, "does not fit the network schema"},
		{"context of another action", `forbid (principal, action, resource) when { context.target == "VE" };`, "attribute `target` in context"},
		{"network id", "@id(\"read-analyst\")\nforbid (principal, action, resource);", "is a network policy id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := policy.CheckConditions(tt.text); err != nil {
				t.Fatalf("CheckConditions(%s) = %v, want nil (only the engine knows the schema)", tt.name, err)
			}
			err := e.CheckConditions(tt.text)
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != "conditions" || !strings.Contains(p.Msg, tt.wantMsg) {
				t.Errorf("Engine.CheckConditions(%s) = %v, want Invalid conditions containing %q", tt.name, err, tt.wantMsg)
			}
			b := amberToUS()
			b.Conditions = tt.text
			if d := e.Read(usFocal, policy.PersonAttrs{}, b); d.Allowed || d.Rule() != policy.ConditionsInvalid {
				t.Errorf("Read with invalid conditions = %+v, want denied by %s", d, policy.ConditionsInvalid)
			}
		})
	}
}

func TestConditionsCache(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	b.Conditions = hideFromAnalysts
	for range 10 {
		e.Read(usAnalyst, policy.PersonAttrs{}, b)
	}
	st := e.ConditionsCacheStats()
	if st.Misses != 1 || st.Hits != 9 || st.Entries != 1 {
		t.Errorf("after 10 reads of one text: %+v, want 1 miss, 9 hits, 1 entry", st)
	}
	b.Conditions = "permit (principal, action, resource);" // errors are cached too
	e.Read(usAnalyst, policy.PersonAttrs{}, b)
	e.Read(usAnalyst, policy.PersonAttrs{}, b)
	if st := e.ConditionsCacheStats(); st.Misses != 2 || st.Entries != 2 {
		t.Errorf("after a bad text read twice: %+v, want 2 misses, 2 entries", st)
	}
	// The cache is bounded.
	for i := range 1100 {
		b.Conditions = fmt.Sprintf("forbid (principal, action, resource) when { resource.category == \"c%d\" };", i)
		e.Read(usAnalyst, policy.PersonAttrs{}, b)
	}
	if st := e.ConditionsCacheStats(); st.Entries > 1024 {
		t.Errorf("cache holds %d entries, want at most 1024", st.Entries)
	}
}

// FuzzConditions feeds random conditions to a request the network set
// refuses (an analyst reading RED) and to one it allows: nothing panics,
// and the refused request stays refused.
func FuzzConditions(f *testing.F) {
	for _, s := range []string{
		"",
		hideFromAnalysts,
		`permit (principal, action, resource);`,
		`forbid (principal, action, resource) unless { principal.role == "analyst" };`,
		`@id("x") forbid (principal, action, resource) when { resource.caveats.contains("x") };`,
		`forbid (principal, action, resource) when { resource.origin like "*M*X*" };`,
		`forbid (principal, action, resource) when { 1 / 0 == 1 };`,
		`forbid(principal,action,resource)when{context.nope};`,
		`permit (principal, action, resource) when { principal has law_enforcement };`,
		`@id("a") @id("b") forbid (principal, action, resource);`,
	} {
		f.Add(s)
	}
	s, err := policy.Load(policyDir)
	if err != nil {
		f.Fatal(err)
	}
	e := policy.NewEngine(s)
	analyst := identity.Principal{State: "US", Role: identity.RoleAnalyst, Name: "cy"}
	f.Fuzz(func(t *testing.T, text string) {
		_ = policy.CheckConditions(text)
		_ = e.CheckConditions(text)
		red := amberToUS()
		red.Marking = bulletin.Red
		red.Conditions = text
		if d := e.Read(analyst, policy.PersonAttrs{LawEnforcement: true}, red); d.Allowed {
			t.Fatalf("conditions %q turned a refused read into %+v", text, d)
		}
		amber := amberToUS()
		amber.Conditions = text
		d := e.Read(analyst, policy.PersonAttrs{}, amber)
		if d.Allowed && e.CheckConditions(text) != nil {
			t.Fatalf("invalid conditions %q allowed a read: %+v", text, d)
		}
		e.Forward(usFocal, amber, "CO", true)
		e.Recipients(amber)
	})
}
