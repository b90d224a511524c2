package bulletin_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// enum is what every bulletin enum provides.
type enum interface {
	~int
	fmt.Stringer
	Valid() bool
}

// enumCase describes one enum for testEnum.
type enumCase[E enum] struct {
	kind    string // prefix of the out-of-range form, "kind(N)"
	parse   func(string) (E, error)
	names   map[E]string // every value and its frozen name
	accepts map[string]E // what people type
	rejects []string     // unknown, empty, near misses
	outside []E          // out-of-range values
}

func testEnum[E enum](t *testing.T, c enumCase[E]) {
	t.Helper()
	t.Run("String", func(t *testing.T) {
		for v, want := range c.names {
			if got := v.String(); got != want {
				t.Errorf("%s(%d).String() = %q, want %q", c.kind, int(v), got, want)
			}
			if !v.Valid() {
				t.Errorf("%s(%d).Valid() = false, want true", c.kind, int(v))
			}
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		for v := range c.names {
			got, err := c.parse(v.String())
			if err != nil || got != v {
				t.Errorf("Parse(%q) = %v, %v, want %v, nil", v.String(), got, err, v)
			}
		}
	})
	t.Run("Accepts", func(t *testing.T) {
		for in, want := range c.accepts {
			got, err := c.parse(in)
			if err != nil || got != want {
				t.Errorf("Parse(%q) = %v, %v, want %v, nil", in, got, err, want)
			}
		}
	})
	t.Run("Rejects", func(t *testing.T) {
		for _, in := range c.rejects {
			got, err := c.parse(in)
			if err == nil {
				t.Errorf("Parse(%q) = %v, nil, want error", in, got)
				continue
			}
			if q := fmt.Sprintf("%q", in); !strings.Contains(err.Error(), q) {
				t.Errorf("Parse(%q) error = %q, want it to name the value %s", in, err, q)
			}
			if got != 0 {
				t.Errorf("Parse(%q) = %v with an error, want the zero value", in, got)
			}
		}
	})
	t.Run("OutOfRange", func(t *testing.T) {
		for _, v := range c.outside {
			want := fmt.Sprintf("%s(%d)", c.kind, int(v))
			if got := v.String(); got != want {
				t.Errorf("%s(%d).String() = %q, want %q", c.kind, int(v), got, want)
			}
			if v.Valid() {
				t.Errorf("%s(%d).Valid() = true, want false", c.kind, int(v))
			}
		}
	})
}

// commonRejects are refused by every enum parser.
var commonRejects = []string{"", " ", "unspecified", "0", "1", "-", "tlp:", "bogus"}

func rejects(extra ...string) []string {
	return append(append([]string(nil), commonRejects...), extra...)
}

func TestPrecedence(t *testing.T) {
	testEnum(t, enumCase[bulletin.Precedence]{
		kind:  "precedence",
		parse: bulletin.ParsePrecedence,
		names: map[bulletin.Precedence]string{
			bulletin.Flash:     "flash",
			bulletin.Immediate: "immediate",
			bulletin.Priority:  "priority",
			bulletin.Routine:   "routine",
		},
		accepts: map[string]bulletin.Precedence{
			"flash":     bulletin.Flash,
			"FLASH":     bulletin.Flash,
			" Flash\t":  bulletin.Flash,
			"Immediate": bulletin.Immediate,
			"PRIORITY":  bulletin.Priority,
			"routine\n": bulletin.Routine,
		},
		rejects: rejects("flash!", "urgent", "flashy", "fla sh"),
		outside: []bulletin.Precedence{bulletin.PrecedenceUnspecified, -1, bulletin.Routine + 1, 1 << 20},
	})
}

func TestPrecedences(t *testing.T) {
	got := bulletin.Precedences()
	want := []bulletin.Precedence{bulletin.Flash, bulletin.Immediate, bulletin.Priority, bulletin.Routine}
	if len(got) != len(want) {
		t.Fatalf("Precedences() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Precedences()[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCategory(t *testing.T) {
	testEnum(t, enumCase[bulletin.Category]{
		kind:  "category",
		parse: bulletin.ParseCategory,
		names: map[bulletin.Category]string{
			bulletin.ForeignTerroristFighter:     "foreign-terrorist-fighter",
			bulletin.KnownOrSuspectedTerrorist:   "known-or-suspected-terrorist",
			bulletin.ArmsTrafficking:             "arms-trafficking",
			bulletin.CBRN:                        "cbrn",
			bulletin.CyberCriticalInfrastructure: "cyber-critical-infrastructure",
			bulletin.CrowdedSpaces:               "crowded-spaces",
			bulletin.TerrorismFinancing:          "terrorism-financing",
			bulletin.ViolentExtremism:            "violent-extremism",
			bulletin.Biosecurity:                 "biosecurity",
			bulletin.BorderDocumentFraud:         "border-document-fraud",
			bulletin.Disinformation:              "disinformation",
			bulletin.CategoryOther:               "other",
		},
		accepts: map[string]bulletin.Category{
			"cbrn":                       bulletin.CBRN,
			"CBRN":                       bulletin.CBRN,
			"Arms_Trafficking":           bulletin.ArmsTrafficking,
			"ARMS_TRAFFICKING":           bulletin.ArmsTrafficking,
			"arms trafficking":           bulletin.ArmsTrafficking,
			"Crowded Spaces":             bulletin.CrowdedSpaces,
			"BORDER_DOCUMENT_FRAUD":      bulletin.BorderDocumentFraud,
			"Other":                      bulletin.CategoryOther,
			" foreign-terrorist-fighter": bulletin.ForeignTerroristFighter,
		},
		rejects: rejects("arms", "armstrafficking", "arms--trafficking", "terrorism"),
		outside: []bulletin.Category{bulletin.CategoryUnspecified, -1, bulletin.CategoryOther + 1, 99},
	})
}

func TestMarking(t *testing.T) {
	testEnum(t, enumCase[bulletin.Marking]{
		kind:  "marking",
		parse: bulletin.ParseMarking,
		names: map[bulletin.Marking]string{
			bulletin.Clear:       "clear",
			bulletin.Green:       "green",
			bulletin.Amber:       "amber",
			bulletin.AmberStrict: "amber+strict",
			bulletin.Red:         "red",
		},
		accepts: map[string]bulletin.Marking{
			"amber+strict":     bulletin.AmberStrict,
			"AMBER_STRICT":     bulletin.AmberStrict,
			"amber-strict":     bulletin.AmberStrict,
			"Amber Strict":     bulletin.AmberStrict,
			"TLP:AMBER+STRICT": bulletin.AmberStrict,
			"tlp:amber-strict": bulletin.AmberStrict,
			"TLP:RED":          bulletin.Red,
			"tlp:red":          bulletin.Red,
			"RED":              bulletin.Red,
			"Amber":            bulletin.Amber,
			"TLP:CLEAR":        bulletin.Clear,
			" green ":          bulletin.Green,
		},
		rejects: rejects("white", "TLP:WHITE", "amber+", "strict", "amberstrict", "tlp:purple", "TLP:"),
		outside: []bulletin.Marking{bulletin.MarkingUnspecified, -1, bulletin.Red + 1, 42},
	})
}

func TestMarkings(t *testing.T) {
	got := bulletin.Markings()
	for i, m := range got {
		if !m.Valid() {
			t.Errorf("Markings()[%d] = %v, not valid", i, m)
		}
		if i > 0 && got[i-1] >= m {
			t.Errorf("Markings() not least restrictive first: %v", got)
		}
	}
	if len(got) != 5 {
		t.Errorf("len(Markings()) = %d, want 5", len(got))
	}
}

func TestLanguage(t *testing.T) {
	testEnum(t, enumCase[bulletin.Language]{
		kind:  "language",
		parse: bulletin.ParseLanguage,
		names: map[bulletin.Language]string{
			bulletin.Spanish:    "es",
			bulletin.English:    "en",
			bulletin.Portuguese: "pt",
			bulletin.French:     "fr",
		},
		accepts: map[string]bulletin.Language{
			"es":  bulletin.Spanish,
			"ES":  bulletin.Spanish,
			"En":  bulletin.English,
			" pt": bulletin.Portuguese,
			"FR":  bulletin.French,
		},
		rejects: rejects("de", "spanish", "es-MX", "e"),
		outside: []bulletin.Language{bulletin.LanguageUnspecified, -1, bulletin.French + 1},
	})
}

func TestCaveat(t *testing.T) {
	testEnum(t, enumCase[bulletin.Caveat]{
		kind:  "caveat",
		parse: bulletin.ParseCaveat,
		names: map[bulletin.Caveat]string{
			bulletin.LawEnforcementOnly:        "law-enforcement-only",
			bulletin.NoOnwardSharing:           "no-onward-sharing",
			bulletin.OriginatorConsentRequired: "originator-consent-required",
		},
		accepts: map[string]bulletin.Caveat{
			"law-enforcement-only":        bulletin.LawEnforcementOnly,
			"LAW_ENFORCEMENT_ONLY":        bulletin.LawEnforcementOnly,
			"No Onward Sharing":           bulletin.NoOnwardSharing,
			"originator_consent_required": bulletin.OriginatorConsentRequired,
		},
		rejects: rejects("noforn", "law-enforcement"),
		outside: []bulletin.Caveat{bulletin.CaveatUnspecified, -1, bulletin.OriginatorConsentRequired + 1},
	})
}

func TestIndicatorType(t *testing.T) {
	testEnum(t, enumCase[bulletin.IndicatorType]{
		kind:  "indicator",
		parse: bulletin.ParseIndicatorType,
		names: map[bulletin.IndicatorType]string{
			bulletin.IndicatorPerson:         "person",
			bulletin.IndicatorTravelDocument: "travel-document",
			bulletin.IndicatorFlight:         "flight",
			bulletin.IndicatorVehicle:        "vehicle",
			bulletin.IndicatorWeapon:         "weapon",
			bulletin.IndicatorNetwork:        "network",
		},
		accepts: map[string]bulletin.IndicatorType{
			"person":          bulletin.IndicatorPerson,
			"PERSON":          bulletin.IndicatorPerson,
			"Travel Document": bulletin.IndicatorTravelDocument,
			"TRAVEL_DOCUMENT": bulletin.IndicatorTravelDocument,
			"network":         bulletin.IndicatorNetwork,
		},
		rejects: rejects("ip", "passport", "travel"),
		outside: []bulletin.IndicatorType{bulletin.IndicatorUnspecified, -1, bulletin.IndicatorNetwork + 1},
	})
}
