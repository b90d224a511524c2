package policy

import (
	"fmt"
	"iter"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Decision is the answer to one request.
type Decision struct {
	// Allowed is true when a permit matched and no forbid did.
	Allowed bool
	// PolicyIDs are the @id of the policies that decided, in policy-file
	// order, network policies before the bulletin's conditions: the
	// matching permits if allowed; the matching forbids if refused, or
	// [DefaultDeny] when no permit matched, or [ConditionsInvalid].
	PolicyIDs []string
	// Reason is a public one-line explanation: the @doc of the first
	// deciding policy.
	Reason string
}

// Rule returns the first deciding policy id, [DefaultDeny] for the zero
// Decision.
func (d Decision) Rule() string {
	if len(d.PolicyIDs) == 0 {
		return DefaultDeny
	}
	return d.PolicyIDs[0]
}

// Err returns nil if d allows, and otherwise a *problem.Error of kind
// Permission whose Rule is the first deciding policy id and whose public
// message is d.Reason.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	msg := d.Reason
	if msg == "" {
		msg = "refused by policy " + d.Rule()
	}
	return &problem.Error{Kind: problem.KindPermission, Rule: d.Rule(), Msg: msg}
}

// ruleIter yields the network rules of one action, then a bulletin's
// conditions, in order.
type ruleIter struct{ network, conds []*rule }

// All implements cedar.PolicyIterator.
func (it *ruleIter) All() iter.Seq2[cedar.PolicyID, *cedar.Policy] {
	return func(yield func(cedar.PolicyID, *cedar.Policy) bool) {
		for _, rs := range [2][]*rule{it.network, it.conds} {
			for _, r := range rs {
				if !yield(cedar.PolicyID(r.id), r.policy) {
					return
				}
			}
		}
	}
}

func (it *ruleIter) find(id cedar.PolicyID) *rule {
	for _, rs := range [2][]*rule{it.network, it.conds} {
		for _, r := range rs {
			if cedar.PolicyID(r.id) == id {
				return r
			}
		}
	}
	return nil
}

// authorize runs one request. A forbid that fails to evaluate refuses
// (Cedar would skip it, which for a forbid means failing open); a permit
// that fails to evaluate is skipped, which fails closed.
func authorize(network, conds []*rule, ents *pair, req cedar.Request) Decision {
	it := &ruleIter{network: network, conds: conds}
	dec, diag := cedar.Authorize(it, ents, req)
	var ids []string
	if dec == cedar.Deny {
		for _, r := range diag.Reasons {
			ids = append(ids, string(r.PolicyID))
		}
	}
	failed := false
	for _, e := range diag.Errors {
		if r := it.find(e.PolicyID); r != nil && r.forbid {
			ids = append(ids, r.id)
			failed = true
		}
	}
	switch {
	case dec == cedar.Allow && !failed:
		return allow(it, diag.Reasons)
	case len(ids) == 0:
		return Decision{PolicyIDs: []string{DefaultDeny}, Reason: "no policy permits this"}
	}
	matched := dec == cedar.Deny && len(diag.Reasons) > 0
	return Decision{PolicyIDs: ids, Reason: reasonOf(it.find(cedar.PolicyID(ids[0])), !matched)}
}

func allow(it *ruleIter, reasons []cedar.DiagnosticReason) Decision {
	ids := make([]string, len(reasons))
	for i, r := range reasons {
		ids[i] = string(r.PolicyID)
	}
	return Decision{Allowed: true, PolicyIDs: ids, Reason: reasonOf(it.find(reasons[0].PolicyID), false)}
}

// reasonOf is the public reason a rule gives.
func reasonOf(r *rule, failed bool) string {
	switch {
	case r == nil:
		return ""
	case failed:
		return fmt.Sprintf("policy %s could not be evaluated, so the request is refused", r.id)
	case r.origin == "bulletin" && r.doc == "":
		return fmt.Sprintf("a condition of this bulletin refuses it (%s)", r.id)
	case r.origin == "bulletin":
		return fmt.Sprintf("a condition of this bulletin refuses it (%s): %s", r.id, r.doc)
	case r.doc == "":
		return "refused by policy " + r.id
	}
	return r.doc
}
