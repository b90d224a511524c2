package bulletin_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

func translated() bulletin.Bulletin {
	b := complete()
	b.Translations = []bulletin.Translation{
		{Language: bulletin.English, Title: "MANPADS in transit", Body: "Two portable air-defence systems.", By: "MX"},
		{Language: bulletin.Portuguese, Title: "MANPADS em trânsito", Body: "Dois sistemas portáteis.", By: "BR",
			Translator: "spiffe://iant.oas.org/state/BR/focal-point/joao"},
	}
	return b
}

func TestValidateTranslations(t *testing.T) {
	b := translated()
	if err := b.Validate(); err != nil {
		t.Fatalf("Validate(translated) = %v", err)
	}
	for _, tt := range []struct {
		name  string
		edit  func(b *bulletin.Bulletin)
		field string
	}{
		{"original's language", func(b *bulletin.Bulletin) { b.Translations[0].Language = bulletin.Spanish }, "translations[0].language"},
		{"twice in one language", func(b *bulletin.Bulletin) { b.Translations[1].Language = bulletin.English }, "translations[1].language"},
		{"unknown language", func(b *bulletin.Bulletin) { b.Translations[0].Language = 9 }, "translations[0].language"},
		{"no title", func(b *bulletin.Bulletin) { b.Translations[1].Title = " " }, "translations[1].title"},
		{"escape in title", func(b *bulletin.Bulletin) { b.Translations[1].Title = "\x1b[2Jx" }, "translations[1].title"},
		{"bidi override in body", func(b *bulletin.Bulletin) { b.Translations[0].Body = "a\u202eb" }, "translations[0].body"},
		{"control in translator", func(b *bulletin.Bulletin) { b.Translations[1].Translator = "a\x07" }, "translations[1].translator"},
		{"translator of another state", func(b *bulletin.Bulletin) {
			b.Translations[1].Translator = "spiffe://iant.test/state/ZZ/focal-point/focal"
		}, "translations[1].translator"},
		{"oversized body", func(b *bulletin.Bulletin) { b.Translations[0].Body = strings.Repeat("x", bulletin.MaxBodyBytes+1) }, "translations[0].body"},
		{"not a member", func(b *bulletin.Bulletin) { b.Translations[0].By = "XX" }, "translations[0].by"},
		{"all bodies too large", func(b *bulletin.Bulletin) {
			b.Body = strings.Repeat("x", bulletin.MaxBodyBytes)
			b.Translations[0].Body, b.Translations[1].Body = b.Body, b.Body
		}, "translations"},
		{"four translations", func(b *bulletin.Bulletin) {
			b.Translations = append(b.Translations, b.Translations[0], b.Translations[0])
		}, "translations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := translated()
			tt.edit(&b)
			wantInvalid(t, "Validate()", b.Validate(), tt.field)
		})
	}
}

func TestTextIn(t *testing.T) {
	b := translated()
	for _, tt := range []struct {
		pref     bulletin.Language
		lang     bulletin.Language
		original bool
		by       string
	}{
		{bulletin.Portuguese, bulletin.Portuguese, false, "BR"},
		{bulletin.English, bulletin.English, false, "MX"},
		{bulletin.Spanish, bulletin.Spanish, true, "MX"},
		{bulletin.French, bulletin.Spanish, true, "MX"},
		{bulletin.LanguageUnspecified, bulletin.Spanish, true, "MX"},
	} {
		got := b.TextIn(tt.pref)
		if got.Language != tt.lang || got.Original != tt.original || got.By != tt.by {
			t.Errorf("TextIn(%s) = %s original %v by %s, want %s %v %s", tt.pref, got.Language, got.Original, got.By, tt.lang, tt.original, tt.by)
		}
	}
	if got := b.Languages(); len(got) != 3 || got[0] != bulletin.Spanish {
		t.Errorf("Languages() = %v, want es first and 3 in all", got)
	}
	if s := b.SearchBodies(); !strings.Contains(s, "portáteis") || !strings.Contains(s, "portable") || !strings.Contains(s, "traslado") {
		t.Errorf("SearchBodies() misses a language: %q", s)
	}
	if s := b.SearchTitles(); !strings.Contains(s, "trânsito") || !strings.Contains(s, "transit") || !strings.Contains(s, "tránsito") {
		t.Errorf("SearchTitles() misses a language: %q", s)
	}
}

