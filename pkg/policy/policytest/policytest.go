// Package policytest runs decision tables against a policy engine: YAML
// files of cases, each a principal, an action, a bulletin and the expected
// decision with the policy id expected among the deciding ones. The Go
// tests of pkg/policy and `iant policy test` run the same tables with the
// same code.
//
//	results, err := policytest.RunTests(eng, "deploy/policies/tests")
//	for _, r := range results { if !r.Pass { fmt.Println(r.Name, r.Problem) } }
//
// A case file is a YAML list:
//
//   - name: analyst cannot read red
//     principal: {state: US, role: analyst, law_enforcement: false}
//     action: read                  # post | release | read | forward | revise | revoke | reply | translate
//     bulletin:
//     origin: MX
//     marking: red                # clear | green | amber | amber+strict | red
//     precedence: flash           # default routine
//     caveats: [law-enforcement-only]
//     release: {states: [US], regions: [caribbean], all: false}
//     conditions: ""              # Cedar forbid policies
//     confidential_audience: true # default false
//     target: CO                    # forward only
//     consent: false                # forward only
//     previous_marking: amber       # revise only: the marking of the revision it follows
//     reply: {kind: rfi, marking: red, to_recipients: false}   # reply only; marking defaults to the bulletin's
//     language: pt                  # translate only
//     now: 2026-12-01T12:00:00Z     # the decision's time (context.now); default 2026-01-01T00:00:00Z
//     expect: deny                  # allow | deny
//     policy: read-red-focal-points-only
//
// The bulletin may also say created and expires (RFC 3339; created
// defaults to a day before now, expires to none).
// For release the principal is the node of principal.state (role is
// ignored). Roles are node, focal-point, analyst, secretariat-node and
// secretariat-auditor (or auditor); secretariat principals have no state.
//
// RunTests is safe for concurrent use if the engine is (it is).
package policytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/region"
)

// Case is one row of a decision table.
type Case struct {
	Name      string        `yaml:"name"`
	Principal CasePrincipal `yaml:"principal"`
	Action    string        `yaml:"action"`
	Bulletin  CaseBulletin  `yaml:"bulletin"`
	Target    string        `yaml:"target"`
	Consent   bool          `yaml:"consent"`
	// PreviousMarking is, for revise, the marking of the revision before.
	PreviousMarking string `yaml:"previous_marking"`
	// Reply is, for reply, the reply's kind, marking and audience.
	Reply CaseReply `yaml:"reply"`
	// Language is, for translate, the translation's language.
	Language string `yaml:"language"`
	// Now is the time of the decision (RFC 3339); default DefaultNow.
	Now    string `yaml:"now"`
	Expect string `yaml:"expect"`
	Policy string `yaml:"policy"`
}

// CaseReply is the reply a reply case decides.
type CaseReply struct {
	Kind         string `yaml:"kind"`
	Marking      string `yaml:"marking"` // default the bulletin's
	ToRecipients bool   `yaml:"to_recipients"`
}

// DefaultNow is the time of a case that gives none.
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// CasePrincipal is who asks.
type CasePrincipal struct {
	State          string `yaml:"state"`
	Role           string `yaml:"role"`
	Name           string `yaml:"name"` // default "test"
	LawEnforcement bool   `yaml:"law_enforcement"`
}

// CaseBulletin is the header of the bulletin asked about.
type CaseBulletin struct {
	Origin     string      `yaml:"origin"`
	Marking    string      `yaml:"marking"`
	Precedence string      `yaml:"precedence"` // default routine
	Category   string      `yaml:"category"`   // default other
	Caveats    []string    `yaml:"caveats"`
	Release    CaseRelease `yaml:"release"`
	Conditions string      `yaml:"conditions"`
	Created    string      `yaml:"created"` // RFC 3339; default a day before the case's now
	Expires    string      `yaml:"expires"` // RFC 3339; default none
	// ConfidentialAudience marks the audience confidential.
	ConfidentialAudience bool `yaml:"confidential_audience"`
}

