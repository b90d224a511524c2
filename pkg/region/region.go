// Package region is the fixed, versioned table of the member states of the
// Organization of American States and the sub-regions IANT releases to.
//
// The table is data in code on purpose: every node must agree on which
// states a region names, so a change of the table is a change of [Version].
//
//	r, err := region.Parse("caribbean")
//	for _, s := range region.StatesOf(r) { ... }
//	st, ok := region.Lookup("MX")
//
// Everything here is read-only and safe for concurrent use.
package region

import (
	"fmt"
	"slices"
	"strings"
)

// Version names the revision of the state and region table. Nodes report it
// in the directory so a mismatch between nodes is visible.
const Version = "2026-11.1"

// Region is an OAS sub-region. Its numeric values equal the wire enum
// iant.v1.Region and are frozen.
type Region int

// The four sub-regions.
const (
	Unspecified Region = iota
	NorthAmerica
	CentralAmerica
	Caribbean
	SouthAmerica
)

var regionNames = [...]string{"", "north-america", "central-america", "caribbean", "south-america"}
var regionTitles = [...]string{"", "North America", "Central America", "Caribbean", "South America"}

// All lists the four regions in table order.
func All() []Region { return []Region{NorthAmerica, CentralAmerica, Caribbean, SouthAmerica} }

// String returns the region's slug, e.g. "north-america".
func (r Region) String() string {
	if r <= Unspecified || int(r) >= len(regionNames) {
		return fmt.Sprintf("region(%d)", int(r))
	}
	return regionNames[r]
}

// Title returns the region's display name, e.g. "North America".
func (r Region) Title() string {
	if r <= Unspecified || int(r) >= len(regionTitles) {
		return r.String()
	}
	return regionTitles[r]
}

// Valid reports whether r is one of the four regions.
func (r Region) Valid() bool { return r > Unspecified && int(r) < len(regionNames) }

// Parse reads a region slug ("caribbean", "south-america"); case, spaces and
// underscores are forgiven ("South America", "SOUTH_AMERICA").
func Parse(s string) (Region, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	norm = strings.NewReplacer(" ", "-", "_", "-").Replace(norm)
	for i, n := range regionNames {
		if i > 0 && n == norm {
			return Region(i), nil
		}
	}
	return Unspecified, fmt.Errorf("region: unknown region %q (want one of %s)", s, strings.Join(regionNames[1:], ", "))
}

// State is a member state of the OAS.
type State struct {
	Code   string // ISO 3166-1 alpha-2, upper case
	Name   string
	Region Region
}

// states is the table: the 35 member states, sorted by code.
var states = []State{
	{"AG", "Antigua and Barbuda", Caribbean},
	{"AR", "Argentina", SouthAmerica},
	{"BB", "Barbados", Caribbean},
	{"BO", "Bolivia", SouthAmerica},
	{"BR", "Brazil", SouthAmerica},
	{"BS", "The Bahamas", Caribbean},
	{"BZ", "Belize", CentralAmerica},
	{"CA", "Canada", NorthAmerica},
	{"CL", "Chile", SouthAmerica},
	{"CO", "Colombia", SouthAmerica},
	{"CR", "Costa Rica", CentralAmerica},
	{"CU", "Cuba", Caribbean},
	{"DM", "Dominica", Caribbean},
	{"DO", "Dominican Republic", Caribbean},
	{"EC", "Ecuador", SouthAmerica},
	{"GD", "Grenada", Caribbean},
	{"GT", "Guatemala", CentralAmerica},
	{"GY", "Guyana", SouthAmerica},
	{"HN", "Honduras", CentralAmerica},
	{"HT", "Haiti", Caribbean},
	{"JM", "Jamaica", Caribbean},
	{"KN", "Saint Kitts and Nevis", Caribbean},
	{"LC", "Saint Lucia", Caribbean},
	{"MX", "Mexico", NorthAmerica},
	{"NI", "Nicaragua", CentralAmerica},
	{"PA", "Panama", CentralAmerica},
	{"PE", "Peru", SouthAmerica},
	{"PY", "Paraguay", SouthAmerica},
	{"SR", "Suriname", SouthAmerica},
	{"SV", "El Salvador", CentralAmerica},
	{"TT", "Trinidad and Tobago", Caribbean},
	{"US", "United States", NorthAmerica},
	{"UY", "Uruguay", SouthAmerica},
	{"VC", "Saint Vincent and the Grenadines", Caribbean},
	{"VE", "Venezuela", SouthAmerica},
}

// States returns a copy of the table of member states, sorted by code.
func States() []State { return slices.Clone(states) }

// Codes returns the codes of all member states, sorted.
func Codes() []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = s.Code
	}
	return out
}

// Lookup finds a member state by its exact upper-case ISO code.
func Lookup(code string) (State, bool) {
	i, ok := slices.BinarySearchFunc(states, code, func(s State, c string) int { return strings.Compare(s.Code, c) })
	if !ok {
		return State{}, false
	}
	return states[i], true
}

// IsMember reports whether code is the upper-case ISO code of a member state.
func IsMember(code string) bool {
	_, ok := Lookup(code)
	return ok
}

// StatesOf returns the codes of the member states in r, sorted.
func StatesOf(r Region) []string {
	var out []string
	for _, s := range states {
		if s.Region == r {
			out = append(out, s.Code)
		}
	}
	return out
}
