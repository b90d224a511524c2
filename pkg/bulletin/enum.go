package bulletin

import (
	"fmt"
	"strings"
)

// Enum values below equal the numbers of the iant.v1 wire enums and are
// frozen once shipped; index 0 is always "unspecified".

// Precedence orders bulletins by urgency; each has an acknowledgement deadline.
type Precedence int

// Precedences, most urgent first.
const (
	PrecedenceUnspecified Precedence = iota
	Flash
	Immediate
	Priority
	Routine
)

// Category is the mandate area a bulletin is about.
type Category int

// Categories from the CICTE mandate.
const (
	CategoryUnspecified         Category = iota
	ForeignTerroristFighter              // foreign terrorist fighter travel
	KnownOrSuspectedTerrorist            // known or suspected terrorist
	ArmsTrafficking                      // incl. MANPADS and UAS
	CBRN                                 // chemical, biological, radiological, nuclear material
	CyberCriticalInfrastructure          // cyber attack on critical infrastructure
	CrowdedSpaces                        // soft targets
	TerrorismFinancing
	ViolentExtremism
	Biosecurity
	BorderDocumentFraud
	Disinformation
	CategoryOther
)

// Marking is a FIRST Traffic Light Protocol 2.0 label.
type Marking int

// TLP 2.0 markings (https://www.first.org/tlp/), least restrictive first.
const (
	MarkingUnspecified Marking = iota
	Clear
	Green
	Amber
	AmberStrict
	Red
)

// Language is one of the four official languages of the OAS.
type Language int

// Languages.
const (
	LanguageUnspecified Language = iota
	Spanish
	English
	Portuguese
	French
)

// Caveat is a handling restriction beyond the marking.
type Caveat int

// Caveats.
const (
	CaveatUnspecified Caveat = iota
	LawEnforcementOnly
	NoOnwardSharing
	OriginatorConsentRequired
)

// IndicatorType says what a structured indicator describes.
type IndicatorType int

// Indicator types (mappable to STIX 2.1 objects).
const (
	IndicatorUnspecified IndicatorType = iota
	IndicatorPerson
	IndicatorTravelDocument
	IndicatorFlight
	IndicatorVehicle
	IndicatorWeapon
	IndicatorNetwork
)

var (
	precedenceNames = []string{"", "flash", "immediate", "priority", "routine"}
	categoryNames   = []string{"", "foreign-terrorist-fighter", "known-or-suspected-terrorist", "arms-trafficking",
		"cbrn", "cyber-critical-infrastructure", "crowded-spaces", "terrorism-financing", "violent-extremism",
		"biosecurity", "border-document-fraud", "disinformation", "other"}
	markingNames   = []string{"", "clear", "green", "amber", "amber+strict", "red"}
	languageNames  = []string{"", "es", "en", "pt", "fr"}
	caveatNames    = []string{"", "law-enforcement-only", "no-onward-sharing", "originator-consent-required"}
	indicatorNames = []string{"", "person", "travel-document", "flight", "vehicle", "weapon", "network"}
)

func enumName(names []string, kind string, v int) string {
	if v <= 0 || v >= len(names) {
		return fmt.Sprintf("%s(%d)", kind, v)
	}
	return names[v]
}

// normalize folds what people type: case, spaces, underscores, "tlp:".
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "tlp:")
	return strings.NewReplacer("_", "-", " ", "-").Replace(s)
}

func enumParse(names []string, kind, s string) (int, error) {
	n := normalize(s)
	for i, name := range names {
		if i > 0 && name == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want one of %s)", kind, s, strings.Join(names[1:], ", "))
}

func (p Precedence) String() string    { return enumName(precedenceNames, "precedence", int(p)) }
func (c Category) String() string      { return enumName(categoryNames, "category", int(c)) }
func (m Marking) String() string       { return enumName(markingNames, "marking", int(m)) }
func (l Language) String() string      { return enumName(languageNames, "language", int(l)) }
func (c Caveat) String() string        { return enumName(caveatNames, "caveat", int(c)) }
func (t IndicatorType) String() string { return enumName(indicatorNames, "indicator", int(t)) }

// Valid reports whether p is a known precedence.
func (p Precedence) Valid() bool { return p > 0 && int(p) < len(precedenceNames) }

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return c > 0 && int(c) < len(categoryNames) }

// Valid reports whether m is a known marking.
func (m Marking) Valid() bool { return m > 0 && int(m) < len(markingNames) }

// Valid reports whether l is a known language.
func (l Language) Valid() bool { return l > 0 && int(l) < len(languageNames) }

// Valid reports whether c is a known caveat.
func (c Caveat) Valid() bool { return c > 0 && int(c) < len(caveatNames) }

// Valid reports whether t is a known indicator type.
func (t IndicatorType) Valid() bool { return t > 0 && int(t) < len(indicatorNames) }

// ParsePrecedence reads "flash", "IMMEDIATE", ...
func ParsePrecedence(s string) (Precedence, error) {
	v, err := enumParse(precedenceNames, "precedence", s)
	return Precedence(v), err
}

// ParseCategory reads "cbrn", "arms-trafficking", "ARMS_TRAFFICKING", ...
func ParseCategory(s string) (Category, error) {
	v, err := enumParse(categoryNames, "category", s)
	return Category(v), err
}

// ParseMarking reads "amber", "TLP:AMBER+STRICT", "amber-strict", ...
func ParseMarking(s string) (Marking, error) {
	n := normalize(s)
	if n == "amber-strict" {
		n = "amber+strict"
	}
	v, err := enumParse(markingNames, "marking", n)
	if err != nil {
		return 0, fmt.Errorf("unknown marking %q (want one of %s)", s, strings.Join(markingNames[1:], ", "))
	}
	return Marking(v), nil
}

// ParseLanguage reads "es", "en", "pt" or "fr".
func ParseLanguage(s string) (Language, error) {
	v, err := enumParse(languageNames, "language", s)
	return Language(v), err
}

// ParseCaveat reads "law-enforcement-only", "no-onward-sharing", ...
func ParseCaveat(s string) (Caveat, error) {
	v, err := enumParse(caveatNames, "caveat", s)
	return Caveat(v), err
}

// ParseIndicatorType reads "person", "travel-document", ...
func ParseIndicatorType(s string) (IndicatorType, error) {
	v, err := enumParse(indicatorNames, "indicator type", s)
	return IndicatorType(v), err
}

// Precedences lists every precedence, most urgent first.
func Precedences() []Precedence { return []Precedence{Flash, Immediate, Priority, Routine} }

// Markings lists every marking, least restrictive first.
func Markings() []Marking { return []Marking{Clear, Green, Amber, AmberStrict, Red} }
