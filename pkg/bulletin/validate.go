package bulletin

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Limits on a bulletin's size. A sealed bulletin for all 35 states must stay
// well inside NATS's 1 MiB message limit.
const (
	MaxTitleBytes      = 256
	MaxBodyBytes       = 256 << 10
	MaxIndicators      = 256
	MaxIndicatorBytes  = 1024
	MaxAttributes      = 32
	MaxCaveats         = 8
	MaxConditionsBytes = 4 << 10
	MaxExpiry          = 5 * 365 * 24 * time.Hour
	maxStatesPerListed = 64
)

// ValidateDraft checks what an author supplies, before the node assigns id,
// origin, author and times. Every error is a *problem.Error of kind invalid
// naming the offending field.
func (b *Bulletin) ValidateDraft() error { return b.validateDraft(true) }

// validateDraft is ValidateDraft; a recipient's copy of a bulletin with a
// confidential audience has no releasability (withAudience false).
func (b *Bulletin) validateDraft(withAudience bool) error {
	if err := b.validateText(); err != nil {
		return err
	}
	if err := b.ValidateTranslations(); err != nil {
		return err
	}
	switch {
	case !b.Precedence.Valid():
		return problem.Invalid("precedence", "precedence is required (flash, immediate, priority or routine)")
	case !b.Category.Valid():
		return problem.Invalid("category", "category is required or unknown")
	case !b.Marking.Valid():
		return problem.Invalid("marking", "marking is required (clear, green, amber, amber+strict or red)")
	case !b.Language.Valid():
		return problem.Invalid("language", "language is required (es, en, pt or fr)")
	case !b.Grading.Valid():
		return problem.Invalid("source_grading", "source grading must be reliability A-F and credibility 1-6 together")
	case b.Revises != "":
		return problem.Invalid("revises", "revises is not supported yet (lifecycle links are not defined); leave it empty")
	case b.Supersedes != "":
		return problem.Invalid("supersedes", "supersedes is not supported yet (lifecycle links are not defined); leave it empty")
	}
	if err := b.Releasability.Validate(); err != nil && withAudience {
		return err
	}
	if err := validateCaveats(b.Caveats); err != nil {
		return err
	}
	return validateIndicators(b.Indicators)
}

// validateText checks title, body and conditions: sizes, UTF-8, and no
// character a terminal could act on (see [CheckLine]).
func (b *Bulletin) validateText() error {
	if err := checkRequiredLine("title", b.Title, MaxTitleBytes); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(b.Body) == "":
		return problem.Invalid("body", "body is required")
	case len(b.Body) > MaxBodyBytes:
		return problem.Invalid("body", "body is %d bytes, the limit is %d", len(b.Body), MaxBodyBytes)
	case len(b.Conditions) > MaxConditionsBytes:
		return problem.Invalid("conditions", "conditions are %d bytes, the limit is %d", len(b.Conditions), MaxConditionsBytes)
	}
	if err := CheckBlock("body", b.Body); err != nil {
		return err
	}
	return CheckBlock("conditions", b.Conditions)
}

// Validate checks a complete message as stored and transported: for a
// bulletin or a revision, the draft rules plus the fields the origin node
// sets; for a reply, a revocation or a consent, their own rules
// (lifecycle_validate.go). Every error is a *problem.Error of kind
// invalid naming the field.
func (b *Bulletin) Validate() error {
	switch b.Kind() {
	case KindReply:
		return b.validateReply()
	case KindRevocation:
		return b.validateRevocation()
	case KindConsentRequest, KindConsentDecision:
		return b.validateConsent()
	case KindTranslation:
		return b.validateTranslated()
	}
	if err := b.validateDraft(!b.confidentialCopy()); err != nil {
		return err
	}
	if err := b.validateEnvelope(); err != nil {
		return err
	}
	return b.validateVersion()
}

// confidentialCopy reports whether b is what a recipient of a
// confidential audience holds: no releasability, at most its own state
// as recipient.
func (b *Bulletin) confidentialCopy() bool {
	r := b.Releasability
	return b.ConfidentialAudience && !r.All && len(r.States) == 0 && len(r.Regions) == 0 && len(b.Recipients) <= 1
}

