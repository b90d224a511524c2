package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/policy/policytest"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// policyDir is the network policy the nodes ship with.
const policyDir = "../../deploy/policies"

// newEngine loads the real network set.
func newEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	s, err := policy.Load(policyDir)
	if err != nil {
		tb.Fatalf("Load(%q) = %v", policyDir, err)
	}
	return policy.NewEngine(s)
}

var (
	mxFocal   = identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: "ana"}
	usFocal   = identity.Principal{State: "US", Role: identity.RoleFocalPoint, Name: "bob"}
	usAnalyst = identity.Principal{State: "US", Role: identity.RoleAnalyst, Name: "cy"}
)

// amberToUS is a valid AMBER bulletin from MX to the US and the Caribbean.
func amberToUS() *bulletin.Bulletin {
	return &bulletin.Bulletin{
		ID: "01TEST", Origin: "MX", Marking: bulletin.Amber, Precedence: bulletin.Priority,
		Category:      bulletin.ArmsTrafficking,
		Releasability: bulletin.Releasability{States: []string{"US"}, Regions: []region.Region{region.Caribbean}},
	}
}

func TestDecisionTable(t *testing.T) {
	e := newEngine(t)
	results, err := policytest.RunTests(e, filepath.Join(policyDir, "tests"))
	if err != nil {
		t.Fatalf("RunTests = %v", err)
	}
	if len(results) < 60 {
		t.Errorf("RunTests ran %d cases, want at least 60", len(results))
	}
	for _, r := range results {
		t.Run(r.File+"/"+r.Name(), func(t *testing.T) {
			if !r.Pass {
				t.Errorf("%s: %s (reason %q)", r.Case.Action, r.Problem, r.Got.Reason)
			}
		})
	}
}

