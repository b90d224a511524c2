package stix

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// Namespace is the UUID namespace of IANT's deterministic STIX ids: every
// id is a UUIDv5 (RFC 9562 §5.5) of this namespace and a name made from
// IANT ids, so exporting the same bulletin twice gives the same ids, and a
// consumer sees a re-export as the same objects. The MISP mapping uses the
// same namespace, so a bulletin's MISP event UUID equals its report's.
var Namespace = uuid.MustParse("65c3a7ee-b264-42a4-9944-4bff17c4164e")

func derive(typ, name string) string {
	return typ + "--" + uuid.NewSHA1(Namespace, []byte(name)).String()
}

// ReportID is the id of the report of the bulletin of origin whose first
// version has IANT id first: every revision of a bulletin is a new
// version of one report. A bulletin is named by its origin and id (each
// state chooses its own bulletins' ids, so two states may use one), and
// so is its report: two states' bulletins of one id are two reports.
func ReportID(origin, first string) string { return derive(TypeReport, BulletinName(origin, first)) }

// BulletinName is the name, in [Namespace], of the bulletin of origin
// whose first version is first: the ids of its objects (and of its MISP
// event's attributes) are derived from it.
func BulletinName(origin, first string) string { return "bulletin/" + origin + "/" + first }

// IndicatorID is the id of the object for in, the n-th (from 0) indicator
// of its type and value in the bulletin of origin whose first version is
// first. It depends on what the indicator is, not on its position, so a
// revision that keeps an indicator keeps its id.
func IndicatorID(origin, first string, in bulletin.Indicator, n int) string {
	name := BulletinName(origin, first) + "/indicator/" + in.Type.String() + "/" + in.Value
	if n > 0 {
		name += "/" + strconv.Itoa(n)
	}
	return derive(objectTypeOf(in.Type), name)
}

// StateIdentityID is the id of the identity object of member state cc,
// the created_by_ref of its bulletins.
func StateIdentityID(cc string) string { return derive(TypeIdentity, "state/"+cc) }

// ReplyID is the id of the sighting or note of the IANT reply with id.
func ReplyID(kind ReplyKind, id string) string {
	typ := TypeNote
	if kind == ReplySighting {
		typ = TypeSighting
	}
	return derive(typ, "reply/"+id)
}

// stateOfIdentity maps the identity id of each member state back to its
// code.
var stateOfIdentity = func() map[string]string {
	m := map[string]string{}
	for _, st := range region.States() {
		m[StateIdentityID(st.Code)] = st.Code
	}
	return m
}()

// StateOf returns the member state whose identity has id.
func StateOf(identityID string) (string, bool) {
	cc, ok := stateOfIdentity[identityID]
	return cc, ok
}

// objectTypeOf is the STIX type of the object an indicator type maps to.
func objectTypeOf(t bulletin.IndicatorType) string {
	switch t {
	case bulletin.IndicatorPerson:
		return TypeIdentity
	case bulletin.IndicatorWeapon:
		return TypeWeapon
	}
	return TypeIndicator
}

// checkID checks that id is "<typ>--<UUID>".
func checkID(id, typ string) bool {
	rest, ok := strings.CutPrefix(id, typ+"--")
	if !ok {
		return false
	}
	_, err := uuid.Parse(rest)
	return err == nil && len(rest) == 36
}
