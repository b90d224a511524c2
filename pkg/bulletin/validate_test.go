package bulletin_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

var created = time.Date(2026, 11, 3, 14, 30, 0, 0, time.UTC)

// draft returns a fresh bulletin as an author submits it, valid for ValidateDraft.
func draft() bulletin.Bulletin {
	return bulletin.Bulletin{
		Precedence: bulletin.Immediate,
		Category:   bulletin.ArmsTrafficking,
		Grading:    bulletin.Grading{Reliability: 2, Credibility: 2},
		Language:   bulletin.Spanish,
		Marking:    bulletin.AmberStrict,
		Releasability: bulletin.Releasability{
			States:  []string{"CO", "GT"},
			Regions: []region.Region{region.NorthAmerica},
		},
		Caveats: []bulletin.Caveat{bulletin.LawEnforcementOnly, bulletin.NoOnwardSharing},
		Title:   "MANPADS en tránsito por el corredor del Pacífico",
		Body:    "Se informa del posible traslado de dos sistemas portátiles de defensa antiaérea.",
		Indicators: []bulletin.Indicator{
			{Type: bulletin.IndicatorVehicle, Value: "ABC-123-X", Attributes: map[string]string{"color": "blanco"}},
			{Type: bulletin.IndicatorWeapon, Value: "9K38 Igla", Description: "dos unidades"},
		},
	}
}

// complete returns a fresh bulletin as the origin node stores it, valid for Validate.
func complete() bulletin.Bulletin {
	b := draft()
	b.ID = "01JBX6Q4W3S9ZK2M8T5N7R1VCE"
	b.Origin = "MX"
	b.Author = "spiffe://iant.oas.org/state/MX/focal-point/ana"
	b.CreatedAt = created
	b.ExpiresAt = created.Add(72 * time.Hour)
	b.Recipients = bulletin.Recipients(b.Origin, b.Releasability)
	return b
}

// wantInvalid fails t unless err is a *problem.Error of kind invalid naming field.
func wantInvalid(t testing.TB, call string, err error, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s = nil, want invalid %s", call, field)
		return
	}
	var p *problem.Error
	if !errors.As(err, &p) {
		t.Errorf("%s = %v (%T), want a *problem.Error", call, err, err)
		return
	}
	if p.Kind != problem.KindInvalid || p.Field != field {
		t.Errorf("%s = kind %v field %q (%v), want kind %v field %q", call, p.Kind, p.Field, err, problem.KindInvalid, field)
	}
	if problem.KindOf(err) != problem.KindInvalid {
		t.Errorf("KindOf(%s) = %v, want %v", call, problem.KindOf(err), problem.KindInvalid)
	}
	if p.Msg == "" {
		t.Errorf("%s has an empty public message", call)
	}
}

func TestValidBulletinPasses(t *testing.T) {
	d := draft()
	if err := d.ValidateDraft(); err != nil {
		t.Errorf("ValidateDraft() of a valid draft = %v, want nil", err)
	}
	b := complete()
	if err := b.ValidateDraft(); err != nil {
		t.Errorf("ValidateDraft() of a valid bulletin = %v, want nil", err)
	}
	if err := b.Validate(); err != nil {
		t.Errorf("Validate() of a valid bulletin = %v, want nil", err)
	}
}

