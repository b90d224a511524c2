package membership

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// Status is a state's standing in the membership table. Its numeric values
// equal the wire enum iant.v1.MemberStatus and are frozen; its text form
// is part of the signed format and frozen too.
type Status int

// Standings of a member state.
const (
	StatusUnspecified Status = iota
	// Active: the state receives copies, and its node and people are
	// admitted.
	Active
	// Suspended: copies released to the state queue on the backbone; its
	// node is cut off from the backbone and its people are refused until
	// it is reinstated.
	Suspended
	// Removed: for good; no copy is released to the state any more.
	Removed
)

var statusNames = [...]string{"", "active", "suspended", "removed"}

// String returns "active", "suspended" or "removed".
func (s Status) String() string {
	if s <= StatusUnspecified || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// parseStatus reads the text form of a status.
func parseStatus(s string) (Status, bool) {
	i := slices.Index(statusNames[:], s)
	return Status(i), i > 0
}

// DefaultNodeName is the node name a state is admitted with when a change
// names none: the name `iant certs` and SPIRE registrations give nodes.
const DefaultNodeName = "node"

// Limits of the documents.
const (
	// MaxReasonBytes bounds a reason given for a change or a denial.
	MaxReasonBytes = 200
	// MaxNodesPerState bounds the node names a member lists.
	MaxNodesPerState = 8
	// MaxDenyEntries bounds the deny list.
	MaxDenyEntries = 10000
	// MaxDocumentBytes bounds a signed document, table or deny list.
	MaxDocumentBytes = 4 << 20
)

// Member is one state of the table.
type Member struct {
	// State is the ISO code, a state of the region table.
	State string
	// Region is the state's region: that of the region table.
	Region region.Region
	// Status is the state's standing.
	Status Status
	// Nodes are the names of the state's nodes the backbone admits
	// (spiffe://<td>/state/<State>/node/<name>) beside the nodes each
	// backbone server is configured with; empty at genesis.
	Nodes []string
	// Since is when Status was last set.
	Since time.Time
	// Reason is why, as the administrator wrote it; may be empty.
	Reason string
}

// NodeIDs returns the SPIFFE IDs of m's listed nodes in trust domain td.
func (m Member) NodeIDs(td spiffeid.TrustDomain) []spiffeid.ID {
	out := make([]spiffeid.ID, 0, len(m.Nodes))
	for _, n := range m.Nodes {
		out = append(out, identity.Principal{State: m.State, Role: identity.RoleNode, Name: n}.ID(td))
	}
	return out
}

// Table is one version of the membership table.
type Table struct {
	// Network is the trust domain name the table is about.
	Network string
	// Version counts the table's versions from 1 (the genesis).
	Version uint64
	// Issued is when the secretariat signed it.
	Issued time.Time
	// Members are the states in the table, sorted by code, each once.
	// A state of the region table that is not listed is not a member.
	Members []Member
}

// Genesis returns version 1 of the table of network: states (codes of the
// region table) all active since now, each in its region-table region.
func Genesis(network string, states []string, now time.Time) (Table, error) {
	if _, err := spiffeid.TrustDomainFromString(network); err != nil {
		return Table{}, fmt.Errorf("membership: genesis: network %q: %w", network, err)
	}
	t := Table{Network: network, Version: 1, Issued: wireTime(now)}
	for _, cc := range slices.Compact(slices.Sorted(slices.Values(states))) {
		st, ok := region.Lookup(cc)
		if !ok {
			return Table{}, fmt.Errorf("membership: genesis: %q is not a state of region table %s", cc, region.Version)
		}
		t.Members = append(t.Members, Member{State: cc, Region: st.Region, Status: Active, Since: t.Issued, Reason: "genesis"})
	}
	if err := t.check(); err != nil {
		return Table{}, err
	}
	return t, nil
}

// Member returns the entry of state cc and whether the table lists it.
func (t *Table) Member(cc string) (Member, bool) {
	i, ok := slices.BinarySearchFunc(t.Members, cc, func(m Member, c string) int { return strings.Compare(m.State, c) })
	if !ok {
		return Member{}, false
	}
	return t.Members[i], true
}

// StatusOf returns the standing of state cc; [StatusUnspecified] when the
// table does not list it (not a member).
func (t *Table) StatusOf(cc string) Status {
	m, _ := t.Member(cc)
	return m.Status
}

// Admits reports whether state cc is an active member: its node and its
// people may take part.
func (t *Table) Admits(cc string) bool { return t.StatusOf(cc) == Active }

// Receives reports whether copies are released to state cc: it is active,
// or suspended (its copies queue on the backbone until it is reinstated).
func (t *Table) Receives(cc string) bool {
	s := t.StatusOf(cc)
	return s == Active || s == Suspended
}

// Receiving returns the states that copies are released to, active and
// suspended, with their regions: the set a bulletin's releasability is
// resolved among ([bulletin.Resolve]).
//
// [bulletin.Resolve]: https://pkg.go.dev/github.com/oas-cicte/iant/pkg/bulletin#Resolve
func (t *Table) Receiving() []region.State {
	var out []region.State
	for _, m := range t.Members {
		if m.Status == Active || m.Status == Suspended {
			st, _ := region.Lookup(m.State)
			out = append(out, region.State{Code: m.State, Name: st.Name, Region: m.Region})
		}
	}
	return out
}

// Codes returns the codes of the states with one of statuses, sorted.
func (t *Table) Codes(statuses ...Status) []string {
	var out []string
	for _, m := range t.Members {
		if slices.Contains(statuses, m.Status) {
			out = append(out, m.State)
		}
	}
	return out
}

// check validates the table's rules; errors wrap [ErrMalformed].
func (t *Table) check() error {
	if _, err := spiffeid.TrustDomainFromString(t.Network); err != nil {
		return fmt.Errorf("%w: network %q: %v", ErrMalformed, t.Network, err)
	}
	if t.Version == 0 {
		return fmt.Errorf("%w: version 0 (versions count from 1)", ErrMalformed)
	}
	if len(t.Members) > len(region.Codes()) {
		return fmt.Errorf("%w: %d members, more than the region table's %d states", ErrMalformed, len(t.Members), len(region.Codes()))
	}
	for i, m := range t.Members {
		if i > 0 && t.Members[i-1].State >= m.State {
			return fmt.Errorf("%w: member %s out of order or listed twice", ErrMalformed, m.State)
		}
		if err := m.check(); err != nil {
			return err
		}
	}
	return nil
}

// check validates one member.
func (m *Member) check() error {
	st, ok := region.Lookup(m.State)
	switch {
	case !ok:
		return fmt.Errorf("%w: %q is not a state of region table %s", ErrMalformed, m.State, region.Version)
	case m.Region != st.Region:
		return fmt.Errorf("%w: %s is in %s, not %s (region table %s)", ErrMalformed, m.State, st.Region, m.Region, region.Version)
	case m.Status <= StatusUnspecified || m.Status > Removed:
		return fmt.Errorf("%w: %s has status %d", ErrMalformed, m.State, int(m.Status))
	case len(m.Nodes) > MaxNodesPerState:
		return fmt.Errorf("%w: %s lists %d nodes, at most %d", ErrMalformed, m.State, len(m.Nodes), MaxNodesPerState)
	}
	for i, n := range m.Nodes {
		if err := (identity.Principal{State: m.State, Role: identity.RoleNode, Name: n}).Validate(); err != nil {
			return fmt.Errorf("%w: %s node %q: %v", ErrMalformed, m.State, n, err)
		}
		if slices.Contains(m.Nodes[:i], n) {
			return fmt.Errorf("%w: %s lists node %q twice", ErrMalformed, m.State, n)
		}
	}
	if err := checkReason(m.Reason); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, m.State, err)
	}
	return checkTime(m.Since)
}
