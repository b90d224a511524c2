package bulletin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
func (b *Bulletin) ValidateDraft() error {
	switch {
	case strings.TrimSpace(b.Title) == "":
		return problem.Invalid("title", "title is required")
	case len(b.Title) > MaxTitleBytes:
		return problem.Invalid("title", "title is %d bytes, the limit is %d", len(b.Title), MaxTitleBytes)
	case !utf8.ValidString(b.Title):
		return problem.Invalid("title", "title is not valid UTF-8")
	case strings.TrimSpace(b.Body) == "":
		return problem.Invalid("body", "body is required")
	case len(b.Body) > MaxBodyBytes:
		return problem.Invalid("body", "body is %d bytes, the limit is %d", len(b.Body), MaxBodyBytes)
	case !utf8.ValidString(b.Body):
		return problem.Invalid("body", "body is not valid UTF-8")
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
	case len(b.Conditions) > MaxConditionsBytes:
		return problem.Invalid("conditions", "conditions are %d bytes, the limit is %d", len(b.Conditions), MaxConditionsBytes)
	case !utf8.ValidString(b.Conditions):
		return problem.Invalid("conditions", "conditions are not valid UTF-8")
	}
	if err := b.Releasability.Validate(); err != nil {
		return err
	}
	if err := validateCaveats(b.Caveats); err != nil {
		return err
	}
	return validateIndicators(b.Indicators)
}

// Validate checks a complete bulletin as stored and transported: the draft
// rules plus the fields the origin node sets.
func (b *Bulletin) Validate() error {
	if err := b.ValidateDraft(); err != nil {
		return err
	}
	switch {
	case b.ID == "":
		return problem.Invalid("id", "id is required")
	case len(b.ID) > 64:
		return problem.Invalid("id", "id is too long")
	case !region.IsMember(b.Origin):
		return problem.Invalid("origin", "origin %q is not a member state", b.Origin)
	case b.Author == "":
		return problem.Invalid("author", "author is required")
	case b.CreatedAt.IsZero():
		return problem.Invalid("create_time", "create time is required")
	case !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(b.CreatedAt):
		return problem.Invalid("expire_time", "expire time must be after create time")
	case !b.ExpiresAt.IsZero() && b.ExpiresAt.Sub(b.CreatedAt) > MaxExpiry:
		return problem.Invalid("expire_time", "expire time is more than %v after create time", MaxExpiry)
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
		field := fmt.Sprintf("indicators[%d]", i)
		switch {
		case !in.Type.Valid():
			return problem.Invalid(field+".type", "indicator type is required or unknown")
		case in.Value == "":
			return problem.Invalid(field+".value", "indicator value is required")
		case len(in.Value) > MaxIndicatorBytes:
			return problem.Invalid(field+".value", "indicator value is %d bytes, the limit is %d", len(in.Value), MaxIndicatorBytes)
		case !utf8.ValidString(in.Value):
			return problem.Invalid(field+".value", "indicator value is not valid UTF-8")
		case len(in.Description) > MaxIndicatorBytes:
			return problem.Invalid(field+".description", "indicator description is %d bytes, the limit is %d", len(in.Description), MaxIndicatorBytes)
		case !utf8.ValidString(in.Description):
			return problem.Invalid(field+".description", "indicator description is not valid UTF-8")
		case len(in.Attributes) > MaxAttributes:
			return problem.Invalid(field+".attributes", "too many attributes (%d)", len(in.Attributes))
		}
		for k, v := range in.Attributes {
			if k == "" || len(k) > 64 || len(v) > MaxIndicatorBytes || !utf8.ValidString(k) || !utf8.ValidString(v) {
				return problem.Invalid(field+".attributes", "attribute %q is empty, too long or not UTF-8", k)
			}
		}
	}
	return nil
}

// Recipients resolves releasability to the sorted member states that receive
// a copy, leaving out the origin (which keeps its own copy as sent).
func Recipients(origin string, r Releasability) []string {
	set := map[string]bool{}
	if r.All {
		for _, c := range region.Codes() {
			set[c] = true
		}
	}
	for _, s := range r.States {
		set[s] = true
	}
	for _, g := range r.Regions {
		for _, c := range region.StatesOf(g) {
			set[c] = true
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
