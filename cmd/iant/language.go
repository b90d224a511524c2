package main

import (
	"os"
	"strings"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/escape"
)

// preferred is the language bulletins are shown in when they have it:
// --language, else the context file's language, else none (then the
// language the node's configuration gives the person, see preferredFor,
// else each bulletin's original).
func (g *globals) preferred() (bulletin.Language, error) {
	s := g.language
	if s == "" {
		path := g.contextFile
		if path == "" {
			path = os.Getenv("IANT_CONTEXT")
		}
		if c, err := client.LoadContext(path); err == nil {
			s = c.Language // a broken context is reported when dialling
		}
	}
	if s == "" {
		return bulletin.LanguageUnspecified, nil
	}
	l, err := bulletin.ParseLanguage(s)
	if err != nil {
		return 0, usagef("--language: %v", err)
	}
	return l, nil
}

// preferredFor is the language to show r in: pref (--language or the
// context file's), else the one r's node says the person prefers.
func preferredFor(r *iantv1.StoredBulletin, pref bulletin.Language) bulletin.Language {
	if pref != bulletin.LanguageUnspecified {
		return pref
	}
	return bulletin.Language(r.GetPreferredLanguage())
}

// shownText is b's title and body in language pref if b has it, its
// original otherwise, and a note saying which is shown and which others
// exist, e.g. "pt, translation by BR (also es original, en)".
func shownText(b *iantv1.Bulletin, pref bulletin.Language) (bulletin.Text, string) {
	v := bulletin.Bulletin{Origin: b.GetOrigin(), Language: bulletin.Language(b.GetLanguage()), Title: b.GetTitle(), Body: b.GetBody()}
	for _, t := range b.GetTranslations() {
		v.Translations = append(v.Translations, bulletin.Translation{Language: bulletin.Language(t.GetLanguage()),
			Title: t.GetTitle(), Body: t.GetBody(), By: t.GetBy()})
	}
	text := v.TextIn(pref)
	note := text.Language.String() + ", original"
	if !text.Original {
		note = text.Language.String() + ", translation by " + escape.Line(text.By)
	}
	var others []string
	for _, l := range v.Languages() {
		switch {
		case l == text.Language:
		case l == v.Language:
			others = append(others, l.String()+" original")
		default:
			others = append(others, l.String())
		}
	}
	if len(others) > 0 {
		note += " (also " + strings.Join(others, ", ") + ")"
	}
	return text, note
}

// shownTitle is the title a table shows: the preferred language's, marked
// with its language and the others' when b has translations.
func shownTitle(b *iantv1.Bulletin, pref bulletin.Language, max int) string {
	text, _ := shownText(b, pref)
	if len(b.GetTranslations()) == 0 {
		return oneLine(text.Title, max)
	}
	langs := []string{text.Language.String()}
	for _, l := range append([]iantv1.Language{b.GetLanguage()}, languagesOf(b)...) {
		if bulletin.Language(l) != text.Language {
			langs = append(langs, bulletin.Language(l).String())
		}
	}
	return "[" + langs[0] + "; also " + strings.Join(langs[1:], ",") + "] " + oneLine(text.Title, max)
}

func languagesOf(b *iantv1.Bulletin) []iantv1.Language {
	var out []iantv1.Language
	for _, t := range b.GetTranslations() {
		out = append(out, t.GetLanguage())
	}
	return out
}
