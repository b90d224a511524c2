// Package bulletin is IANT's threat bulletin: its fields, its enums, the
// rules every bulletin obeys, and the resolution of its releasability to
// recipient states.
//
//	b := bulletin.Bulletin{Title: "...", Precedence: bulletin.Flash, ...}
//	if err := b.Validate(); err != nil { ... }   // *problem.Error naming the field
//	recipients := bulletin.Resolve(b.Origin, b.Releasability, members) // among the current members
//
// Bulletin is a plain value; nothing here does I/O. The package is a leaf:
// it imports only region, problem and escape.
package bulletin

import (
	"time"

	"github.com/oas-cicte/iant/pkg/region"
)

// Bulletin is one threat bulletin as the origin node issued it.
type Bulletin struct {
	ID            string        `json:"id"`     // ULID, set by the origin node
	Origin        string        `json:"origin"` // ISO code of the issuing state
	Author        string        `json:"author"` // SPIFFE ID of the focal point
	CreatedAt     time.Time     `json:"created_at"`
	ExpiresAt     time.Time     `json:"expires_at,omitzero"`
	Precedence    Precedence    `json:"precedence"`
	Category      Category      `json:"category"`
	Grading       Grading       `json:"grading,omitzero"`
	Language      Language      `json:"language"`
	Marking       Marking       `json:"marking"`
	Releasability Releasability `json:"releasability"`
	Caveats       []Caveat      `json:"caveats,omitempty"`
	// Conditions are optional extra policy conditions scoped to this
	// bulletin, in the policy language; they may only narrow what the
	// network policy permits.
	Conditions string      `json:"conditions,omitempty"`
	Title      string      `json:"title"`
	Body       string      `json:"body"`
	Indicators []Indicator `json:"indicators,omitempty"`
	Revises    string      `json:"revises,omitempty"`
	Supersedes string      `json:"supersedes,omitempty"`
	Revoked    bool        `json:"revoked,omitempty"`
	Recipients []string    `json:"recipients,omitempty"` // resolved by the origin node

	// ConfidentialAudience keeps the audience from the recipients: each
	// recipient's copy names only its own state (the sealed header
	// commits to the recipient set without naming it). The content
	// sealed for the recipients then carries no Releasability and no
	// Recipients; the origin keeps them.
	ConfidentialAudience bool `json:"confidential_audience,omitempty"`
	// Translations are the title and body in other languages than
	// Language (which Title and Body are in, the original), at most one
	// per language.
	Translations []Translation `json:"translations,omitempty"`
	// Translated is set on the message that carries a translation its
	// origin (the translating state) added to another state's bulletin.
	Translated *Translated `json:"translated,omitempty"`

	// Revision is the bulletin's version, set by the origin node: 1 (or
	// 0, read as 1) for the first, one more for each revision.
	Revision int `json:"revision,omitempty"`
	// FirstCreatedAt is when the first version was created; zero in the
	// first version itself ([Bulletin.FirstCreated]).
	FirstCreatedAt time.Time `json:"first_created_at,omitzero"`
	// Revocation is set (with Revoked) once the origin withdrew the
	// bulletin, on the message that says so and on the tombstone kept.
	Revocation *Revocation `json:"revocation,omitempty"`
	// Reply is set on a reply to another bulletin.
	Reply *Reply `json:"reply,omitempty"`
	// Consent is set on a consent request or decision.
	Consent *Consent `json:"consent,omitempty"`
}

// Releasability is the audience a bulletin is released to: listed states,
// whole regions, or every member state.
type Releasability struct {
	States  []string        `json:"states,omitempty"`
	Regions []region.Region `json:"regions,omitempty"`
	All     bool            `json:"all,omitempty"`
}

// Indicator is one structured observable (a person, a document, a flight...).
type Indicator struct {
	Type        IndicatorType     `json:"type"`
	Value       string            `json:"value"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// HasCaveat reports whether b carries caveat c.
func (b *Bulletin) HasCaveat(c Caveat) bool {
	for _, x := range b.Caveats {
		if x == c {
			return true
		}
	}
	return false
}

// ReleasedTo reports whether state is among b's resolved recipients or is
// its origin.
func (b *Bulletin) ReleasedTo(state string) bool {
	if b.Origin == state {
		return true
	}
	for _, r := range b.Recipients {
		if r == state {
			return true
		}
	}
	return false
}