// TestValidateLimits checks values right at each limit are accepted.
func TestValidateLimits(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*bulletin.Bulletin)
	}{
		{"title at limit", func(b *bulletin.Bulletin) { b.Title = strings.Repeat("t", bulletin.MaxTitleBytes) }},
		{"body at limit", func(b *bulletin.Bulletin) { b.Body = strings.Repeat("b", bulletin.MaxBodyBytes) }},
		{"multibyte body at limit", func(b *bulletin.Bulletin) { b.Body = strings.Repeat("ñ", bulletin.MaxBodyBytes/2) }},
		{"ungraded", func(b *bulletin.Bulletin) { b.Grading = bulletin.Grading{} }},
		{"no caveats", func(b *bulletin.Bulletin) { b.Caveats = nil }},
		{"all caveats", func(b *bulletin.Bulletin) {
			b.Caveats = []bulletin.Caveat{bulletin.OriginatorConsentRequired, bulletin.LawEnforcementOnly, bulletin.NoOnwardSharing}
		}},
		{"no indicators", func(b *bulletin.Bulletin) { b.Indicators = nil }},
		{"max indicators", func(b *bulletin.Bulletin) {
			b.Indicators = make([]bulletin.Indicator, bulletin.MaxIndicators)
			for i := range b.Indicators {
				b.Indicators[i] = bulletin.Indicator{Type: bulletin.IndicatorFlight, Value: fmt.Sprintf("AV%04d", i)}
			}
		}},
		{"indicator value at limit", func(b *bulletin.Bulletin) { b.Indicators[0].Value = strings.Repeat("v", bulletin.MaxIndicatorBytes) }},
		{"max attributes", func(b *bulletin.Bulletin) { b.Indicators[0].Attributes = attributes(bulletin.MaxAttributes) }},
		{"release to all", func(b *bulletin.Bulletin) { b.Releasability = bulletin.Releasability{All: true} }},
		{"release to a region only", func(b *bulletin.Bulletin) {
			b.Releasability = bulletin.Releasability{Regions: []region.Region{region.Caribbean}}
		}},
		{"state listed twice", func(b *bulletin.Bulletin) { b.Releasability.States = []string{"CO", "CO"} }},
		{"no expiry", func(b *bulletin.Bulletin) { b.ExpiresAt = time.Time{} }},
		{"expiry at limit", func(b *bulletin.Bulletin) { b.ExpiresAt = b.CreatedAt.Add(bulletin.MaxExpiry) }},
		{"no recipients", func(b *bulletin.Bulletin) { b.Recipients = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := complete()
			tt.mutate(&b)
			if err := b.ValidateDraft(); err != nil {
				t.Errorf("ValidateDraft() = %v, want nil", err)
			}
			if err := b.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func attributes(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func indicator(mutate func(*bulletin.Indicator)) func(*bulletin.Bulletin) {
	return func(b *bulletin.Bulletin) { mutate(&b.Indicators[0]) }
}

// TestValidateDraftRejects covers what an author can get wrong; Validate
// must reject the same bulletins for the same field.
func TestValidateDraftRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*bulletin.Bulletin)
		field  string
	}{
		{"missing title", func(b *bulletin.Bulletin) { b.Title = "" }, "title"},
		{"oversized title", func(b *bulletin.Bulletin) { b.Title = strings.Repeat("t", bulletin.MaxTitleBytes+1) }, "title"},
		{"invalid UTF-8 in title", func(b *bulletin.Bulletin) { b.Title = "Alerta \xff" }, "title"},
		{"missing body", func(b *bulletin.Bulletin) { b.Body = "" }, "body"},
		{"oversized body", func(b *bulletin.Bulletin) { b.Body = strings.Repeat("b", bulletin.MaxBodyBytes+1) }, "body"},
		{"invalid UTF-8 in body", func(b *bulletin.Bulletin) { b.Body = "texto \xc3\x28 roto" }, "body"},

		{"missing precedence", func(b *bulletin.Bulletin) { b.Precedence = bulletin.PrecedenceUnspecified }, "precedence"},
		{"unknown precedence", func(b *bulletin.Bulletin) { b.Precedence = bulletin.Routine + 1 }, "precedence"},
		{"negative precedence", func(b *bulletin.Bulletin) { b.Precedence = -1 }, "precedence"},
		{"missing category", func(b *bulletin.Bulletin) { b.Category = bulletin.CategoryUnspecified }, "category"},
		{"unknown category", func(b *bulletin.Bulletin) { b.Category = bulletin.CategoryOther + 1 }, "category"},
		{"missing marking", func(b *bulletin.Bulletin) { b.Marking = bulletin.MarkingUnspecified }, "marking"},
		{"unknown marking", func(b *bulletin.Bulletin) { b.Marking = bulletin.Red + 1 }, "marking"},
		{"missing language", func(b *bulletin.Bulletin) { b.Language = bulletin.LanguageUnspecified }, "language"},
		{"unknown language", func(b *bulletin.Bulletin) { b.Language = bulletin.French + 1 }, "language"},

		{"grading without credibility", func(b *bulletin.Bulletin) { b.Grading = bulletin.Grading{Reliability: 2} }, "source_grading"},
		{"grading without reliability", func(b *bulletin.Bulletin) { b.Grading = bulletin.Grading{Credibility: 2} }, "source_grading"},
		{"grading reliability G", func(b *bulletin.Bulletin) { b.Grading = bulletin.Grading{Reliability: 7, Credibility: 1} }, "source_grading"},
		{"grading credibility 7", func(b *bulletin.Bulletin) { b.Grading = bulletin.Grading{Reliability: 1, Credibility: 7} }, "source_grading"},

		{"empty releasability", func(b *bulletin.Bulletin) { b.Releasability = bulletin.Releasability{} }, "releasability"},
		{"empty releasability lists", func(b *bulletin.Bulletin) {
			b.Releasability = bulletin.Releasability{States: []string{}, Regions: []region.Region{}}
		}, "releasability"},
		{"unknown state code", func(b *bulletin.Bulletin) { b.Releasability.States = []string{"CO", "FR"} }, "releasability.states"},
		{"lowercase state code", func(b *bulletin.Bulletin) { b.Releasability.States = []string{"mx"} }, "releasability.states"},
		{"empty state code", func(b *bulletin.Bulletin) { b.Releasability.States = []string{""} }, "releasability.states"},
		{"padded state code", func(b *bulletin.Bulletin) { b.Releasability.States = []string{" MX"} }, "releasability.states"},
		{"unknown state with all", func(b *bulletin.Bulletin) {
			b.Releasability = bulletin.Releasability{All: true, States: []string{"FR"}}
		}, "releasability.states"},
		{"too many states", func(b *bulletin.Bulletin) {
			b.Releasability.States = nil
			for range 65 {
				b.Releasability.States = append(b.Releasability.States, "CO")
			}
		}, "releasability.states"},
		{"unspecified region", func(b *bulletin.Bulletin) { b.Releasability.Regions = []region.Region{region.Unspecified} }, "releasability.regions"},
		{"unknown region", func(b *bulletin.Bulletin) {
			b.Releasability.Regions = []region.Region{region.Caribbean, region.SouthAmerica + 1}
		}, "releasability.regions"},

		{"unspecified caveat", func(b *bulletin.Bulletin) { b.Caveats = []bulletin.Caveat{bulletin.CaveatUnspecified} }, "caveats"},
		{"unknown caveat", func(b *bulletin.Bulletin) { b.Caveats = []bulletin.Caveat{bulletin.OriginatorConsentRequired + 1} }, "caveats"},
		{"duplicate caveat", func(b *bulletin.Bulletin) {
			b.Caveats = []bulletin.Caveat{bulletin.NoOnwardSharing, bulletin.LawEnforcementOnly, bulletin.NoOnwardSharing}
		}, "caveats"},
		{"too many caveats", func(b *bulletin.Bulletin) {
			b.Caveats = make([]bulletin.Caveat, bulletin.MaxCaveats+1)
			for i := range b.Caveats {
				b.Caveats[i] = bulletin.LawEnforcementOnly
			}
		}, "caveats"},

		{"too many indicators", func(b *bulletin.Bulletin) {
			b.Indicators = make([]bulletin.Indicator, bulletin.MaxIndicators+1)
			for i := range b.Indicators {
				b.Indicators[i] = bulletin.Indicator{Type: bulletin.IndicatorFlight, Value: "AV0001"}
			}
		}, "indicators"},
		{"indicator without type", indicator(func(in *bulletin.Indicator) { in.Type = bulletin.IndicatorUnspecified }), "indicators[0].type"},
		{"indicator of unknown type", indicator(func(in *bulletin.Indicator) { in.Type = bulletin.IndicatorNetwork + 1 }), "indicators[0].type"},
		{"second indicator without type", func(b *bulletin.Bulletin) { b.Indicators[1].Type = 0 }, "indicators[1].type"},
		{"indicator with empty value", indicator(func(in *bulletin.Indicator) { in.Value = "" }), "indicators[0].value"},
		{"indicator with oversized value", indicator(func(in *bulletin.Indicator) {
			in.Value = strings.Repeat("v", bulletin.MaxIndicatorBytes+1)
		}), "indicators[0].value"},
		{"indicator with invalid UTF-8 value", indicator(func(in *bulletin.Indicator) { in.Value = "\xfe\xff" }), "indicators[0].value"},
		{"indicator with oversized description", indicator(func(in *bulletin.Indicator) {
			in.Description = strings.Repeat("d", bulletin.MaxIndicatorBytes+1)
		}), "indicators[0].description"},
		{"indicator with invalid UTF-8 description", indicator(func(in *bulletin.Indicator) { in.Description = "\x80" }), "indicators[0].description"},
		{"indicator with too many attributes", indicator(func(in *bulletin.Indicator) {
			in.Attributes = attributes(bulletin.MaxAttributes + 1)
		}), "indicators[0].attributes"},
		{"indicator attribute with empty key", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{"": "x"}
		}), "indicators[0].attributes"},
		{"indicator attribute with oversized key", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{strings.Repeat("k", 65): "x"}
		}), "indicators[0].attributes"},
		{"indicator attribute with oversized value", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{"k": strings.Repeat("v", bulletin.MaxIndicatorBytes+1)}
		}), "indicators[0].attributes"},
		{"indicator attribute with invalid UTF-8", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{"k": "\xff"}
		}), "indicators[0].attributes.k"},
		{"indicator attribute key with a control character", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{"k\x1b": "v"}
		}), "indicators[0].attributes"},
		{"indicator attribute value with a bidi override", indicator(func(in *bulletin.Indicator) {
			in.Attributes = map[string]string{"k": "a\u202eb"}
		}), "indicators[0].attributes.k"},
		{"indicator value of only spaces", indicator(func(in *bulletin.Indicator) { in.Value = "   " }), "indicators[0].value"},
		{"indicator value with a newline", indicator(func(in *bulletin.Indicator) { in.Value = "AV\n01" }), "indicators[0].value"},
		{"indicator description with an escape sequence", indicator(func(in *bulletin.Indicator) { in.Description = "\x1b[2J" }), "indicators[0].description"},

		{"title of only spaces", func(b *bulletin.Bulletin) { b.Title = " \t " }, "title"},
		{"title with a CSI sequence", func(b *bulletin.Bulletin) { b.Title = "\x1b[31mALERTA" }, "title"},
		{"title with an OSC sequence", func(b *bulletin.Bulletin) { b.Title = "\x1b]0;pwned\x07" }, "title"},
		{"title with a C1 control", func(b *bulletin.Bulletin) { b.Title = "a\u009b2J" }, "title"},
		{"title with a newline", func(b *bulletin.Bulletin) { b.Title = "a\nb" }, "title"},
		{"title with a tab", func(b *bulletin.Bulletin) { b.Title = "a\tb" }, "title"},
		{"title with DEL", func(b *bulletin.Bulletin) { b.Title = "a\x7f" }, "title"},
		{"title with a bidi override", func(b *bulletin.Bulletin) { b.Title = "invoice\u202Efdp.exe" }, "title"},
		{"title with a bidi isolate", func(b *bulletin.Bulletin) { b.Title = "\u2067abc\u2069" }, "title"},
		{"title with a zero-width space", func(b *bulletin.Bulletin) { b.Title = "a\u200bb" }, "title"},
		{"title with a tag character", func(b *bulletin.Bulletin) { b.Title = "a\U000E0041" }, "title"},
		{"body with a carriage return", func(b *bulletin.Bulletin) { b.Body = "ok\rforged" }, "body"},
		{"body with an escape sequence", func(b *bulletin.Bulletin) { b.Body = "line\n\x1b[2J" }, "body"},
		{"body with a line separator", func(b *bulletin.Bulletin) { b.Body = "a\u2028b" }, "body"},
		{"body with a bidi override", func(b *bulletin.Bulletin) { b.Body = "a\u202db" }, "body"},
		{"conditions with a control character", func(b *bulletin.Bulletin) { b.Conditions = "forbid(principal, action, resource);\x1b" }, "conditions"},

		{"revises", func(b *bulletin.Bulletin) { b.Revises = "01JBX6Q4W3S9ZK2M8T5N7R1VCF" }, "revises"},
		{"supersedes", func(b *bulletin.Bulletin) { b.Supersedes = "01JBX6Q4W3S9ZK2M8T5N7R1VCF" }, "supersedes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := draft()
			tt.mutate(&d)
			wantInvalid(t, "ValidateDraft()", d.ValidateDraft(), tt.field)

			b := complete()
			tt.mutate(&b)
			wantInvalid(t, "Validate()", b.Validate(), tt.field)
		})
	}
}

