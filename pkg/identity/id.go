package identity

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/region"
)

// Role is what a principal does in the network. Its numeric values equal
// the wire enum iant.v1.Role and are frozen.
type Role int

// Roles of the SPIFFE ID scheme.
const (
	RoleUnspecified     Role = iota
	RoleNode                 // a member state's node
	RoleFocalPoint           // a national focal point (person)
	RoleAnalyst              // an analyst (person)
	RoleSecretariatNode      // the secretariat's node
	RoleAuditor              // a secretariat auditor (person)
	RoleAdmin                // a secretariat administrator (person): membership and deny list
)

// segment is the path segment of each role.
var segment = map[Role]string{
	RoleNode:            "node",
	RoleFocalPoint:      "focal-point",
	RoleAnalyst:         "analyst",
	RoleSecretariatNode: "node",
	RoleAuditor:         "auditor",
	RoleAdmin:           "admin",
}

// String returns the role as it appears in a SPIFFE path, with the
// secretariat roles prefixed ("secretariat-node", "secretariat-auditor").
func (r Role) String() string {
	switch r {
	case RoleSecretariatNode:
		return "secretariat-node"
	case RoleAuditor:
		return "secretariat-auditor"
	case RoleAdmin:
		return "secretariat-admin"
	}
	if s, ok := segment[r]; ok {
		return s
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// Segment returns the path segment of the role ("focal-point", "node").
func (r Role) Segment() string { return segment[r] }

// IsPerson reports whether the role is held by a person (not a node).
func (r Role) IsPerson() bool {
	return r == RoleFocalPoint || r == RoleAnalyst || r == RoleAuditor || r == RoleAdmin
}

// IsSecretariat reports whether the role belongs to the secretariat.
func (r Role) IsSecretariat() bool {
	return r == RoleSecretariatNode || r == RoleAuditor || r == RoleAdmin
}

// Sentinel errors returned by [Parse] and [ParseString], wrapped with detail.
var (
	ErrTrustDomain = errors.New("identity: SPIFFE ID of another trust domain")
	ErrScheme      = errors.New("identity: SPIFFE ID does not follow the IANT scheme")
	ErrState       = errors.New("identity: unknown state code")
)

// Principal is a parsed IANT identity.
type Principal struct {
	// State is the member state's ISO code; empty for the secretariat.
	State string
	// Role is what the principal does.
	Role Role
	// Name tells principals of one state and role apart.
	Name string
}

// ID formats p as a SPIFFE ID in trust domain td. It panics if p is not
// well-formed; use [Principal.Validate] for untrusted values.
func (p Principal) ID(td spiffeid.TrustDomain) spiffeid.ID {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	var id spiffeid.ID
	var err error
	if p.Role.IsSecretariat() {
		id, err = spiffeid.FromSegments(td, "secretariat", p.Role.Segment(), p.Name)
	} else {
		id, err = spiffeid.FromSegments(td, "state", p.State, p.Role.Segment(), p.Name)
	}
	if err != nil {
		panic(err)
	}
	return id
}

// Validate reports whether p can be written as an IANT SPIFFE ID.
func (p Principal) Validate() error {
	if _, ok := segment[p.Role]; !ok {
		return fmt.Errorf("%w: unknown role %d", ErrScheme, int(p.Role))
	}
	if p.Role.IsSecretariat() {
		if p.State != "" {
			return fmt.Errorf("%w: secretariat principal with state %q", ErrScheme, p.State)
		}
	} else if !region.IsMember(p.State) {
		return fmt.Errorf("%w %q", ErrState, p.State)
	}
	return validName(p.Name)
}

// validName accepts lower-case names of letters, digits, '-', '_' and '.'.
func validName(n string) error {
	if n == "" || len(n) > 64 {
		return fmt.Errorf("%w: name must be 1 to 64 characters", ErrScheme)
	}
	for _, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("%w: name %q may hold only a-z, 0-9, '-', '_' and '.'", ErrScheme, n)
		}
	}
	if n == "." || n == ".." {
		return fmt.Errorf("%w: name %q", ErrScheme, n)
	}
	return nil
}

// String formats p without a trust domain, e.g. "MX/focal-point/ana".
func (p Principal) String() string {
	if p.Role.IsSecretariat() {
		return "secretariat/" + p.Role.Segment() + "/" + p.Name
	}
	return p.State + "/" + p.Role.Segment() + "/" + p.Name
}

// Parse reads id as an IANT principal of trust domain td. It returns an
// error wrapping [ErrTrustDomain], [ErrScheme] or [ErrState].
func Parse(td spiffeid.TrustDomain, id spiffeid.ID) (Principal, error) {
	if !id.MemberOf(td) {
		return Principal{}, fmt.Errorf("%w: %q is not in %q", ErrTrustDomain, id.String(), td.Name())
	}
	segs := strings.Split(strings.TrimPrefix(id.Path(), "/"), "/")
	switch {
	case len(segs) == 3 && segs[0] == "secretariat":
		var p Principal
		switch segs[1] {
		case "node":
			p = Principal{Role: RoleSecretariatNode, Name: segs[2]}
		case "auditor":
			p = Principal{Role: RoleAuditor, Name: segs[2]}
		case "admin":
			p = Principal{Role: RoleAdmin, Name: segs[2]}
		default:
			return Principal{}, fmt.Errorf("%w: unknown secretariat role %q", ErrScheme, segs[1])
		}
		return validated(p)
	case len(segs) == 4 && segs[0] == "state":
		p := Principal{State: segs[1], Name: segs[3]}
		switch segs[2] {
		case "node":
			p.Role = RoleNode
		case "focal-point":
			p.Role = RoleFocalPoint
		case "analyst":
			p.Role = RoleAnalyst
		default:
			return Principal{}, fmt.Errorf("%w: unknown role %q", ErrScheme, segs[2])
		}
		return validated(p)
	}
	return Principal{}, fmt.Errorf("%w: path %q", ErrScheme, id.Path())
}

// validated returns p if it is well-formed and the zero Principal with the
// error otherwise, so a caller ignoring the error never holds a half-parsed
// identity.
func validated(p Principal) (Principal, error) {
	if err := p.Validate(); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// ParseString parses a SPIFFE ID string and then calls [Parse].
func ParseString(td spiffeid.TrustDomain, s string) (Principal, error) {
	id, err := spiffeid.FromString(s)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrScheme, err)
	}
	return Parse(td, id)
}
