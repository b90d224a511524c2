package bulletin_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

func FuzzValidateDraft(f *testing.F) {
	// title, body, bodyRepeat, state, marking, precedence, category, language,
	// region, caveat, reliability, credibility, indicator type, indicator value
	f.Add("Alerta", "Texto", uint16(1), "MX", 3, 1, 3, 1, 1, 1, 2, 2, 1, "ABC-123")
	f.Add("", "", uint16(0), "", 0, 0, 0, 0, 0, 0, 0, 0, 0, "")
	f.Add("t", "b", uint16(1), "mx", 6, 5, 13, 5, 5, 4, 7, 1, 7, "v")
	f.Add("t", strings.Repeat("b", 1024), uint16(257), "FR", 5, 4, 12, 4, 4, 3, 6, 6, 6, "v")
	f.Add("\xff", "\xc3\x28", uint16(1), "US", 1, 2, 4, 2, 3, 2, 1, 1, 2, "\xfe")
	f.Add("\x1b[31mAlerta", "Texto\n\tlinea\r\x1b]0;t\x07", uint16(1), "US", 1, 2, 4, 2, 3, 2, 1, 1, 2, "\u202eexe")
	f.Add("a\u2066b", "\u009b2J", uint16(1), "US", 1, 2, 4, 2, 3, 2, 1, 1, 2, "   ")
	f.Add(strings.Repeat("t", 257), "b", uint16(1), "CA", -1, -1, -1, -1, -1, -1, -1, -1, -1, "v")
	f.Fuzz(func(t *testing.T, title, body string, bodyRepeat uint16, state string,
		marking, prec, cat, lang, reg, caveat, rel, cred, itype int, ivalue string) {
		n := int(bodyRepeat)
		if len(body) > 0 && n > 2*bulletin.MaxBodyBytes/len(body)+1 {
			n = 2*bulletin.MaxBodyBytes/len(body) + 1
		}
		b := bulletin.Bulletin{
			Title:      title,
			Body:       strings.Repeat(body, n),
			Precedence: bulletin.Precedence(prec),
			Category:   bulletin.Category(cat),
			Language:   bulletin.Language(lang),
			Marking:    bulletin.Marking(marking),
			Grading:    bulletin.Grading{Reliability: rel, Credibility: cred},
			Releasability: bulletin.Releasability{
				States:  []string{state},
				Regions: []region.Region{region.Region(reg)},
			},
			Caveats:    []bulletin.Caveat{bulletin.Caveat(caveat)},
			Indicators: []bulletin.Indicator{{Type: bulletin.IndicatorType(itype), Value: ivalue}},
		}
		err := b.ValidateDraft()
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field == "" || p.Msg == "" {
				t.Fatalf("ValidateDraft() = %#v, want a *problem.Error of kind invalid naming a field", err)
			}
			return
		}
		switch {
		case b.Title == "" || len(b.Title) > bulletin.MaxTitleBytes || !utf8.ValidString(b.Title):
			t.Errorf("ValidateDraft() accepted title %q", b.Title)
		case b.Body == "" || len(b.Body) > bulletin.MaxBodyBytes || !utf8.ValidString(b.Body):
			t.Errorf("ValidateDraft() accepted a body of %d bytes (valid UTF-8: %v)", len(b.Body), utf8.ValidString(b.Body))
		case !b.Marking.Valid() || !b.Precedence.Valid() || !b.Category.Valid() || !b.Language.Valid():
			t.Errorf("ValidateDraft() accepted enums %d %d %d %d", b.Marking, b.Precedence, b.Category, b.Language)
		case !b.Grading.Valid():
			t.Errorf("ValidateDraft() accepted grading %+v", b.Grading)
		case !region.IsMember(state):
			t.Errorf("ValidateDraft() accepted state %q", state)
		case !region.Region(reg).Valid():
			t.Errorf("ValidateDraft() accepted region %d", reg)
		case !bulletin.Caveat(caveat).Valid():
			t.Errorf("ValidateDraft() accepted caveat %d", caveat)
		case !bulletin.IndicatorType(itype).Valid() || strings.TrimSpace(ivalue) == "" || len(ivalue) > bulletin.MaxIndicatorBytes:
			t.Errorf("ValidateDraft() accepted indicator %d %q", itype, ivalue)
		case !shownAsIs(b.Title, false) || !shownAsIs(ivalue, false):
			t.Errorf("ValidateDraft() accepted title %q, indicator value %q: a terminal could act on them", b.Title, ivalue)
		case !shownAsIs(b.Body, true):
			t.Errorf("ValidateDraft() accepted body %q: a terminal could act on it", b.Body)
		}
		got := bulletin.Recipients(state, b.Releasability)
		if len(got) == 0 || !slices.IsSorted(got) || slices.Contains(got, state) {
			t.Errorf("Recipients(%q, %+v) = %v, want a non-empty sorted list without the origin", state, b.Releasability, got)
		}
		for _, r := range got {
			if !region.IsMember(r) {
				t.Errorf("Recipients(%q, %+v) contains non-member %q", state, b.Releasability, r)
			}
		}
	})
}

