package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"
	xast "github.com/cedar-policy/cedar-go/x/exp/ast"
	"github.com/cedar-policy/cedar-go/x/exp/schema"
	"github.com/cedar-policy/cedar-go/x/exp/schema/validate"
)

// File names [Load] reads from a policy directory.
const (
	PolicyFile = "network.cedar"
	SchemaFile = "network.cedarschema"
)

// maxIDLen bounds a policy id: it travels in errors and audit records.
const maxIDLen = 64

// Set is a parsed and validated network policy set: the policies of
// network.cedar in file order, each named by its @id, and the schema they
// were validated against. A Set is immutable apart from its cache of
// compiled bulletin conditions, and safe for concurrent use.
type Set struct {
	rules    []*rule
	byAction [numActions][]*rule // the rules whose action scope may match
	byID     map[string]*rule
	// validator checks bulletin conditions; nil when the set was parsed
	// without a schema.
	validator *validate.Validator
	conds     *condCache
}

// rule is one named policy.
type rule struct {
	id     string
	policy *cedar.Policy
	forbid bool
	doc    string // @doc: the public one-line reason
	origin string // "network" or "bulletin"
	pos    cedar.Position
}

// Load reads PolicyFile and SchemaFile from dir and returns the validated
// set. See [LoadFiles] for the errors.
func Load(dir string) (*Set, error) {
	return LoadFiles(filepath.Join(dir, PolicyFile), filepath.Join(dir, SchemaFile))
}

// LoadFiles reads a policy file and its schema file and returns the
// validated set. An empty schemaPath skips validation (policy tests and
// tools only; a node always loads a schema). Errors name the file and the
// position and wrap [ErrParse], [ErrSchema] or [ErrID], or the error of
// reading a file.
func LoadFiles(policyPath, schemaPath string) (*Set, error) {
	text, err := os.ReadFile(policyPath)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var schemaText []byte
	if schemaPath != "" {
		schemaText, err = os.ReadFile(schemaPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("policy: schema %s is missing: %w", schemaPath, err)
		} else if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	return parse(policyPath, text, schemaPath, schemaText)
}

// Parse parses network policy text and validates it against schema text
// (the Cedar schema format); nil schemaText skips validation. Every policy
// needs a unique @id annotation. Errors name the position and wrap
// [ErrParse], [ErrSchema] or [ErrID].
func Parse(policyText, schemaText []byte) (*Set, error) {
	return parse(PolicyFile, policyText, SchemaFile, schemaText)
}

func parse(policyName string, text []byte, schemaName string, schemaText []byte) (*Set, error) {
	list, err := cedar.NewPolicyListFromBytes(policyName, text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrParse, policyName, cedarParseMsg(err, policyName))
	}
	if len(list) == 0 {
		// An empty set refuses everything: far more likely a truncated
		// file than an intent, so a reload must not swap it in.
		return nil, fmt.Errorf("%w: %s: no policies", ErrParse, policyName)
	}
	s := &Set{byID: make(map[string]*rule, len(list)), conds: newCondCache(condCacheSize)}
	for _, p := range list {
		if err := s.add(newRule(p, "network")); err != nil {
			return nil, err
		}
	}
	if schemaText != nil {
		if s.validator, err = newValidator(schemaName, schemaText); err != nil {
			return nil, err
		}
		for _, r := range s.rules {
			if err := s.validator.Policy(r.id, (*xast.Policy)(r.policy.AST())); err != nil {
				return nil, fmt.Errorf("%w: %s: %s", ErrSchema, posString(r.pos), oneLine(err))
			}
		}
	}
	for a := range numActions {
		for _, r := range s.rules {
			if mayApply(r.policy, a) {
				s.byAction[a] = append(s.byAction[a], r)
			}
		}
	}
	return s, nil
}

// add appends a network rule after checking its @id.
func (s *Set) add(r *rule) error {
	if r.id == "" {
		return fmt.Errorf("%w: %s: policy has no @id(\"...\") annotation", ErrID, posString(r.pos))
	}
	if err := checkID(r.id); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrID, posString(r.pos), err)
	}
	if prev, dup := s.byID[r.id]; dup {
		return fmt.Errorf("%w: %s: @id %q is already used at %s", ErrID, posString(r.pos), r.id, posString(prev.pos))
	}
	s.byID[r.id] = r
	s.rules = append(s.rules, r)
	return nil
}

// newValidator parses and resolves a schema in the Cedar schema format.
func newValidator(name string, text []byte) (*validate.Validator, error) {
	var sc schema.Schema
	sc.SetFilename(name)
	if err := sc.UnmarshalCedar(text); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrParse, withFile(err.Error(), name))
	}
	res, err := sc.Resolve()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrParse, name, err)
	}
	return validate.New(res, validate.WithStrict()), nil
}

// newRule names p by its @id annotation ("" when it has none).
func newRule(p *cedar.Policy, origin string) *rule {
	r := &rule{policy: p, forbid: p.Effect() == cedar.Forbid, origin: origin, pos: p.Position()}
	for _, a := range p.AST().Annotations {
		switch a.Key {
		case "id":
			r.id = string(a.Value)
		case "doc":
			r.doc = string(a.Value)
		}
	}
	return r
}

// checkID accepts readable slugs: lower-case letters, digits, '-' and '.',
// at most maxIDLen bytes, not one of the reserved ids.
func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("@id must be 1 to %d characters", maxIDLen)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("@id %q may hold only a-z, 0-9, '-' and '.'", id)
		}
	}
	if id == DefaultDeny || id == ConditionsInvalid {
		return fmt.Errorf("@id %q is reserved", id)
	}
	return nil
}

// mayApply reports whether p's action scope can match action a. It errs
// towards true: the set has no action groups, so "in" is equality.
func mayApply(p *cedar.Policy, a action) bool {
	uid := actionUIDs[a]
	switch sc := (*xast.Policy)(p.AST()).Action.(type) {
	case xast.ScopeTypeEq:
		return sc.Entity == uid
	case xast.ScopeTypeInSet:
		for _, e := range sc.Entities {
			if e == uid {
				return true
			}
		}
		return false
	}
	return true
}

// Len returns the number of policies in the set.
func (s *Set) Len() int { return len(s.rules) }

// IDs returns the policy ids in file order.
func (s *Set) IDs() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.id
	}
	return out
}

// Validated reports whether the set was checked against a schema.
func (s *Set) Validated() bool { return s.validator != nil }

// posString formats a position as "file:line:column".
func posString(p cedar.Position) string {
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// cedarParseMsg puts the file name where cedar-go's parser writes
// "<input>" (it does not know the file name).
func cedarParseMsg(err error, name string) string {
	return withFile(oneLine(err), name)
}

func withFile(msg, name string) string {
	return strings.ReplaceAll(msg, "<input>", name)
}

// oneLine joins a multi-line error (the validator reports one problem a
// line) with "; ".
func oneLine(err error) string {
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
