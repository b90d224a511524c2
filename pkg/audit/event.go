package audit

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// EventKind says what happened to a bulletin. Its values are the strings
// written into log entries and are frozen: a new kind is a new value,
// never a renamed one.
type EventKind string

// Event kinds, in the order a bulletin's life usually produces them.
const (
	EventPosted       EventKind = "posted"       // the origin issued the bulletin
	EventReleased     EventKind = "released"     // the origin released a copy to State
	EventDelivered    EventKind = "delivered"    // State's node stored its copy
	EventRead         EventKind = "read"         // a person at State first saw it (Actor)
	EventAcknowledged EventKind = "acknowledged" // a focal point of State acknowledged it (Actor)
	EventRefused      EventKind = "refused"      // policy refused Actor; Rule names the rule
	EventEscalated    EventKind = "escalated"    // State's acknowledgement deadline passed
	// EventForwarded: the node Actor forwarded the bulletin, which its
	// state was released, to State (reported by the forwarder, carrying
	// its signed forward statement).
	EventForwarded EventKind = "forwarded"
)

// String returns the kind's frozen name.
func (k EventKind) String() string { return string(k) }

// Valid reports whether k is one of the kinds above.
func (k EventKind) Valid() bool {
	switch k {
	case EventPosted, EventReleased, EventDelivered, EventRead, EventAcknowledged, EventRefused, EventEscalated,
		EventForwarded:
		return true
	}
	return false
}

// Limits on an event's fields. Events record who and when, never bulletin
// content: Detail is a short note such as a deadline, not a title or body.
const (
	MaxBulletinIDBytes = 64
	MaxActorBytes      = 2048
	MaxRuleBytes       = 256
	MaxDetailBytes     = 1024
	// MaxEventBytes bounds an encoded event; [UnmarshalEvent] refuses more.
	MaxEventBytes = 8 << 10
)