// CaseRelease is the releasability as an author writes it.
type CaseRelease struct {
	States  []string `yaml:"states"`
	Regions []string `yaml:"regions"`
	All     bool     `yaml:"all"`
}

// TestResult is the outcome of one case.
type TestResult struct {
	File string // base name of the case file
	Case Case
	Got  policy.Decision
	Pass bool
	// Problem says why the case failed: a wrong decision, a wrong policy,
	// or a case that could not be built (then Got is the zero Decision).
	Problem string
}

// Name returns the case name.
func (r TestResult) Name() string { return r.Case.Name }

// RunTests runs the cases of path against e: a YAML file, or a directory
// whose *.yaml files run in name order. The error reports a file that
// cannot be read or decoded (unknown keys included) or a path without
// cases; a case that cannot be built is a failed result, not an error.
func RunTests(e *policy.Engine, path string) ([]TestResult, error) {
	files, err := caseFiles(path)
	if err != nil {
		return nil, err
	}
	var out []TestResult
	for _, f := range files {
		cases, err := ReadCases(f)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			r := Run(e, c)
			r.File = filepath.Base(f)
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("policytest: no cases in %s", path)
	}
	return out, nil
}

func caseFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policytest: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("policytest: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

// ReadCases decodes one case file; unknown keys are errors.
func ReadCases(file string) ([]Case, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policytest: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cases []Case
	if err := dec.Decode(&cases); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("policytest: %s: %w", file, err)
	}
	return cases, nil
}

// Run decides one case.
func Run(e *policy.Engine, c Case) TestResult {
	r := TestResult{Case: c}
	d, err := decide(e, c)
	if err != nil {
		r.Problem = err.Error()
		return r
	}
	r.Got = d
	want := c.Expect == "allow"
	switch {
	case c.Expect != "allow" && c.Expect != "deny":
		r.Problem = fmt.Sprintf("expect is %q, want allow or deny", c.Expect)
	case d.Allowed != want:
		r.Problem = fmt.Sprintf("got %s by %v, want %s", verdict(d.Allowed), d.PolicyIDs, c.Expect)
	case c.Policy != "" && !slices.Contains(d.PolicyIDs, c.Policy):
		r.Problem = fmt.Sprintf("%s by %v, want %s among them", verdict(d.Allowed), d.PolicyIDs, c.Policy)
	default:
		r.Pass = true
	}
	return r
}

func verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

func decide(e *policy.Engine, c Case) (policy.Decision, error) {
	now := DefaultNow
	if c.Now != "" {
		t, err := time.Parse(time.RFC3339, c.Now)
		if err != nil {
			return policy.Decision{}, fmt.Errorf("now: %w", err)
		}
		now = t
	}
	e = e.At(now)
	b, err := c.Bulletin.build(now)
	if err != nil {
		return policy.Decision{}, err
	}
	if c.Action == "release" {
		return e.Release(b, c.Principal.State), nil
	}
	p, attrs, err := c.Principal.build()
	if err != nil {
		return policy.Decision{}, err
	}
	switch c.Action {
	case "post":
		return e.Post(p, b), nil
	case "read":
		return e.Read(p, attrs, b), nil
	case "forward":
		return e.Forward(p, b, c.Target, c.Consent), nil
	case "revise":
		prev, err := bulletin.ParseMarking(c.PreviousMarking)
		if err != nil {
			return policy.Decision{}, fmt.Errorf("previous_marking: %w", err)
		}
		return e.Revise(p, b, prev), nil
	case "revoke":
		return e.Revoke(p, b), nil
	case "reply":
		r, err := c.Reply.build(b.Marking)
		if err != nil {
			return policy.Decision{}, err
		}
		return e.Reply(p, attrs, b, r), nil
	case "translate":
		lang, err := bulletin.ParseLanguage(c.Language)
		if err != nil {
			return policy.Decision{}, fmt.Errorf("language: %w", err)
		}
		return e.Translate(p, attrs, b, lang), nil
	}
	return policy.Decision{}, fmt.Errorf("unknown action %q (want post, release, read, forward, revise, revoke, reply or translate)", c.Action)
}

