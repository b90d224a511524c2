package bulletin

import (
	"strings"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Limits of the lifecycle's fields.
const (
	// MaxRevision bounds a bulletin's revisions.
	MaxRevision = 1 << 20
	// MaxReasonBytes bounds a revocation's or a consent's reason.
	MaxReasonBytes = 1024
	// MaxPlaceBytes bounds a sighting's place.
	MaxPlaceBytes = 256
)

// validateVersion checks the version fields of a bulletin or a revision.
func (b *Bulletin) validateVersion() error {
	switch {
	case b.Revoked:
		return problem.Invalid("revoked", "a bulletin is revoked by a revocation, not by a flag of its content")
	case b.RevisionNumber() == 1 && !b.FirstCreatedAt.IsZero():
		return problem.Invalid("first_create_time", "a first version has no earlier first version")
	case b.RevisionNumber() > 1 && b.FirstCreatedAt.IsZero():
		return problem.Invalid("first_create_time", "a revision names when its first version was created")
	case b.RevisionNumber() > 1 && b.FirstCreatedAt.After(b.CreatedAt):
		return problem.Invalid("first_create_time", "the first version was created after this revision")
	}
	return nil
}

// validateHeaderEnums checks the header facts every message carries.
func (b *Bulletin) validateHeaderEnums() error {
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
	case b.Revises != "" || b.Supersedes != "":
		return problem.Invalid("revises", "revises and supersedes are not used: a revision keeps the bulletin's id")
	}
	return nil
}

// ValidateRef checks a reference to a state's bulletin, naming field.
func ValidateRef(field string, r Ref) error {
	switch {
	case !region.IsMember(r.Origin):
		return problem.Invalid(field+".origin", "origin %q is not a member state", r.Origin)
	case !isULID(r.ID):
		return problem.Invalid(field+".id", "id is not a ULID (26 characters of Crockford base32)")
	}
	return nil
}

// validateReply checks a reply: its envelope, a known kind, what it
// answers, its text (a body for all but sightings) and a sighting's
// facts for a sighting only.
func (b *Bulletin) validateReply() error {
	if err := b.validateHeaderEnums(); err != nil {
		return err
	}
	if err := b.validateEnvelope(); err != nil {
		return err
	}
	r := b.Reply
	switch {
	case !r.Kind.Valid():
		return problem.Invalid("reply.kind", "reply kind is required (sighting, rfi, answer or note)")
	case !r.Audience.Valid():
		return problem.Invalid("reply.to", "reply audience is required (origin or recipients)")
	case r.InReplyTo == Ref{Origin: b.Origin, ID: b.ID}:
		return problem.Invalid("reply.in_reply_to", "a reply does not answer itself")
	case b.Revoked || b.RevisionNumber() != 1:
		return problem.Invalid("revision", "a reply is not revised")
	case r.Kind == ReplySighting && r.Sighting == nil:
		return problem.Invalid("reply.sighting", "a sighting says what was seen (seen, not-seen, false-positive or true-positive)")
	case r.Kind != ReplySighting && r.Sighting != nil:
		return problem.Invalid("reply.sighting", "only a sighting carries sighting facts")
	case r.Kind != ReplySighting && strings.TrimSpace(b.Body) == "":
		return problem.Invalid("body", "a %s needs a body", r.Kind)
	}
	if err := ValidateRef("reply.in_reply_to", r.InReplyTo); err != nil {
		return err
	}
	if err := b.validateReplyText(); err != nil {
		return err
	}
	if s := r.Sighting; s != nil {
		if !s.Kind.Valid() {
			return problem.Invalid("reply.sighting.kind", "sighting kind is required (seen, not-seen, false-positive or true-positive)")
		}
		if len(s.Place) > MaxPlaceBytes {
			return problem.Invalid("reply.sighting.place", "place is %d bytes, the limit is %d", len(s.Place), MaxPlaceBytes)
		}
		if err := CheckLine("reply.sighting.place", s.Place); err != nil {
			return err
		}
	}
	if err := b.Releasability.Validate(); err != nil {
		return err
	}
	return validateIndicators(b.Indicators)
}