// TestValidateRejects covers the fields the origin node sets: the draft
// passes, the complete bulletin does not.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*bulletin.Bulletin)
		field  string
	}{
		{"missing id", func(b *bulletin.Bulletin) { b.ID = "" }, "id"},
		{"oversized id", func(b *bulletin.Bulletin) { b.ID = strings.Repeat("0", 65) }, "id"},
		{"short id", func(b *bulletin.Bulletin) { b.ID = "01JBX6Q4W3S9ZK2M8T5N7R1VC" }, "id"},
		{"lower-case id", func(b *bulletin.Bulletin) { b.ID = "01jbx6q4w3s9zk2m8t5n7r1vce" }, "id"},
		{"id with an escape sequence", func(b *bulletin.Bulletin) { b.ID = "01JBX6Q4W3S9ZK2M8T5N7\x1b[2J" }, "id"},
		{"id beyond the ULID range", func(b *bulletin.Bulletin) { b.ID = "81JBX6Q4W3S9ZK2M8T5N7R1VCE" }, "id"},
		{"missing origin", func(b *bulletin.Bulletin) { b.Origin = "" }, "origin"},
		{"unknown origin", func(b *bulletin.Bulletin) { b.Origin = "FR" }, "origin"},
		{"lowercase origin", func(b *bulletin.Bulletin) { b.Origin = "mx" }, "origin"},
		{"missing author", func(b *bulletin.Bulletin) { b.Author = "" }, "author"},
		{"author with a control character", func(b *bulletin.Bulletin) { b.Author = "spiffe://iant.oas.org/state/MX/focal-point/\x1b]0;x\x07" }, "author"},
		{"missing create time", func(b *bulletin.Bulletin) { b.CreatedAt = time.Time{} }, "create_time"},
		{"expires before created", func(b *bulletin.Bulletin) { b.ExpiresAt = b.CreatedAt.Add(-time.Hour) }, "expire_time"},
		{"expires when created", func(b *bulletin.Bulletin) { b.ExpiresAt = b.CreatedAt }, "expire_time"},
		{"expires too late", func(b *bulletin.Bulletin) { b.ExpiresAt = b.CreatedAt.Add(bulletin.MaxExpiry + time.Second) }, "expire_time"},
		{"unknown recipient", func(b *bulletin.Bulletin) { b.Recipients = append(b.Recipients, "FR") }, "recipients"},
		{"lowercase recipient", func(b *bulletin.Bulletin) { b.Recipients = []string{"us"} }, "recipients"},
		{"empty recipient", func(b *bulletin.Bulletin) { b.Recipients = []string{""} }, "recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := complete()
			tt.mutate(&b)
			if err := b.ValidateDraft(); err != nil {
				t.Errorf("ValidateDraft() = %v, want nil (only Validate checks %s)", err, tt.field)
			}
			wantInvalid(t, "Validate()", b.Validate(), tt.field)
		})
	}
}