func (cr CaseReply) build(marking bulletin.Marking) (policy.Reply, error) {
	k, err := bulletin.ParseReplyKind(cr.Kind)
	if err != nil {
		return policy.Reply{}, fmt.Errorf("reply.kind: %w", err)
	}
	r := policy.Reply{Kind: k, Marking: marking, ToRecipients: cr.ToRecipients}
	if cr.Marking != "" {
		if r.Marking, err = bulletin.ParseMarking(cr.Marking); err != nil {
			return policy.Reply{}, fmt.Errorf("reply.marking: %w", err)
		}
	}
	return r, nil
}

var roles = map[string]identity.Role{
	"node":                identity.RoleNode,
	"focal-point":         identity.RoleFocalPoint,
	"analyst":             identity.RoleAnalyst,
	"secretariat-node":    identity.RoleSecretariatNode,
	"secretariat-auditor": identity.RoleAuditor,
	"auditor":             identity.RoleAuditor,
}

func (cp CasePrincipal) build() (identity.Principal, policy.PersonAttrs, error) {
	role, ok := roles[cp.Role]
	if !ok {
		return identity.Principal{}, policy.PersonAttrs{}, fmt.Errorf("unknown role %q", cp.Role)
	}
	p := identity.Principal{State: cp.State, Role: role, Name: cp.Name}
	if p.Name == "" {
		p.Name = "test"
	}
	if err := p.Validate(); err != nil {
		return identity.Principal{}, policy.PersonAttrs{}, err
	}
	return p, policy.PersonAttrs{LawEnforcement: cp.LawEnforcement}, nil
}

func (cb CaseBulletin) build(now time.Time) (*bulletin.Bulletin, error) {
	b := &bulletin.Bulletin{ID: "case", Origin: cb.Origin, Conditions: cb.Conditions,
		Precedence: bulletin.Routine, Category: bulletin.CategoryOther, CreatedAt: now.Add(-24 * time.Hour),
		Releasability: bulletin.Releasability{States: cb.Release.States, All: cb.Release.All}, ConfidentialAudience: cb.ConfidentialAudience}
	var err error
	for _, t := range []struct {
		field, s string
		to       *time.Time
	}{{"created", cb.Created, &b.CreatedAt}, {"expires", cb.Expires, &b.ExpiresAt}} {
		if t.s == "" {
			continue
		}
		if *t.to, err = time.Parse(time.RFC3339, t.s); err != nil {
			return nil, fmt.Errorf("bulletin.%s: %w", t.field, err)
		}
	}
	if b.Marking, err = bulletin.ParseMarking(cb.Marking); err != nil {
		return nil, err
	}
	if cb.Precedence != "" {
		if b.Precedence, err = bulletin.ParsePrecedence(cb.Precedence); err != nil {
			return nil, err
		}
	}
	if cb.Category != "" {
		if b.Category, err = bulletin.ParseCategory(cb.Category); err != nil {
			return nil, err
		}
	}
	for _, s := range cb.Caveats {
		c, err := bulletin.ParseCaveat(s)
		if err != nil {
			return nil, err
		}
		b.Caveats = append(b.Caveats, c)
	}
	for _, s := range cb.Release.Regions {
		g, err := region.Parse(s)
		if err != nil {
			return nil, err
		}
		b.Releasability.Regions = append(b.Releasability.Regions, g)
	}
	if !region.IsMember(b.Origin) {
		return nil, fmt.Errorf("bulletin origin %q is not a member state", b.Origin)
	}
	return b, nil
}