// shownAsIs reports whether s holds only what a terminal prints as text:
// no C0 or C1 control (but newline and tab in a block), no DEL, no
// bidirectional formatting, and escape leaves it unchanged.
func shownAsIs(s string, block bool) bool {
	for _, r := range s {
		switch {
		case block && (r == '\n' || r == '\t'):
		case r < 0x20, r >= 0x7f && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return false
		}
	}
	if block {
		return escape.Block(s) == s
	}
	return escape.Line(s) == s
}

func FuzzParseMarking(f *testing.F) {
	for _, s := range []string{"", "red", "TLP:RED", "amber+strict", "AMBER_STRICT", "amber-strict",
		"Amber Strict", "tlp:tlp:clear", "TLP: GREEN", "white", "\xff", "tlp:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := bulletin.ParseMarking(s)
		if err != nil {
			if m != bulletin.MarkingUnspecified {
				t.Errorf("ParseMarking(%q) = %v, %v, want the zero value with an error", s, m, err)
			}
			return
		}
		if !m.Valid() {
			t.Fatalf("ParseMarking(%q) = %d, nil, not Valid", s, int(m))
		}
		if got, err := bulletin.ParseMarking(m.String()); err != nil || got != m {
			t.Errorf("ParseMarking(%q) = %v, %v, want %v, nil (input %q)", m.String(), got, err, m, s)
		}
	})
}

// FuzzParseEnums checks the other enum parsers the same way.
func FuzzParseEnums(f *testing.F) {
	for _, s := range []string{"", "flash", "CBRN", "Arms_Trafficking", "es", "no onward sharing",
		"TRAVEL_DOCUMENT", "tlp:flash", "\xff", " other ", "sighting", "RFI", "not-seen", "recipients"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fuzzEnum(t, s, bulletin.ParsePrecedence)
		fuzzEnum(t, s, bulletin.ParseCategory)
		fuzzEnum(t, s, bulletin.ParseLanguage)
		fuzzEnum(t, s, bulletin.ParseCaveat)
		fuzzEnum(t, s, bulletin.ParseIndicatorType)
		fuzzEnum(t, s, bulletin.ParseReplyKind)
		fuzzEnum(t, s, bulletin.ParseSightingKind)
		fuzzEnum(t, s, bulletin.ParseAudience)
	})
}

func fuzzEnum[E enum](t *testing.T, s string, parse func(string) (E, error)) {
	t.Helper()
	v, err := parse(s)
	if err != nil {
		if v != 0 {
			t.Errorf("Parse(%q) = %v, %v, want the zero value with an error", s, v, err)
		}
		return
	}
	if !v.Valid() {
		t.Fatalf("Parse(%q) = %d, nil, not Valid", s, int(v))
	}
	if got, err := parse(v.String()); err != nil || got != v {
		t.Errorf("Parse(%q) = %v, %v, want %v, nil (input %q)", v.String(), got, err, v, s)
	}
}

func FuzzParseGrading(f *testing.F) {
	for _, s := range []string{"", "A1", "b2", "F6", "G1", "A7", "B", "B22", "2B", "\xc1\x31", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := bulletin.ParseGrading(s)
		if err != nil {
			if !g.IsZero() {
				t.Errorf("ParseGrading(%q) = %+v, %v, want the zero grading with an error", s, g, err)
			}
			return
		}
		if !g.Valid() || g.IsZero() {
			t.Fatalf("ParseGrading(%q) = %+v, nil, want a complete valid grading", s, g)
		}
		if !strings.EqualFold(g.String(), s) {
			t.Errorf("ParseGrading(%q).String() = %q, want it case-insensitively equal to the input", s, g.String())
		}
		if got, err := bulletin.ParseGrading(g.String()); err != nil || got != g {
			t.Errorf("ParseGrading(%q) = %+v, %v, want %+v, nil", g.String(), got, err, g)
		}
	})
}
