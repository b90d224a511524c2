package policy

import (
	"fmt"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Outcome is what one policy did in a request.
type Outcome int

// Outcomes of a policy in an explanation.
const (
	NotMatched Outcome = iota // its scope or conditions did not hold
	Matched                   // it applies: a permit allows, a forbid refuses
	Failed                    // it could not be evaluated
)

var outcomeNames = [...]string{"did not match", "matched", "failed"}

// String returns "matched", "did not match" or "failed".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// Step is one policy's part in a decision.
type Step struct {
	PolicyID string
	Forbid   bool   // effect: forbid, else permit
	Origin   string // "network" or "bulletin" (its conditions)
	Position string // "file:line:column"
	Doc      string // the policy's @doc, may be empty
	Outcome  Outcome
	Error    string // why it failed, for Outcome Failed
}

// String renders the step as one line, e.g.
// "forbid read-red-focal-points-only (network.cedar:160:1): matched — TLP:RED bulletins are read only by focal points".
func (st Step) String() string {
	effect := "permit"
	if st.Forbid {
		effect = "forbid"
	}
	line := fmt.Sprintf("%s %s (%s): %s", effect, st.PolicyID, st.Position, st.Outcome)
	switch {
	case st.Outcome == Failed:
		line += ": " + st.Error
	case st.Doc != "":
		line += " — " + st.Doc
	}
	return line
}

// Explanation is a decision with the part every policy took in it.
type Explanation struct {
	Action   string // "read"
	Decision Decision
	// Steps lists every policy that can apply to the action, network
	// policies in file order, then the bulletin's conditions.
	Steps []Step
}

// String renders the explanation as human text: the decision, the rule of
// combination, then one line a policy.
func (x Explanation) String() string {
	var b strings.Builder
	verdict := "REFUSED"
	if x.Decision.Allowed {
		verdict = "ALLOWED"
	}
	fmt.Fprintf(&b, "%s %s by %s: %s\n", x.Action, verdict, strings.Join(x.Decision.PolicyIDs, ", "), x.Decision.Reason)
	b.WriteString("allowed when a permit matches and no forbid does; a forbid that fails refuses\n")
	for i, st := range x.Steps {
		fmt.Fprintf(&b, "%2d. %s\n", i+1, st)
	}
	return b.String()
}

// ExplainRead decides [Engine.Read] and explains it: for every policy that
// can apply to read, whether it matched. It evaluates each policy on its
// own, so it costs about one decision a policy; use it for people asking
// why, not on the hot path.
func (e *Engine) ExplainRead(p identity.Principal, attrs PersonAttrs, b *bulletin.Bulletin) Explanation {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return s.explain(actRead, principalEntity(p, attrs), res, nowContext(e.now()), b.Conditions)
}

func (s *Set) explain(a action, principal, res cedar.Entity, ctx cedar.Record, conditions string) Explanation {
	c := s.conditions(conditions)
	x := Explanation{Action: actionNames[a], Decision: s.decideWith(a, principal, res, ctx, c)}
	ents := &pair{principal: principal, resource: res}
	req := cedar.Request{Principal: principal.UID, Action: actionUIDs[a], Resource: res.UID, Context: ctx}
	for _, rs := range [2][]*rule{s.byAction[a], c.rules} {
		for _, r := range rs {
			x.Steps = append(x.Steps, explainRule(r, ents, req))
		}
	}
	if c.err != nil {
		x.Steps = append(x.Steps, Step{PolicyID: ConditionsInvalid, Forbid: true, Origin: "bulletin",
			Position: conditionsFile, Outcome: Failed, Error: c.err.Error()})
	}
	return x
}

// explainRule evaluates r alone.
func explainRule(r *rule, ents *pair, req cedar.Request) Step {
	st := Step{PolicyID: r.id, Forbid: r.forbid, Origin: r.origin, Position: posString(r.pos), Doc: r.doc}
	_, diag := cedar.Authorize(&ruleIter{network: []*rule{r}}, ents, req)
	switch {
	case len(diag.Errors) > 0:
		st.Outcome, st.Error = Failed, diag.Errors[0].Message
	case len(diag.Reasons) > 0:
		st.Outcome = Matched
	}
	return st
}