// validateReplyText checks a reply's optional title and its body.
func (b *Bulletin) validateReplyText() error {
	switch {
	case len(b.Title) > MaxTitleBytes:
		return problem.Invalid("title", "title is %d bytes, the limit is %d", len(b.Title), MaxTitleBytes)
	case len(b.Body) > MaxBodyBytes:
		return problem.Invalid("body", "body is %d bytes, the limit is %d", len(b.Body), MaxBodyBytes)
	case b.Conditions != "":
		return problem.Invalid("conditions", "a reply carries no policy conditions of its own")
	}
	if err := CheckLine("title", b.Title); err != nil {
		return err
	}
	return CheckBlock("body", b.Body)
}

// validateRevocation checks a revocation: who, when, why, the revision
// it withdraws, and no content.
func (b *Bulletin) validateRevocation() error {
	if err := b.validateHeaderEnums(); err != nil {
		return err
	}
	if err := b.validateEnvelope(); err != nil {
		return err
	}
	r := b.Revocation
	switch {
	case !b.Revoked:
		return problem.Invalid("revoked", "a revocation is marked revoked")
	case b.Title != "" || b.Body != "" || len(b.Indicators) > 0:
		return problem.Invalid("body", "a revocation carries no content")
	case len(b.Translations) > 0:
		return problem.Invalid("translations", "a revocation carries no content")
	case b.Reply != nil || b.Consent != nil:
		return problem.Invalid("revocation", "a revocation is neither a reply nor a consent")
	case !b.ExpiresAt.IsZero():
		return problem.Invalid("expire_time", "a revocation does not expire")
	case !r.At.Equal(b.CreatedAt):
		return problem.Invalid("revocation.at", "a revocation is dated when it was made (its create time)")
	case r.By == "" || len(r.By) > 2048:
		return problem.Invalid("revocation.by", "who revoked is required")
	case len(r.Reason) > MaxReasonBytes:
		return problem.Invalid("revocation.reason", "reason is %d bytes, the limit is %d", len(r.Reason), MaxReasonBytes)
	}
	if err := checkRequiredLine("revocation.reason", r.Reason, MaxReasonBytes); err != nil {
		return err
	}
	return CheckLine("revocation.by", r.By)
}

// validateConsent checks a consent request or decision.
func (b *Bulletin) validateConsent() error {
	if err := b.validateHeaderEnums(); err != nil {
		return err
	}
	if err := b.validateEnvelope(); err != nil {
		return err
	}
	c := b.Consent
	switch {
	case b.Title != "" || b.Body != "" || len(b.Indicators) > 0 || b.Reply != nil || b.Revoked:
		return problem.Invalid("consent", "a consent carries no content")
	case b.RevisionNumber() != 1:
		return problem.Invalid("revision", "a consent is not revised")
	case !region.IsMember(c.Forwarder) || !region.IsMember(c.Target):
		return problem.Invalid("consent.target", "forwarder and target must be member states")
	case c.Forwarder == c.Target || c.Target == c.Bulletin.Origin || c.Forwarder == c.Bulletin.Origin:
		return problem.Invalid("consent.target", "a consent is about a forward by a state that holds the bulletin to another state")
	case c.Decision == ConsentPending && (c.Request != "" || b.Origin != c.Forwarder):
		return problem.Invalid("consent.forwarder", "a consent request is made by the state that would forward")
	case c.Decision != ConsentPending && (c.Decision != ConsentGranted && c.Decision != ConsentRefused):
		return problem.Invalid("consent.decision", "unknown consent decision %d", int(c.Decision))
	case c.Decision != ConsentPending && (!isULID(c.Request) || b.Origin != c.Bulletin.Origin):
		return problem.Invalid("consent.request", "a consent decision is the origin's answer to a request")
	case len(c.Reason) > MaxReasonBytes:
		return problem.Invalid("consent.reason", "reason is %d bytes, the limit is %d", len(c.Reason), MaxReasonBytes)
	}
	if err := ValidateRef("consent.bulletin", c.Bulletin); err != nil {
		return err
	}
	return CheckLine("consent.reason", c.Reason)
}
