package stix

import "time"

// SpecVersion is the STIX version IANT writes and accepts.
const SpecVersion = "2.1"

// The object types IANT maps. x-iant-weapon is a custom object (STIX 2.1
// §11.1): a weapon named in a bulletin has no STIX object or pattern.
const (
	TypeBundle            = "bundle"
	TypeReport            = "report"
	TypeIndicator         = "indicator"
	TypeIdentity          = "identity"
	TypeMarkingDefinition = "marking-definition"
	TypeNote              = "note"
	TypeSighting          = "sighting"
	TypeWeapon            = "x-iant-weapon"
)

// Object is one STIX object as IANT writes it.
type Object interface {
	// ObjectID returns the object's id, e.g. "report--…".
	ObjectID() string
	// ObjectType returns the object's type, e.g. "report".
	ObjectType() string
	// ObjectVersion returns the object's version: modified, or created
	// for objects that are never modified (marking definitions).
	ObjectVersion() time.Time
}

// Common holds the properties shared by the objects IANT writes (STIX 2.1
// §3.2, common properties).
type Common struct {
	Type              string    `json:"type"`
	SpecVersion       string    `json:"spec_version"`
	ID                string    `json:"id"`
	CreatedByRef      string    `json:"created_by_ref,omitempty"`
	Created           Timestamp `json:"created"`
	Modified          Timestamp `json:"modified"`
	Revoked           bool      `json:"revoked,omitempty"`
	Labels            []string  `json:"labels,omitempty"`
	Confidence        *int      `json:"confidence,omitempty"`
	Lang              string    `json:"lang,omitempty"`
	ObjectMarkingRefs []string  `json:"object_marking_refs,omitempty"`
}

// ObjectID returns c.ID.
func (c Common) ObjectID() string { return c.ID }

// ObjectType returns c.Type.
func (c Common) ObjectType() string { return c.Type }

// ObjectVersion returns c.Modified.
func (c Common) ObjectVersion() time.Time { return c.Modified.Time }

// Releasability is a bulletin's releasability in the custom property
// x_iant_releasability: state codes, region slugs, or all.
type Releasability struct {
	States  []string `json:"states,omitempty"`
	Regions []string `json:"regions,omitempty"`
	All     bool     `json:"all,omitempty"`
}

// Report is a bulletin (STIX 2.1 §4.14). IANT's own fields travel in
// custom properties named x_iant_*.
type Report struct {
	Common
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	ReportTypes []string  `json:"report_types"`
	Published   Timestamp `json:"published"`
	ObjectRefs  []string  `json:"object_refs"`

	BulletinID    string         `json:"x_iant_bulletin_id,omitempty"`
	Author        string         `json:"x_iant_author,omitempty"`
	Precedence    string         `json:"x_iant_precedence,omitempty"`
	Grading       string         `json:"x_iant_grading,omitempty"` // Admiralty code, e.g. "B2"
	Caveats       []string       `json:"x_iant_caveats,omitempty"`
	Releasability *Releasability `json:"x_iant_releasability,omitempty"`
	Recipients    []string       `json:"x_iant_recipients,omitempty"`
	Conditions    string         `json:"x_iant_conditions,omitempty"`
	Expires       *Timestamp     `json:"x_iant_expires,omitempty"`
	Revises       string         `json:"x_iant_revises,omitempty"`
	Supersedes    string         `json:"x_iant_supersedes,omitempty"`
}

// Indicator is an indicator with a STIX pattern (STIX 2.1 §4.7).
type Indicator struct {
	Common
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Pattern     string            `json:"pattern"`
	PatternType string            `json:"pattern_type"`
	ValidFrom   Timestamp         `json:"valid_from"`
	ValidUntil  *Timestamp        `json:"valid_until,omitempty"`
	Attributes  map[string]string `json:"x_iant_attributes,omitempty"`
}

// Identity is a member state (identity_class "organization", the
// created_by_ref of its bulletins) or a person named in a bulletin
// (identity_class "individual") (STIX 2.1 §4.5).
type Identity struct {
	Common
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	IdentityClass string            `json:"identity_class,omitempty"`
	Sectors       []string          `json:"sectors,omitempty"`
	Attributes    map[string]string `json:"x_iant_attributes,omitempty"`
}

// Weapon is the custom object x-iant-weapon: a weapon named in a bulletin.
type Weapon struct {
	Common
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"x_iant_attributes,omitempty"`
}

// MarkingDefinition is a TLP 2.0 marking definition (STIX 2.1 §7.2).
type MarkingDefinition struct {
	Type        string                  `json:"type"`
	SpecVersion string                  `json:"spec_version"`
	ID          string                  `json:"id"`
	Created     Timestamp               `json:"created"`
	Name        string                  `json:"name"`
	Extensions  map[string]TLPExtension `json:"extensions"`
}

// TLPExtension is the TLP 2.0 property extension of a marking definition.
type TLPExtension struct {
	ExtensionType string `json:"extension_type"`
	TLP           string `json:"tlp_2_0"`
}

// ObjectID returns m.ID.
func (m MarkingDefinition) ObjectID() string { return m.ID }

// ObjectType returns "marking-definition".
func (m MarkingDefinition) ObjectType() string { return m.Type }

// ObjectVersion returns m.Created: marking definitions never change.
func (m MarkingDefinition) ObjectVersion() time.Time { return m.Created.Time }

// Note is a reply of kind note or request for information (STIX 2.1
// §4.11).
type Note struct {
	Common
	Abstract   string   `json:"abstract,omitempty"`
	Content    string   `json:"content"`
	Authors    []string `json:"authors,omitempty"`
	ObjectRefs []string `json:"object_refs"`

	ReplyID    string `json:"x_iant_reply_id,omitempty"`
	ReplyKind  string `json:"x_iant_reply_kind,omitempty"` // "note" or "rfi"
	BulletinID string `json:"x_iant_bulletin_id,omitempty"`
	// BulletinOrigin is the origin of the bulletin replied to.
	BulletinOrigin string `json:"x_iant_bulletin_origin,omitempty"`
	Author         string `json:"x_iant_author,omitempty"`
}

// Sighting is a reply of kind sighting (STIX 2.1 §5.2).
type Sighting struct {
	Common
	Description      string     `json:"description,omitempty"`
	FirstSeen        *Timestamp `json:"first_seen,omitempty"`
	LastSeen         *Timestamp `json:"last_seen,omitempty"`
	Count            *int       `json:"count,omitempty"`
	SightingOfRef    string     `json:"sighting_of_ref"`
	WhereSightedRefs []string   `json:"where_sighted_refs,omitempty"`

	ReplyID    string `json:"x_iant_reply_id,omitempty"`
	BulletinID string `json:"x_iant_bulletin_id,omitempty"`
	// BulletinOrigin is the origin of the bulletin replied to.
	BulletinOrigin string `json:"x_iant_bulletin_origin,omitempty"`
	Author         string `json:"x_iant_author,omitempty"`
}

// Bundle is a STIX bundle (STIX 2.1 §8).
type Bundle struct {
	Type    string   `json:"type"`
	ID      string   `json:"id"`
	Objects []Object `json:"objects,omitempty"`
}
