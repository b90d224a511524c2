package identity_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
)

var td = spiffeid.RequireTrustDomainFromString("iant.test")

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want identity.Principal
	}{
		{"node", "spiffe://iant.test/state/MX/node/node", identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"}},
		{"focal point", "spiffe://iant.test/state/JM/focal-point/ana", identity.Principal{State: "JM", Role: identity.RoleFocalPoint, Name: "ana"}},
		{"analyst", "spiffe://iant.test/state/AR/analyst/luis.perez_2", identity.Principal{State: "AR", Role: identity.RoleAnalyst, Name: "luis.perez_2"}},
		{"secretariat node", "spiffe://iant.test/secretariat/node/node", identity.Principal{Role: identity.RoleSecretariatNode, Name: "node"}},
		{"auditor", "spiffe://iant.test/secretariat/auditor/a-1", identity.Principal{Role: identity.RoleAuditor, Name: "a-1"}},
		{"admin", "spiffe://iant.test/secretariat/admin/admin", identity.Principal{Role: identity.RoleAdmin, Name: "admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.ParseString(td, tt.id)
			if err != nil || got != tt.want {
				t.Fatalf("ParseString(%q) = %+v, %v, want %+v", tt.id, got, err, tt.want)
			}
			id := spiffeid.RequireFromString(tt.id)
			got, err = identity.Parse(td, id)
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %+v, %v, want %+v", tt.id, got, err, tt.want)
			}
			if back := got.ID(td); back != id {
				t.Errorf("%+v.ID() = %q, want %q", got, back, tt.id)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("%+v.Validate() = %v, want nil", got, err)
			}
		})
	}
}

func TestParseStringBad(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"other trust domain", "spiffe://other.test/state/MX/node/node", identity.ErrTrustDomain},
		{"trust domain only", "spiffe://iant.test", identity.ErrScheme},
		{"not a SPIFFE ID", "https://iant.test/state/MX/node/node", identity.ErrScheme},
		{"empty", "", identity.ErrScheme},
		{"unknown role", "spiffe://iant.test/state/MX/minister/node", identity.ErrScheme},
		{"auditor under a state", "spiffe://iant.test/state/MX/auditor/a", identity.ErrScheme},
		{"unknown secretariat role", "spiffe://iant.test/secretariat/analyst/a", identity.ErrScheme},
		{"unknown top segment", "spiffe://iant.test/states/MX/node/node", identity.ErrScheme},
		{"lower-case state", "spiffe://iant.test/state/mx/node/node", identity.ErrState},
		{"non-member state", "spiffe://iant.test/state/FR/node/node", identity.ErrState},
		{"three-letter state", "spiffe://iant.test/state/MEX/node/node", identity.ErrState},
		{"extra segment", "spiffe://iant.test/state/MX/node/node/x", identity.ErrScheme},
		{"extra secretariat segment", "spiffe://iant.test/secretariat/node/node/x", identity.ErrScheme},
		{"missing name", "spiffe://iant.test/state/MX/node", identity.ErrScheme},
		{"missing secretariat name", "spiffe://iant.test/secretariat/auditor", identity.ErrScheme},
		{"empty name", "spiffe://iant.test/state/MX/node/", identity.ErrScheme},
		{"upper-case name", "spiffe://iant.test/state/MX/analyst/Ana", identity.ErrScheme},
		{"dot name", "spiffe://iant.test/secretariat/node/.", identity.ErrScheme},
		{"percent in name", "spiffe://iant.test/state/MX/analyst/a%20b", identity.ErrScheme},
		{"long name", "spiffe://iant.test/state/MX/analyst/" + fmt.Sprintf("%065d", 0), identity.ErrScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.ParseString(td, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseString(%q) = %+v, %v, want error %v", tt.id, got, err, tt.want)
			}
			if got != (identity.Principal{}) {
				t.Errorf("ParseString(%q) = %+v with error, want the zero Principal", tt.id, got)
			}
		})
	}
}

