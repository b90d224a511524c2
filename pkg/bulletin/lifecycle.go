package bulletin

import (
	"fmt"
	"time"
)

// A bulletin lives: its origin revises it (the same id, a higher
// Revision) and may revoke it; other states reply to it; a state that
// holds it asks its origin for consent to forward it. Each of these
// crosses states sealed and signed like a bulletin, as a Bulletin value
// whose [Bulletin.Kind] says what it is.

// Kind is what a sealed message is. Its values equal seal.Kind and the
// wire enum iant.v1.MessageKind, and are frozen.
type Kind int

// Message kinds.
const (
	KindUnspecified     Kind = iota
	KindBulletin             // a bulletin's first version
	KindRevision             // a later version of a bulletin: same id, Revision 2 or more
	KindRevocation           // the bulletin is withdrawn (Revoked, with Revocation)
	KindReply                // a reply to a bulletin (Reply)
	KindConsentRequest       // a request for the origin's consent to a forward (Consent)
	KindConsentDecision      // the origin's grant or refusal (Consent with a Decision)
	KindTranslation          // a translation a recipient state added to a bulletin (Translated)
)

// ReplyKind is what a reply is. Values are frozen (they are the seal
// header's reply subkinds).
type ReplyKind int

// Reply kinds.
const (
	ReplyUnspecified ReplyKind = iota
	ReplySighting              // the indicators were (or were not) seen
	ReplyRFI                   // a request for information
	ReplyAnswer                // an answer (to a request for information)
	ReplyNote                  // a note
)

// SightingKind is what a sighting says, as MISP and STIX sightings do.
type SightingKind int

// Sighting kinds.
const (
	SightingUnspecified   SightingKind = iota
	SightingSeen                       // seen
	SightingNotSeen                    // looked for and not seen
	SightingFalsePositive              // seen, and it was a false positive
	SightingTruePositive               // seen, and confirmed
)

// ReplyAudience is whom a reply goes to.
type ReplyAudience int

// Reply audiences.
const (
	AudienceUnspecified ReplyAudience = iota
	AudienceOrigin                    // the origin of the bulletin replied to (the default)
	AudienceRecipients                // its origin and every state it was released to
)

// ConsentDecision is an origin's answer to a consent request.
type ConsentDecision int

// Consent decisions; zero is a request.
const (
	ConsentPending ConsentDecision = iota
	ConsentGranted
	ConsentRefused
)

var (
	kindNames         = []string{"", "bulletin", "revision", "revocation", "reply", "consent-request", "consent-decision", "translation"}
	replyKindNames    = []string{"", "sighting", "rfi", "answer", "note"}
	sightingKindNames = []string{"", "seen", "not-seen", "false-positive", "true-positive"}
	audienceNames     = []string{"", "origin", "recipients"}
	decisionNames     = []string{"pending", "granted", "refused"}
)

func (k Kind) String() string            { return enumName(kindNames, "kind", int(k)) }
func (k ReplyKind) String() string       { return enumName(replyKindNames, "reply kind", int(k)) }
func (k SightingKind) String() string    { return enumName(sightingKindNames, "sighting kind", int(k)) }
func (a ReplyAudience) String() string   { return enumName(audienceNames, "audience", int(a)) }
func (d ConsentDecision) String() string { return decisionName(d) }

func decisionName(d ConsentDecision) string {
	if d < 0 || int(d) >= len(decisionNames) {
		return fmt.Sprintf("decision(%d)", int(d))
	}
	return decisionNames[d]
}

// Valid reports whether k is a known message kind.
func (k Kind) Valid() bool { return k > 0 && int(k) < len(kindNames) }

// Valid reports whether k is a known reply kind.
func (k ReplyKind) Valid() bool { return k > 0 && int(k) < len(replyKindNames) }

// Valid reports whether k is a known sighting kind.
func (k SightingKind) Valid() bool { return k > 0 && int(k) < len(sightingKindNames) }

// Valid reports whether a is a known audience.
func (a ReplyAudience) Valid() bool { return a > 0 && int(a) < len(audienceNames) }

// ParseReplyKind reads "sighting", "rfi", "answer" or "note".
func ParseReplyKind(s string) (ReplyKind, error) {
	v, err := enumParse(replyKindNames, "reply kind", s)
	return ReplyKind(v), err
}

// ParseSightingKind reads "seen", "not-seen", "false-positive" or
// "true-positive".
func ParseSightingKind(s string) (SightingKind, error) {
	v, err := enumParse(sightingKindNames, "sighting kind", s)
	return SightingKind(v), err
}

// ParseAudience reads "origin" or "recipients".
func ParseAudience(s string) (ReplyAudience, error) {
	v, err := enumParse(audienceNames, "audience", s)
	return ReplyAudience(v), err
}

// Ref names a state's bulletin (or reply) by origin and id.
type Ref struct {
	Origin string `json:"origin"`
	ID     string `json:"id"`
}

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// String returns "MX/01J...".
func (r Ref) String() string { return r.Origin + "/" + r.ID }

