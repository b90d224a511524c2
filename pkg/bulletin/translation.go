package bulletin

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// MaxAllBodiesBytes bounds the body and every translation's body
// together, so that a bulletin in all four languages stays well inside
// one sealed message (1 MiB).
const MaxAllBodiesBytes = 640 << 10

// Translation is a bulletin's title and body in another of the four
// languages than its original [Bulletin.Language].
type Translation struct {
	// Language is the translation's language, not the original's.
	Language Language `json:"language"`
	// Title and Body are the translated text, with the limits and the
	// character rules of the bulletin's own.
	Title string `json:"title"`
	Body  string `json:"body"`
	// By is the state whose focal point translated: the origin for a
	// translation it posted, or a recipient state that added it later.
	By string `json:"by"`
	// Translator is the SPIFFE ID of the person who added it, if known.
	Translator string `json:"translator,omitempty"`
	// At is when the translation was added; zero when posted with the
	// bulletin.
	At time.Time `json:"at,omitzero"`
}

// Translated is what a translation message carries: the bulletin and
// revision translated and the translation, whose By is the message's
// origin.
type Translated struct {
	Of          Ref         `json:"of"`
	Revision    int         `json:"revision"`
	Translation Translation `json:"translation"`
}

// validateTranslated checks a translation message: its envelope, what it
// translates, the translation (by the message's origin, not the
// bulletin's) and no content of its own.
func (b *Bulletin) validateTranslated() error {
	if err := b.validateHeaderEnums(); err != nil {
		return err
	}
	if err := b.validateEnvelope(); err != nil {
		return err
	}
	t := b.Translated
	switch {
	case b.Title != "" || b.Body != "" || len(b.Indicators) > 0 || len(b.Translations) > 0 || b.Conditions != "":
		return problem.Invalid("body", "a translation message carries the translation only")
	case b.Revoked || b.RevisionNumber() != 1 || b.Reply != nil || b.Consent != nil || b.Revocation != nil:
		return problem.Invalid("translated", "a translation message is neither revised nor a reply nor a consent")
	case t.Of.Origin == b.Origin:
		return problem.Invalid("translated.of", "a state adds its translations to its own bulletin with a revision")
	case t.Revision < 1 || t.Revision > MaxRevision:
		return problem.Invalid("translated.revision", "revision %d is outside 1 to %d", t.Revision, MaxRevision)
	case t.Translation.By != b.Origin:
		return problem.Invalid("translated.translation.by", "a translation is by the state that sends it")
	case !t.Translation.At.Equal(b.CreatedAt):
		return problem.Invalid("translated.translation.add_time", "a translation is dated when it was added (its message's create time)")
	}
	if err := ValidateRef("translated.of", t.Of); err != nil {
		return err
	}
	if err := t.Translation.Validate("translated.translation"); err != nil {
		return err
	}
	return b.Releasability.Validate()
}

// Text is a bulletin's title and body in one language, as shown to a
// person.
type Text struct {
	Language Language
	Title    string
	Body     string
	// Original reports whether this is the bulletin's original text;
	// otherwise By names the translating state.
	Original bool
	By       string
}

// Languages returns the bulletin's languages: the original first, then
// each translation's in the order they were added.
func (b *Bulletin) Languages() []Language {
	out := []Language{b.Language}
	for _, t := range b.Translations {
		out = append(out, t.Language)
	}
	return out
}

// TextIn returns b's text in the preferred language if b has it, and its
// original otherwise: the caller says which one is shown and, with
// [Bulletin.Languages], which others exist.
func (b *Bulletin) TextIn(preferred Language) Text {
	for _, t := range b.Translations {
		if t.Language == preferred && preferred != b.Language {
			return Text{Language: t.Language, Title: t.Title, Body: t.Body, By: t.By}
		}
	}
	return Text{Language: b.Language, Title: b.Title, Body: b.Body, Original: true, By: b.Origin}
}

// SearchTitles returns b's title in every language it has, one a line,
// for a full-text index: a search finds b by words of any of them.
func (b *Bulletin) SearchTitles() string {
	parts := []string{b.Title}
	for _, t := range b.Translations {
		parts = append(parts, t.Title)
	}
	return strings.Join(parts, "\n")
}

// SearchBodies is [Bulletin.SearchTitles] of the bodies.
func (b *Bulletin) SearchBodies() string {
	parts := []string{b.Body}
	for _, t := range b.Translations {
		parts = append(parts, t.Body)
	}
	return strings.Join(parts, "\n")
}

// ValidateTranslations checks b's translations: each in a known language
// other than the original's and the others', by a member state, its
// title and body as a bulletin's own, all bodies together at most
// [MaxAllBodiesBytes]. Errors are *problem.Error of kind invalid naming
// the field, e.g. "translations[1].body".
func (b *Bulletin) ValidateTranslations() error {
	if len(b.Translations) > len(languageNames)-2 {
		return problem.Invalid("translations", "%d translations, at most one per language other than the original", len(b.Translations))
	}
	total := len(b.Body)
	seen := []Language{b.Language}
	for i, t := range b.Translations {
		field := fmt.Sprintf("translations[%d]", i)
		if err := t.Validate(field); err != nil {
			return err
		}
		if slices.Contains(seen, t.Language) {
			return problem.Invalid(field+".language", "%s is the original's language or another translation's", t.Language)
		}
		seen = append(seen, t.Language)
		total += len(t.Body)
	}
	if total > MaxAllBodiesBytes {
		return problem.Invalid("translations", "the bodies in all languages are %d bytes, the limit is %d", total, MaxAllBodiesBytes)
	}
	return nil
}

// Validate checks one translation on its own, naming its fields under
// field (e.g. "translation.title").
func (t *Translation) Validate(field string) error {
	switch {
	case !t.Language.Valid():
		return problem.Invalid(field+".language", "language is required (es, en, pt or fr)")
	case !region.IsMember(t.By):
		return problem.Invalid(field+".by", "translating state %q is not a member state", t.By)
	case len(t.Translator) > 2048:
		return problem.Invalid(field+".translator", "translator is too long")
	case t.Translator != "" && !(strings.HasPrefix(t.Translator, "spiffe://") && strings.Contains(t.Translator, "/state/"+t.By+"/")):
		return problem.Invalid(field+".translator", "translator %q is not a person of the translating state %s", t.Translator, t.By)
	case strings.TrimSpace(t.Body) == "":
		return problem.Invalid(field+".body", "body is required")
	case len(t.Body) > MaxBodyBytes:
		return problem.Invalid(field+".body", "body is %d bytes, the limit is %d", len(t.Body), MaxBodyBytes)
	}
	if err := checkRequiredLine(field+".title", t.Title, MaxTitleBytes); err != nil {
		return err
	}
	if err := CheckLine(field+".translator", t.Translator); err != nil {
		return err
	}
	return CheckBlock(field+".body", t.Body)
}