// TestEveryPolicyDecides checks that the decision table names every
// network policy at least once, so none is dead or untested.
func TestEveryPolicyDecides(t *testing.T) {
	e := newEngine(t)
	results, err := policytest.RunTests(e, filepath.Join(policyDir, "tests"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range results {
		for _, id := range r.Got.PolicyIDs {
			seen[id] = true
		}
	}
	for _, id := range e.Set().IDs() {
		if !seen[id] && id != "known-marking-only" {
			t.Errorf("policy %s decides no case of the decision table", id)
		}
	}
}

func TestUnknownMarkingRefused(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	b.Marking = bulletin.MarkingUnspecified
	if d := e.Read(usFocal, policy.PersonAttrs{}, b); d.Allowed || d.Rule() != "known-marking-only" {
		t.Errorf("Read(unspecified marking) = %+v, want denied by known-marking-only", d)
	}
}

func TestDecisionErr(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	b.Marking = bulletin.Red
	d := e.Read(usAnalyst, policy.PersonAttrs{}, b)
	err := d.Err()
	var p *problem.Error
	if !errors.As(err, &p) {
		t.Fatalf("Read(analyst, RED).Err() = %v, want *problem.Error", err)
	}
	want := &problem.Error{Kind: problem.KindPermission, Rule: "read-red-focal-points-only",
		Msg: "TLP:RED bulletins are read only by focal points"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Err() mismatch (-want +got):\n%s", diff)
	}
	if err := e.Read(usFocal, policy.PersonAttrs{}, b).Err(); err != nil {
		t.Errorf("Read(focal point, RED).Err() = %v, want nil", err)
	}
	if got := (policy.Decision{}).Err().(*problem.Error).Rule; got != policy.DefaultDeny {
		t.Errorf("zero Decision Err().Rule = %q, want %q", got, policy.DefaultDeny)
	}
}

func TestRecipients(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	b.Marking = bulletin.Red // RED: only the listed US, not the Caribbean
	allowed, refused := e.Recipients(b)
	if diff := cmp.Diff([]string{"US"}, allowed); diff != "" {
		t.Errorf("Recipients(RED) allowed mismatch (-want +got):\n%s", diff)
	}
	if got, want := len(refused), len(region.StatesOf(region.Caribbean)); got != want {
		t.Errorf("Recipients(RED) refused %d states, want %d", got, want)
	}
	if d := refused["JM"]; d.Rule() != "release-red-listed-states-only" {
		t.Errorf("Recipients(RED) refused JM by %v, want release-red-listed-states-only", d.PolicyIDs)
	}

	b.Marking = bulletin.Amber
	allowed, refused = e.Recipients(b)
	if want := bulletin.Recipients(b.Origin, b.Releasability); !cmp.Equal(want, allowed) || refused != nil {
		t.Errorf("Recipients(AMBER) = %v, %v; want %v, nil", allowed, refused, want)
	}
}

func TestReadBatch(t *testing.T) {
	e := newEngine(t)
	red, amber := amberToUS(), amberToUS()
	red.Marking = bulletin.Red
	ds := e.ReadBatch(usAnalyst, policy.PersonAttrs{}, []*bulletin.Bulletin{amber, red})
	if len(ds) != 2 || !ds[0].Allowed || ds[1].Allowed {
		t.Errorf("ReadBatch(analyst, [AMBER RED]) = %+v, want [allow deny]", ds)
	}
}

func TestExplainRead(t *testing.T) {
	e := newEngine(t)
	b := amberToUS()
	b.Marking = bulletin.Red
	b.Conditions = `forbid (principal is Person, action == Action::"read", resource) when { principal.name == "cy" };`
	x := e.ExplainRead(usAnalyst, policy.PersonAttrs{}, b)
	if x.Decision.Allowed {
		t.Fatalf("ExplainRead(analyst, RED) allowed")
	}
	matched := map[string]policy.Outcome{}
	for _, st := range x.Steps {
		matched[st.PolicyID] = st.Outcome
	}
	want := map[string]policy.Outcome{
		"read-analyst":               policy.Matched,
		"read-focal-point":           policy.NotMatched,
		"read-red-focal-points-only": policy.Matched,
		"read-law-enforcement-only":  policy.NotMatched,
		"bulletin-condition-0":       policy.Matched,
	}
	for id, o := range want {
		if matched[id] != o {
			t.Errorf("ExplainRead step %s = %v, want %v", id, matched[id], o)
		}
	}
	if _, ok := matched["post-nodes-never"]; ok {
		t.Errorf("ExplainRead lists post policies")
	}
	text := x.String()
	for _, s := range []string{"read REFUSED by read-red-focal-points-only, bulletin-condition-0",
		"forbid read-red-focal-points-only (", "permit read-analyst (", "matched — an analyst reads"} {
		if !strings.Contains(text, s) {
			t.Errorf("ExplainRead text lacks %q:\n%s", s, text)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	schema, err := os.ReadFile(filepath.Join(policyDir, policy.SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		wantErr    error
		wantMsg    string
	}{
		{"syntax", "@id(\"a\")\npermit (principal, action, resource) when { 1 + };\n", policy.ErrParse, "network.cedar:2:"},
		{"empty", "// nothing here\n", policy.ErrParse, "no policies"},
		{"no id", "@id(\"a\")\npermit (principal, action, resource);\nforbid (principal, action, resource);\n", policy.ErrID, "network.cedar:3:1: policy has no @id"},
		{"duplicate id", "@id(\"a\")\npermit (principal, action, resource);\n@id(\"a\")\nforbid (principal, action, resource);\n", policy.ErrID, "already used at"},
		{"reserved id", "@id(\"default-deny\")\npermit (principal, action, resource);\n", policy.ErrID, "reserved"},
		{"unknown attribute", "@id(\"a\")\npermit (principal is Person, action == Action::\"read\", resource) when { principal.rank == 1 };\n", policy.ErrSchema, "network.cedar:1:1: for policy `a`, attribute `rank`"},
		{"unknown action", "@id(\"a\")\npermit (principal, action == Action::\"delete\", resource);\n", policy.ErrSchema, "Action::\"delete\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSet(t, dir, tt.text, string(schema))
			_, err := policy.Load(dir)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Load(%s) = %v, want %v containing %q", tt.name, err, tt.wantErr, tt.wantMsg)
			}
			if err != nil && !strings.Contains(err.Error(), filepath.Join(dir, policy.PolicyFile)) {
				t.Errorf("Load(%s) = %v, want the file path in it", tt.name, err)
			}
		})
	}
}

func TestLoadBrokenSchema(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, "@id(\"a\")\npermit (principal, action, resource);\n", "entity Person {\n  state: String\n")
	_, err := policy.Load(dir)
	if !errors.Is(err, policy.ErrParse) || !strings.Contains(err.Error(), filepath.Join(dir, policy.SchemaFile)+":") {
		t.Errorf("Load(broken schema) = %v, want ErrParse naming %s", err, policy.SchemaFile)
	}
	if err := os.Remove(filepath.Join(dir, policy.SchemaFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(dir); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("Load(no schema) = %v, want an error about the missing schema", err)
	}
}

func TestReloadKeepsOldSetOnError(t *testing.T) {
	dir := t.TempDir()
	copySet(t, dir)
	e := newEngine(t)
	before := e.Set()
	b := amberToUS()

	writeFile(t, filepath.Join(dir, policy.PolicyFile), "permit (principal, action, resource")
	if err := e.Reload(dir); !errors.Is(err, policy.ErrParse) {
		t.Fatalf("Reload(broken) = %v, want ErrParse", err)
	}
	if e.Set() != before {
		t.Fatalf("Reload(broken) replaced the set")
	}
	if d := e.Read(usAnalyst, policy.PersonAttrs{}, b); !d.Allowed {
		t.Errorf("Read after failed reload = %+v, want allowed by the old set", d)
	}

	// A valid set that refuses analysts everything replaces the old one.
	text := "@id(\"read-focal-point\")\npermit (principal is Person, action == Action::\"read\", resource) when { principal.role == \"focal-point\" };\n"
	writeFile(t, filepath.Join(dir, policy.PolicyFile), text)
	if err := e.Reload(dir); err != nil {
		t.Fatalf("Reload(valid) = %v", err)
	}
	if d := e.Read(usAnalyst, policy.PersonAttrs{}, b); d.Allowed || d.Rule() != policy.DefaultDeny {
		t.Errorf("Read after reload = %+v, want default-deny", d)
	}
}

func TestReloadConcurrent(t *testing.T) {
	dir := t.TempDir()
	copySet(t, dir)
	e := newEngine(t)
	b := amberToUS()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if d := e.Read(usFocal, policy.PersonAttrs{}, b); !d.Allowed {
					t.Errorf("Read during reload = %+v", d)
					return
				}
			}
		})
	}
	for range 5 {
		if err := e.Reload(dir); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func writeSet(tb testing.TB, dir, policyText, schemaText string) {
	tb.Helper()
	writeFile(tb, filepath.Join(dir, policy.PolicyFile), policyText)
	writeFile(tb, filepath.Join(dir, policy.SchemaFile), schemaText)
}

func writeFile(tb testing.TB, path, text string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func copySet(tb testing.TB, dir string) {
	tb.Helper()
	for _, f := range []string{policy.PolicyFile, policy.SchemaFile} {
		b, err := os.ReadFile(filepath.Join(policyDir, f))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