func TestReleasabilityValidate(t *testing.T) {
	tests := []struct {
		name  string
		r     bulletin.Releasability
		field string // "" when valid
	}{
		{"all", bulletin.Releasability{All: true}, ""},
		{"one state", bulletin.Releasability{States: []string{"JM"}}, ""},
		{"every state", bulletin.Releasability{States: region.Codes()}, ""},
		{"every region", bulletin.Releasability{Regions: region.All()}, ""},
		{"empty", bulletin.Releasability{}, "releasability"},
		{"unknown state", bulletin.Releasability{States: []string{"FR"}}, "releasability.states"},
		{"lowercase state", bulletin.Releasability{States: []string{"mx"}}, "releasability.states"},
		{"unknown region", bulletin.Releasability{Regions: []region.Region{99}}, "releasability.regions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Errorf("Validate(%+v) = %v, want nil", tt.r, err)
				}
				return
			}
			wantInvalid(t, fmt.Sprintf("Validate(%+v)", tt.r), err, tt.field)
		})
	}
}

// TestTextErrorsNeverEchoTheCharacter checks that a refusal names the
// code point, not the character, so the error itself is safe to print.
func TestTextErrorsNeverEchoTheCharacter(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"escape", "x\x1b[2J", "title holds U+001B (a control character) at byte 1"},
		{"bidi override", "\u202e", "title holds U+202E (a format character such as a bidirectional override) at byte 0"},
		{"newline", "a\nb", "title holds U+000A (a line break) at byte 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := draft()
			b.Title = tt.title
			err := b.ValidateDraft()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("ValidateDraft() with title %q = %v, want %q", tt.title, err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\u202e\n") {
				t.Errorf("error %q holds the refused character", err)
			}
		})
	}
}