func TestConfidentialCopyValidates(t *testing.T) {
	b := complete()
	b.ConfidentialAudience = true
	if err := b.Validate(); err != nil {
		t.Fatalf("Validate(origin's confidential bulletin) = %v", err)
	}
	b.Releasability, b.Recipients = bulletin.Releasability{}, []string{"CO"}
	if err := b.Validate(); err != nil {
		t.Errorf("Validate(recipient's copy) = %v", err)
	}
	b.Recipients = []string{"CO", "GT"}
	wantInvalid(t, "Validate(copy naming two recipients)", b.Validate(), "releasability")
	d := draft()
	d.ConfidentialAudience, d.Releasability = true, bulletin.Releasability{}
	wantInvalid(t, "ValidateDraft(confidential, no audience)", d.ValidateDraft(), "releasability")
}

func FuzzValidateTranslation(f *testing.F) {
	f.Add(2, "Title", "Body", "BR", "spiffe://t/state/BR/focal-point/a")
	f.Add(1, "", "", "", "")
	f.Add(3, "\x1b]0;x\x07", "a\u202eb\n", "US", "\u2066")
	f.Add(9, "\xff", "\xc3\x28", "br", strings.Repeat("a", 3000))
	f.Fuzz(func(t *testing.T, lang int, title, body, by, translator string) {
		tr := bulletin.Translation{Language: bulletin.Language(lang), Title: title, Body: body, By: by, Translator: translator}
		err := tr.Validate("translation")
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || !strings.HasPrefix(p.Field, "translation.") {
				t.Fatalf("Validate = %#v, want invalid naming a translation field", err)
			}
			return
		}
		if !utf8.ValidString(title+body+translator) || strings.TrimSpace(title) == "" || len(body) > bulletin.MaxBodyBytes ||
			strings.ContainsAny(title+translator, "\x1b\n\x07") || strings.ContainsAny(body, "\x1b\x07\r") ||
			(translator != "" && !strings.Contains(translator, "/state/"+by+"/")) {
			t.Fatalf("Validate accepted %+v", tr)
		}
	})
}

// FuzzValidateTranslated: Validate of a translation message never
// panics, refuses with a field named, and accepts only a translation by
// the message's origin, of another state's bulletin, without content of
// its own and with text a terminal cannot act on.
func FuzzValidateTranslated(f *testing.F) {
	f.Add("BR", "MX", "BR", 3, "Armas", "Dois sistemas.", "")
	f.Add("BR", "MX", "US", 3, "Armas", "Dois sistemas.", "")
	f.Add("MX", "MX", "MX", 2, "Arms", "Two.", "")
	f.Add("BR", "MX", "BR", 1, "Armas", "Dois", "")
	f.Add("BR", "MX", "BR", 3, "\x1b]0;x\x07", "a\u202eb", "own body")
	f.Add("BR", "XX", "BR", 9, "", "", "")
	f.Fuzz(func(t *testing.T, origin, of, by string, lang int, title, body, ownBody string) {
		b := complete()
		b.Origin, b.Title, b.Body, b.Indicators, b.Caveats = origin, "", ownBody, nil, nil
		b.Releasability, b.Recipients = bulletin.Releasability{States: []string{"MX"}}, []string{"MX"}
		b.Translated = &bulletin.Translated{Of: bulletin.Ref{Origin: of, ID: "01JBX6Q4W3S9ZK2M8T5N7R1VCF"}, Revision: 1,
			Translation: bulletin.Translation{Language: bulletin.Language(lang), Title: title, Body: body, By: by, At: b.CreatedAt}}
		err := b.Validate()
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field == "" {
				t.Fatalf("Validate() = %#v, want a *problem.Error of kind invalid naming a field", err)
			}
			return
		}
		tr := b.Translated.Translation
		switch {
		case b.Kind() != bulletin.KindTranslation:
			t.Errorf("Kind() = %s, want translation", b.Kind())
		case tr.By != b.Origin || b.Translated.Of.Origin == b.Origin:
			t.Errorf("Validate() accepted a translation by %s sent by %s of %s's bulletin", tr.By, b.Origin, b.Translated.Of.Origin)
		case b.Body != "":
			t.Errorf("Validate() accepted a translation message with a body of its own")
		case !utf8.ValidString(title+body) || strings.ContainsAny(title, "\x1b\x07\n") || strings.ContainsAny(body, "\x1b\x07\r"):
			t.Errorf("Validate() accepted text a terminal could act on: %q %q", title, body)
		}
	})
}