// Revocation says who withdrew a bulletin, when and why.
type Revocation struct {
	// Reason is the origin's reason, one line.
	Reason string `json:"reason"`
	// By is the SPIFFE ID of the focal point who revoked (or revised).
	By string `json:"by"`
	// At is when it was revoked: the revocation's create time.
	At time.Time `json:"at"`
	// Narrowed says the bulletin itself lives on: a revision narrowed its
	// releasability and this state's copy was withdrawn.
	Narrowed bool `json:"narrowed,omitempty"`
}

// Reply is what makes a bulletin a reply to another.
type Reply struct {
	Kind ReplyKind `json:"kind"`
	// InReplyTo is the bulletin (or reply) answered.
	InReplyTo Ref `json:"in_reply_to"`
	// Audience says whom the reply went to.
	Audience ReplyAudience `json:"audience"`
	// Sighting is set for a sighting, and only then.
	Sighting *Sighting `json:"sighting,omitempty"`
}

// Sighting is what a sighting reports: MISP's and STIX's semantics.
type Sighting struct {
	Kind SightingKind `json:"kind"`
	// SeenAt is when (zero: not said).
	SeenAt time.Time `json:"seen_at,omitzero"`
	// Place is where, one line (empty: not said).
	Place string `json:"place,omitempty"`
}

// Consent is a request for an origin's consent to forward its bulletin,
// or the origin's decision on one.
type Consent struct {
	// Request is the id of the request a decision answers; empty in the
	// request itself (whose id is its bulletin id).
	Request string `json:"request,omitempty"`
	// Bulletin is the bulletin to be forwarded.
	Bulletin Ref `json:"bulletin"`
	// Forwarder is the state that asks to forward it; Target the state it
	// would forward it to.
	Forwarder string `json:"forwarder"`
	Target    string `json:"target"`
	// Reason is the asker's or the origin's reason, one line.
	Reason string `json:"reason,omitempty"`
	// Decision is pending in a request, granted or refused in a decision.
	Decision ConsentDecision `json:"decision,omitempty"`
}

// Kind says what b is as a sealed message.
func (b *Bulletin) Kind() Kind {
	switch {
	case b.Revocation != nil:
		return KindRevocation
	case b.Consent != nil && b.Consent.Decision == ConsentPending:
		return KindConsentRequest
	case b.Consent != nil:
		return KindConsentDecision
	case b.Reply != nil:
		return KindReply
	case b.Translated != nil:
		return KindTranslation
	case b.Revision > 1:
		return KindRevision
	}
	return KindBulletin
}

// RevisionNumber is b's revision, 1 when none is said.
func (b *Bulletin) RevisionNumber() int {
	if b.Revision == 0 {
		return 1
	}
	return b.Revision
}

// Ref is the other message b names: the bulletin a reply answers or a
// consent is about; zero for other kinds.
func (b *Bulletin) Ref() Ref {
	switch b.Kind() {
	case KindConsentRequest, KindConsentDecision:
		return b.Consent.Bulletin
	case KindReply:
		return b.Reply.InReplyTo
	case KindTranslation:
		return b.Translated.Of
	}
	return Ref{}
}

// Subkind is b's reply kind, consent decision or narrowed revocation
// (1) as the seal header carries it; 0 for other kinds.
func (b *Bulletin) Subkind() int {
	switch b.Kind() {
	case KindReply:
		return int(b.Reply.Kind)
	case KindConsentDecision:
		return int(b.Consent.Decision)
	case KindRevocation:
		if b.Revocation.Narrowed {
			return 1
		}
	}
	return 0
}

// IsContent reports whether b carries a bulletin's content: a first
// version, a revision or a reply (what a node stores and shows), not a
// revocation or a consent.
func (b *Bulletin) IsContent() bool {
	k := b.Kind()
	return k == KindBulletin || k == KindRevision || k == KindReply
}

// Tombstone returns what a node keeps of b once revocation r withdrew it:
// the header's facts (what the policy reads to decide who may see that it
// was revoked), never its title, body or indicators.
func (b *Bulletin) Tombstone(r Revocation, revision int) Bulletin {
	t := Bulletin{ID: b.ID, Origin: b.Origin, Author: r.By, CreatedAt: r.At, Precedence: b.Precedence,
		Category: b.Category, Grading: b.Grading, Language: b.Language, Marking: b.Marking,
		Releasability: b.Releasability, Caveats: b.Caveats, Conditions: b.Conditions, Revision: revision,
		FirstCreatedAt: b.FirstCreated(), Revoked: true, Revocation: &r, Recipients: b.Recipients,
		ConfidentialAudience: b.ConfidentialAudience}
	return t
}

// FirstCreated is when b's first version was created: FirstCreatedAt, or
// CreatedAt for a first version.
func (b *Bulletin) FirstCreated() time.Time {
	if !b.FirstCreatedAt.IsZero() {
		return b.FirstCreatedAt
	}
	return b.CreatedAt
}