func TestCheckLineAndBlock(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, blk bool // accepted by CheckLine, CheckBlock
	}{
		{"plain", "Sospechoso en tránsito – São Paulo, Québec", true, true},
		{"no-break space", "a\u00a0b", true, true},
		{"empty", "", true, true},
		{"newline", "a\nb", false, true},
		{"tab", "a\tb", false, true},
		{"carriage return", "a\rb", false, false},
		{"escape", "\x1b[31m", false, false},
		{"bell", "\a", false, false},
		{"C1 next line", "a\u0085b", false, false},
		{"left-to-right mark", "a\u200eb", false, false},
		{"first strong isolate", "\u2068", false, false},
		{"byte-order mark", "\ufeffa", false, false},
		{"private use", "\ue000", false, false},
		{"invalid UTF-8", "\xc3\x28", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := bulletin.CheckLine("--title", tt.in); (err == nil) != tt.line {
				t.Errorf("CheckLine(%q) = %v, want accepted %v", tt.in, err, tt.line)
			} else if err != nil {
				wantInvalid(t, "CheckLine", err, "--title")
			}
			if err := bulletin.CheckBlock("body", tt.in); (err == nil) != tt.blk {
				t.Errorf("CheckBlock(%q) = %v, want accepted %v", tt.in, err, tt.blk)
			}
		})
	}
}

// TestValidateNamesTheValue checks the public message tells the author what
// was wrong, not only where.
func TestValidateNamesTheValue(t *testing.T) {
	b := draft()
	b.Releasability.States = []string{"FR"}
	err := b.ValidateDraft()
	if err == nil || !strings.Contains(err.Error(), `"FR"`) {
		t.Errorf("ValidateDraft() with state FR = %v, want a message naming \"FR\"", err)
	}
}