func TestPrincipalValidate(t *testing.T) {
	tests := []struct {
		name string
		p    identity.Principal
		want error
	}{
		{"unspecified role", identity.Principal{State: "MX", Name: "a"}, identity.ErrScheme},
		{"secretariat with state", identity.Principal{State: "MX", Role: identity.RoleAuditor, Name: "a"}, identity.ErrScheme},
		{"state role without state", identity.Principal{Role: identity.RoleAnalyst, Name: "a"}, identity.ErrState},
		{"empty name", identity.Principal{State: "MX", Role: identity.RoleNode}, identity.ErrScheme},
		{"slash in name", identity.Principal{State: "MX", Role: identity.RoleNode, Name: "a/b"}, identity.ErrScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("%+v.Validate() = %v, want %v", tt.p, err, tt.want)
			}
		})
	}
}

func TestPrincipalIDPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Principal{}.ID() did not panic")
		}
	}()
	identity.Principal{}.ID(td)
}

func TestRole(t *testing.T) {
	tests := []struct {
		role                  identity.Role
		str, seg              string
		person, isSecretariat bool
	}{
		{identity.RoleNode, "node", "node", false, false},
		{identity.RoleFocalPoint, "focal-point", "focal-point", true, false},
		{identity.RoleAnalyst, "analyst", "analyst", true, false},
		{identity.RoleSecretariatNode, "secretariat-node", "node", false, true},
		{identity.RoleAuditor, "secretariat-auditor", "auditor", true, true},
		{identity.RoleAdmin, "secretariat-admin", "admin", true, true},
		{identity.RoleUnspecified, "role(0)", "", false, false},
	}
	for _, tt := range tests {
		if got := tt.role.String(); got != tt.str {
			t.Errorf("Role(%d).String() = %q, want %q", int(tt.role), got, tt.str)
		}
		if got := tt.role.Segment(); got != tt.seg {
			t.Errorf("Role(%d).Segment() = %q, want %q", int(tt.role), got, tt.seg)
		}
		if got := tt.role.IsPerson(); got != tt.person {
			t.Errorf("Role(%d).IsPerson() = %v, want %v", int(tt.role), got, tt.person)
		}
		if got := tt.role.IsSecretariat(); got != tt.isSecretariat {
			t.Errorf("Role(%d).IsSecretariat() = %v, want %v", int(tt.role), got, tt.isSecretariat)
		}
	}
}

func FuzzParseString(f *testing.F) {
	for _, s := range []string{
		"spiffe://iant.test/state/MX/node/node",
		"spiffe://iant.test/state/JM/focal-point/ana",
		"spiffe://iant.test/state/AR/analyst/luis",
		"spiffe://iant.test/secretariat/node/node",
		"spiffe://iant.test/secretariat/auditor/a",
		"spiffe://iant.test/state/mx/node/node",
		"spiffe://other.test/state/MX/node/node",
		"spiffe://iant.test/state/MX/node/node/x",
		"spiffe://iant.test/state/MX/node/..",
		"spiffe://iant.test",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := identity.ParseString(td, s)
		if err != nil {
			if p != (identity.Principal{}) {
				t.Fatalf("ParseString(%q) = %+v, %v, want the zero Principal with an error", s, p, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseString(%q) = %+v, which fails Validate: %v", s, p, err)
		}
		if got := p.ID(td).String(); got != s {
			t.Fatalf("ParseString(%q).ID() = %q, want the input back", s, got)
		}
	})
}

func ExampleParseString() {
	td := spiffeid.RequireTrustDomainFromString("iant.test")
	p, err := identity.ParseString(td, "spiffe://iant.test/state/MX/focal-point/ana")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.State, p.Role, p.Name, p.Role.IsPerson())
	fmt.Println(p)

	auditor := identity.Principal{Role: identity.RoleAuditor, Name: "eva"}
	fmt.Println(auditor.ID(td))

	_, err = identity.ParseString(td, "spiffe://iant.test/state/FR/analyst/jean")
	fmt.Println(errors.Is(err, identity.ErrState))
	// Output:
	// MX focal-point ana true
	// MX/focal-point/ana
	// spiffe://iant.test/secretariat/auditor/eva
	// true
}
