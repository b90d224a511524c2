package membership

import (
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// ChangeKind is what a [Change] does to one state. Its numeric values
// equal the wire enum iant.v1.MembershipChange.
type ChangeKind int

// The changes.
const (
	ChangeUnspecified ChangeKind = iota
	// Add makes a state that is not a member an active one.
	Add
	// Suspend suspends an active member.
	Suspend
	// Reinstate makes a suspended member active again.
	Reinstate
	// Remove removes an active or suspended member for good.
	Remove
)

var changeNames = [...]string{"", "add", "suspend", "reinstate", "remove"}

// String returns "add", "suspend", "reinstate" or "remove".
func (k ChangeKind) String() string {
	if k <= ChangeUnspecified || int(k) >= len(changeNames) {
		return fmt.Sprintf("change(%d)", int(k))
	}
	return changeNames[k]
}

// Change is one change of the table, as an administrator asks for it.
type Change struct {
	Kind  ChangeKind
	State string
	// Region is required to add; it must be the state's region in the
	// region table (a state's region is not the secretariat's to move:
	// every node resolves regions alike).
	Region region.Region
	// Nodes are the names of the state's nodes to admit, to add only;
	// empty means [DefaultNodeName].
	Nodes []string
	// Reason is why; optional, at most [MaxReasonBytes].
	Reason string
}

// Change returns the next version of t with c applied at now. Bad input
// is a *problem.Error naming the field (state, region, nodes, reason,
// change); a change the state's standing does not allow (suspending a
// state that is not active, adding a member) is a Conflict.
func (t Table) Change(c Change, now time.Time) (Table, error) {
	st, err := c.check()
	if err != nil {
		return Table{}, err
	}
	cur, listed := t.Member(c.State)
	next := Member{State: c.State, Region: st.Region, Nodes: cur.Nodes, Since: wireTime(now), Reason: c.Reason}
	switch c.Kind {
	case Add:
		if listed && cur.Status == Removed {
			return Table{}, problem.Conflict("%s was removed from the network on %s, for good: a removed state is not added again",
				c.State, cur.Since.Format(time.DateOnly))
		}
		if listed {
			return Table{}, problem.Conflict("%s is already a member (%s)", c.State, cur.Status)
		}
		if c.Region != st.Region {
			return Table{}, problem.Invalid("region", "%s is in %s in region table %s, not %s", c.State, st.Region, region.Version, c.Region)
		}
		next.Status, next.Nodes = Active, c.Nodes
		if len(next.Nodes) == 0 {
			next.Nodes = []string{DefaultNodeName}
		}
	case Suspend:
		if cur.Status != Active {
			return Table{}, problem.Conflict("%s is not an active member (%s): only an active member is suspended", c.State, standing(cur.Status))
		}
		next.Status = Suspended
	case Reinstate:
		if cur.Status != Suspended {
			return Table{}, problem.Conflict("%s is not suspended (%s): only a suspended member is reinstated", c.State, standing(cur.Status))
		}
		next.Status = Active
	case Remove:
		if cur.Status != Active && cur.Status != Suspended {
			return Table{}, problem.Conflict("%s is not a member (%s): only a member is removed", c.State, standing(cur.Status))
		}
		next.Status = Removed
	}
	out := t.clone()
	out.Version, out.Issued = t.Version+1, wireTime(now)
	i, _ := slices.BinarySearchFunc(out.Members, c.State, func(m Member, s string) int { return compare(m.State, s) })
	if listed {
		out.Members[i] = next
	} else {
		out.Members = slices.Insert(out.Members, i, next)
	}
	if err := out.check(); err != nil {
		return Table{}, problem.Internal(err)
	}
	return out, nil
}

// check validates c's fields and returns the state's region-table entry.
func (c Change) check() (region.State, error) {
	st, ok := region.Lookup(c.State)
	switch {
	case c.Kind <= ChangeUnspecified || c.Kind > Remove:
		return st, problem.Invalid("change", "change %d is not add, suspend, reinstate or remove", int(c.Kind))
	case c.State == "":
		return st, problem.Invalid("state", "state is required")
	case !ok:
		return st, problem.Invalid("state", "%q is not a state of region table %s (want an upper-case ISO code)", c.State, region.Version)
	case c.Kind == Add && c.Region == region.Unspecified:
		return st, problem.Invalid("region", "region is required to add a state (%s is in %s)", c.State, st.Region)
	case c.Kind != Add && len(c.Nodes) > 0:
		return st, problem.Invalid("nodes", "nodes are named only when a state is added")
	case len(c.Nodes) > MaxNodesPerState:
		return st, problem.Invalid("nodes", "%d nodes, at most %d", len(c.Nodes), MaxNodesPerState)
	}
	for i, n := range c.Nodes {
		if err := (identity.Principal{State: c.State, Role: identity.RoleNode, Name: n}).Validate(); err != nil {
			return st, problem.Invalid("nodes", "node name %q: %v", n, err)
		}
		if slices.Contains(c.Nodes[:i], n) {
			return st, problem.Invalid("nodes", "node name %q given twice", n)
		}
	}
	if err := checkReason(c.Reason); err != nil {
		return st, problem.Invalid("reason", "%v", err)
	}
	return st, nil
}

// standing describes a status for an error message.
func standing(s Status) string {
	if s == StatusUnspecified {
		return "not a member"
	}
	return s.String()
}

// clone returns a copy of t that shares nothing mutable with it.
func (t Table) clone() Table {
	out := t
	out.Members = make([]Member, len(t.Members))
	for i, m := range t.Members {
		m.Nodes = slices.Clone(m.Nodes)
		out.Members[i] = m
	}
	return out
}