// validateEnvelope checks what every message carries: id, origin,
// author, times, recipients.
func (b *Bulletin) validateEnvelope() error {
	switch {
	case b.ID == "":
		return problem.Invalid("id", "id is required")
	case !isULID(b.ID):
		return problem.Invalid("id", "id is not a ULID (26 characters of Crockford base32)")
	case !region.IsMember(b.Origin):
		return problem.Invalid("origin", "origin %q is not a member state", b.Origin)
	case b.Author == "":
		return problem.Invalid("author", "author is required")
	case len(b.Author) > 2048:
		return problem.Invalid("author", "author is too long")
	case b.CreatedAt.IsZero():
		return problem.Invalid("create_time", "create time is required")
	case !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(b.CreatedAt):
		return problem.Invalid("expire_time", "expire time must be after create time")
	case !b.ExpiresAt.IsZero() && b.ExpiresAt.Sub(b.CreatedAt) > MaxExpiry:
		return problem.Invalid("expire_time", "expire time is more than %v after create time", MaxExpiry)
	case b.Revision < 0 || b.Revision > MaxRevision:
		return problem.Invalid("revision", "revision %d is outside 1 to %d", b.Revision, MaxRevision)
	}
	if err := CheckLine("author", b.Author); err != nil {
		return err
	}
	for _, r := range b.Recipients {
		if !region.IsMember(r) {
			return problem.Invalid("recipients", "recipient %q is not a member state", r)
		}
	}
	return nil
}

// Validate checks that r names at least one audience and only known states
// and regions.
func (r Releasability) Validate() error {
	if !r.All && len(r.States) == 0 && len(r.Regions) == 0 {
		return problem.Invalid("releasability", "releasability is required: states, regions or all")
	}
	if len(r.States) > maxStatesPerListed {
		return problem.Invalid("releasability.states", "too many states (%d)", len(r.States))
	}
	for _, s := range r.States {
		if !region.IsMember(s) {
			return problem.Invalid("releasability.states", "unknown state code %q (want an upper-case ISO code of an OAS member state)", s)
		}
	}
	for _, g := range r.Regions {
		if !g.Valid() {
			return problem.Invalid("releasability.regions", "unknown region %d", int(g))
		}
	}
	return nil
}

func validateCaveats(cs []Caveat) error {
	if len(cs) > MaxCaveats {
		return problem.Invalid("caveats", "too many caveats (%d)", len(cs))
	}
	for i, c := range cs {
		if !c.Valid() {
			return problem.Invalid("caveats", "unknown caveat %d", int(c))
		}
		if slices.Contains(cs[:i], c) {
			return problem.Invalid("caveats", "caveat %s given twice", c)
		}
	}
	return nil
}

func validateIndicators(is []Indicator) error {
	if len(is) > MaxIndicators {
		return problem.Invalid("indicators", "too many indicators (%d, the limit is %d)", len(is), MaxIndicators)
	}
	for i, in := range is {
		if err := validateIndicator(fmt.Sprintf("indicators[%d]", i), in); err != nil {
			return err
		}
	}
	return nil
}

func validateIndicator(field string, in Indicator) error {
	switch {
	case !in.Type.Valid():
		return problem.Invalid(field+".type", "indicator type is required or unknown")
	case len(in.Description) > MaxIndicatorBytes:
		return problem.Invalid(field+".description", "indicator description is %d bytes, the limit is %d", len(in.Description), MaxIndicatorBytes)
	case len(in.Attributes) > MaxAttributes:
		return problem.Invalid(field+".attributes", "too many attributes (%d)", len(in.Attributes))
	}
	if err := checkRequiredLine(field+".value", in.Value, MaxIndicatorBytes); err != nil {
		return err
	}
	if err := CheckLine(field+".description", in.Description); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(in.Attributes)) {
		v := in.Attributes[k]
		if k == "" || len(k) > 64 || len(v) > MaxIndicatorBytes {
			return problem.Invalid(field+".attributes", "attribute %q is empty or too long", k)
		}
		if err := CheckLine(field+".attributes", k); err != nil {
			return err
		}
		if err := CheckLine(field+".attributes."+k, v); err != nil {
			return err
		}
	}
	return nil
}

// Recipients resolves releasability among every state of the region table
// ([Resolve] with region.States()): what a bulletin's releasability names,
// whoever is on the network. A node resolves among the states the current
// membership table releases to, with [Resolve].
func Recipients(origin string, r Releasability) []string {
	return Resolve(origin, r, region.States())
}

// Resolve resolves releasability to the sorted codes of the states among
// members that receive a copy, leaving out the origin (which keeps its own
// copy as sent): every member if r.All, the members of each region of
// r.Regions (by the region members gives them), and the states of r.States
// that are members. members is the set copies are released to, e.g. the
// membership table's receiving states; a state not in it gets nothing.
// The package stays pure: the caller passes the set in.
func Resolve(origin string, r Releasability, members []region.State) []string {
	set := map[string]bool{}
	for _, m := range members {
		if r.All || slices.Contains(r.States, m.Code) || slices.Contains(r.Regions, m.Region) {
			set[m.Code] = true
		}
	}
	delete(set, origin)
	out := make([]string, 0, len(set))
	for c := range set {
		if region.IsMember(c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
