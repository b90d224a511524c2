package policy

import (
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// This file turns IANT values into the Cedar request of
// deploy/policies/network.cedarschema; the two change together.

// action is one of the decision points.
type action int

const (
	actPost action = iota
	actRelease
	actRead
	actForward
	actRevise
	actRevoke
	actReply
	actTranslate
	numActions
)

var actionNames = [numActions]string{"post", "release", "read", "forward", "revise", "revoke", "reply", "translate"}

var actionUIDs = [numActions]cedar.EntityUID{
	cedar.NewEntityUID("Action", "post"),
	cedar.NewEntityUID("Action", "release"),
	cedar.NewEntityUID("Action", "read"),
	cedar.NewEntityUID("Action", "forward"),
	cedar.NewEntityUID("Action", "revise"),
	cedar.NewEntityUID("Action", "revoke"),
	cedar.NewEntityUID("Action", "reply"),
	cedar.NewEntityUID("Action", "translate"),
}

// Entity types of the schema.
const (
	typePerson   cedar.EntityType = "Person"
	typeNode     cedar.EntityType = "Node"
	typeBulletin cedar.EntityType = "Bulletin"
)

// PersonAttrs are the attributes of a person that their identity does not
// carry. A node keeps them in a per-person attribute table in its config,
// keyed by SPIFFE ID; a person not in the table has the zero value.
type PersonAttrs struct {
	// LawEnforcement marks a sworn law-enforcement officer; it opens
	// bulletins with the law-enforcement-only caveat.
	LawEnforcement bool
}

// nowContext is the context of post, release, read and revoke: the time
// of the decision (context.now), so that rules can depend on it.
func nowContext(now time.Time) cedar.Record {
	return cedar.NewRecord(cedar.RecordMap{"now": datetime(now)})
}

// datetime is t as a Cedar datetime (millisecond precision).
func datetime(t time.Time) cedar.Datetime { return cedar.NewDatetimeFromMillis(t.UnixMilli()) }

// principalEntity is a Person for people and a Node for nodes:
// Person::"MX/analyst/ana" (identity.Principal.String) and Node::"MX"
// (Node::"secretariat" for the secretariat's node).
func principalEntity(p identity.Principal, attrs PersonAttrs) cedar.Entity {
	if !p.Role.IsPerson() {
		return nodeEntity(p.State, p.Role)
	}
	return cedar.Entity{
		UID: cedar.NewEntityUID(typePerson, cedar.String(p.String())),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"state":           cedar.String(p.State),
			"role":            cedar.String(p.Role.String()),
			"name":            cedar.String(p.Name),
			"law_enforcement": cedar.Boolean(attrs.LawEnforcement),
		}),
	}
}

func nodeEntity(state string, role identity.Role) cedar.Entity {
	id := state
	if role.IsSecretariat() {
		id = "secretariat"
	}
	return cedar.Entity{
		UID: cedar.NewEntityUID(typeNode, cedar.String(id)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"state": cedar.String(state),
			"role":  cedar.String(role.String()),
		}),
	}
}

// bulletinEntity is the header of b as the policy sees it; recipients is
// the releasability resolved by [bulletin.Recipients] (the origin
// excluded). The body never enters a decision.
func bulletinEntity(b *bulletin.Bulletin, recipients []string) cedar.Entity {
	caveats := emptySet
	if len(b.Caveats) > 0 {
		vs := make([]cedar.Value, len(b.Caveats))
		for i, c := range b.Caveats {
			vs[i] = cedar.String(c.String())
		}
		caveats = cedar.NewSet(vs...)
	}
	regions := emptySet
	if len(b.Releasability.Regions) > 0 {
		vs := make([]cedar.Value, len(b.Releasability.Regions))
		for i, g := range b.Releasability.Regions {
			vs[i] = cedar.String(g.String())
		}
		regions = cedar.NewSet(vs...)
	}
	attrs := cedar.RecordMap{
		"origin":                stringValue(b.Origin),
		"marking":               cedar.String(b.Marking.String()),
		"marking_rank":          cedar.Long(int64(b.Marking)),
		"precedence":            cedar.String(b.Precedence.String()),
		"category":              cedar.String(b.Category.String()),
		"caveats":               caveats,
		"listed_states":         stringSet(b.Releasability.States),
		"regions":               regions,
		"release_all":           cedar.Boolean(b.Releasability.All),
		"recipients":            stringSet(recipients),
		"confidential_audience": cedar.Boolean(b.ConfidentialAudience),
		"kind":                  cedar.String(b.Kind().String()),
		"revision":              cedar.Long(int64(b.RevisionNumber())),
		"created":               datetime(b.CreatedAt),
	}
	if !b.ExpiresAt.IsZero() {
		attrs["expires"] = datetime(b.ExpiresAt)
	}
	return cedar.Entity{UID: cedar.NewEntityUID(typeBulletin, cedar.String(b.ID)), Attributes: cedar.NewRecord(attrs)}
}

var emptySet = cedar.NewSet()

// stateValues holds the state codes boxed once: most strings in a request
// are state codes, and boxing each into a cedar.Value allocates.
var stateValues = func() map[string]cedar.Value {
	m := make(map[string]cedar.Value)
	for _, c := range region.Codes() {
		m[c] = cedar.String(c)
	}
	return m
}()

func stringValue(s string) cedar.Value {
	if v, ok := stateValues[s]; ok {
		return v
	}
	return cedar.String(s)
}

func stringSet(ss []string) cedar.Set {
	if len(ss) == 0 {
		return emptySet
	}
	vs := make([]cedar.Value, len(ss))
	for i, s := range ss {
		vs[i] = stringValue(s)
	}
	return cedar.NewSet(vs...)
}

// forwardContext is the context of a forward request.
func forwardContext(now time.Time, target string, consent bool) cedar.Record {
	return cedar.NewRecord(cedar.RecordMap{
		"now":                datetime(now),
		"target":             cedar.String(target),
		"target_is_member":   cedar.Boolean(region.IsMember(target)),
		"originator_consent": cedar.Boolean(consent),
	})
}

// reviseContext is the context of a revision: the marking of the
// revision it follows.
func reviseContext(now time.Time, previous bulletin.Marking) cedar.Record {
	return cedar.NewRecord(cedar.RecordMap{
		"now":                   datetime(now),
		"previous_marking":      cedar.String(previous.String()),
		"previous_marking_rank": cedar.Long(int64(previous)),
	})
}

// translateContext is the context of a translation: its language.
func translateContext(now time.Time, lang bulletin.Language) cedar.Record {
	return cedar.NewRecord(cedar.RecordMap{
		"now":      datetime(now),
		"language": cedar.String(lang.String()),
	})
}

// replyContext is the context of a reply: its kind, its marking and
// whether it goes to every recipient.
func replyContext(now time.Time, r Reply) cedar.Record {
	return cedar.NewRecord(cedar.RecordMap{
		"now":           datetime(now),
		"kind":          cedar.String(r.Kind.String()),
		"marking":       cedar.String(r.Marking.String()),
		"marking_rank":  cedar.Long(int64(r.Marking)),
		"to_recipients": cedar.Boolean(r.ToRecipients),
	})
}

// pair is the entity store of one request: its principal and its
// bulletin. Nothing else is ever looked up (the schema has no hierarchy).
type pair struct{ principal, resource cedar.Entity }

// Get implements cedar.EntityGetter.
func (p *pair) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	switch uid {
	case p.principal.UID:
		return p.principal, true
	case p.resource.UID:
		return p.resource, true
	}
	return cedar.Entity{}, false
}