// Times an event may carry: the log stores them as Unix nanoseconds.
var (
	minEventTime = time.Unix(0, 0)
	maxEventTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Event is one entry of the audit log: something that happened to one
// bulletin, at one state, done by one principal.
type Event struct {
	// Kind says what happened. Required.
	Kind EventKind
	// BulletinID is the bulletin's ULID. Required.
	BulletinID string
	// Origin is the ISO code of the state that posted the bulletin. Required.
	Origin string
	// State is the ISO code of the state the event is about: the recipient
	// for released, delivered, read, acknowledged and escalated, the state
	// forwarded to for forwarded (required there), the refused principal's
	// state for refused (optional), and empty for posted (the posting
	// state is Origin).
	State string
	// Actor is the SPIFFE ID of who acted: the author (posted), the origin
	// node (released), the recipient node (delivered), the person (read),
	// the focal point (acknowledged), the refused principal (refused), the
	// forwarding node (forwarded). Required, except for escalated, where
	// empty means the log itself.
	Actor string
	// Rule is the id of the refusing policy rule; required for refused and
	// empty for every other kind.
	Rule string
	// Precedence is the bulletin's precedence; required for posted,
	// optional (zero) elsewhere. It decides the acknowledgement deadline.
	Precedence bulletin.Precedence
	// At is when it happened, as stated by whoever reported it. Required,
	// between 1970 and 2261; the log keeps it to the nanosecond, in UTC.
	At time.Time
	// Detail is an optional short note (at most MaxDetailBytes of UTF-8).
	Detail string
}

// Validate reports the first problem with e as a *problem.Error of kind
// Invalid naming the field, wrapping [ErrInvalidEvent].
func (e *Event) Validate() error {
	switch {
	case e.Kind == "":
		return invalid("kind", "event kind is required")
	case !e.Kind.Valid():
		return invalid("kind", "unknown event kind %q", string(e.Kind))
	case e.BulletinID == "":
		return invalid("bulletin_id", "bulletin id is required")
	case len(e.BulletinID) > MaxBulletinIDBytes || !token(e.BulletinID):
		return invalid("bulletin_id", "bulletin id must be 1 to %d printable ASCII characters", MaxBulletinIDBytes)
	case !region.IsMember(e.Origin):
		return invalid("origin", "origin %q is not a member state", e.Origin)
	}
	if err := e.validateState(); err != nil {
		return err
	}
	if err := e.validateActor(); err != nil {
		return err
	}
	switch {
	case e.Kind == EventRefused && e.Rule == "":
		return invalid("rule", "a refused event names the refusing rule")
	case e.Kind != EventRefused && e.Rule != "":
		return invalid("rule", "only a refused event names a rule")
	case len(e.Rule) > MaxRuleBytes || e.Rule != "" && !token(e.Rule):
		return invalid("rule", "rule must be at most %d printable ASCII characters", MaxRuleBytes)
	case e.Kind == EventPosted && !e.Precedence.Valid():
		return invalid("precedence", "a posted event carries the bulletin's precedence")
	case e.Precedence != bulletin.PrecedenceUnspecified && !e.Precedence.Valid():
		return invalid("precedence", "unknown precedence %d", int(e.Precedence))
	case e.At.IsZero():
		return invalid("at", "event time is required")
	case e.At.Before(minEventTime) || !e.At.Before(maxEventTime):
		return invalid("at", "event time %s is outside 1970 to 2261", e.At.UTC().Format(time.RFC3339))
	case len(e.Detail) > MaxDetailBytes:
		return invalid("detail", "detail is %d bytes, the limit is %d", len(e.Detail), MaxDetailBytes)
	case !utf8.ValidString(e.Detail):
		return invalid("detail", "detail is not valid UTF-8")
	}
	return nil
}

func (e *Event) validateState() error {
	switch e.Kind {
	case EventPosted:
		if e.State != "" {
			return invalid("state", "a posted event has no state (the origin posts)")
		}
	case EventRefused:
		if e.State != "" && !region.IsMember(e.State) {
			return invalid("state", "state %q is not a member state", e.State)
		}
	default:
		if !region.IsMember(e.State) {
			return invalid("state", "state %q is not a member state", e.State)
		}
	}
	return nil
}

// validateActor checks the SPIFFE ID's shape only; which principal may
// report which event is decided by the node that verified the receipt.
func (e *Event) validateActor() error {
	switch {
	case e.Actor == "" && e.Kind == EventEscalated:
		return nil
	case e.Actor == "":
		return invalid("actor", "actor is required")
	case len(e.Actor) > MaxActorBytes || !token(e.Actor) || !strings.HasPrefix(e.Actor, "spiffe://"):
		return invalid("actor", "actor must be a SPIFFE ID of at most %d bytes", MaxActorBytes)
	}
	return nil
}

// token reports whether s is printable ASCII without spaces.
func token(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// key is the identity of an event for idempotent appends: a receipt
// delivered twice by the backbone has the same key and is logged once.
// A bulletin is named by origin and id (two states may use one id), so
// both are in the key. A refusal's key also holds its rule and detail
// (the action refused): a person refused reading a bulletin and later
// refused acknowledging it was refused twice, and both are logged. The
// fields before the detail cannot contain the separator (see token), and
// the detail comes last, so keys do not collide.
//
// Compatibility: logs written before refusals named their rule hold
// them under their [Event.baseKey] (and entries of log format 1 under
// keys without the origin) in the database; an append looks a refusal up
// under both (write.logged), and only VerifyLog recomputes keys, with
// this one for every leaf — a refinement of the old keys, so an old log
// holds no duplicates under it either.
func (e *Event) key() string {
	if e.Kind == EventRefused {
		return e.baseKey() + " " + e.Rule + " " + e.Detail
	}
	return e.baseKey()
}

// baseKey is the key of every event up to log format 2: kind, origin,
// bulletin, state, actor.
func (e *Event) baseKey() string {
	return string(e.Kind) + " " + e.Origin + " " + e.BulletinID + " " + e.State + " " + e.Actor
}
