package stix

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// Limits of the patterns IANT parses.
const (
	MaxPatternBytes       = 4096
	MaxPatternComparisons = 64
	maxPatternNesting     = 16
)

// The object paths IANT writes and accepts in patterns, and the indicator
// type each maps to. Travel documents, flights and vehicles have no STIX
// cyber-observable type; IANT names custom ones (STIX 2.1 §11.1).
var patternPaths = map[string]bulletin.IndicatorType{
	"ipv4-addr:value":               bulletin.IndicatorNetwork,
	"ipv6-addr:value":               bulletin.IndicatorNetwork,
	"domain-name:value":             bulletin.IndicatorNetwork,
	"url:value":                     bulletin.IndicatorNetwork,
	"email-addr:value":              bulletin.IndicatorNetwork,
	"file:hashes.MD5":               bulletin.IndicatorNetwork,
	"file:hashes.'SHA-1'":           bulletin.IndicatorNetwork,
	"file:hashes.'SHA-256'":         bulletin.IndicatorNetwork,
	"file:hashes.'SHA-512'":         bulletin.IndicatorNetwork,
	"x-iant-network:value":          bulletin.IndicatorNetwork,
	"x-iant-travel-document:number": bulletin.IndicatorTravelDocument,
	"x-iant-flight:number":          bulletin.IndicatorFlight,
	"x-iant-vehicle:registration":   bulletin.IndicatorVehicle,
}

// Comparison is one equality comparison of a pattern: Path = 'Value'.
type Comparison struct {
	Path  string // canonical object path, e.g. "file:hashes.'SHA-256'"
	Value string
}

// Type returns the indicator type Path maps to.
func (c Comparison) Type() bulletin.IndicatorType { return patternPaths[c.Path] }

// String writes c as a pattern: [path = 'value'].
func (c Comparison) String() string { return "[" + c.Path + " = " + quote(c.Value) + "]" }

// Pattern is a parsed STIX pattern of the subset IANT accepts.
type Pattern struct {
	// Comparisons are the pattern's comparisons in order. IANT reads
	// each as one indicator, whether the pattern joins them with AND or
	// OR (the AND is lost; see docs/interop.md).
	Comparisons []Comparison
}

// PatternError is a pattern IANT cannot read: Offset is the byte offset
// in the pattern where the problem is.
type PatternError struct {
	Offset int
	Msg    string
}

// Error returns "at offset N: message".
func (e *PatternError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

// PatternOf returns the pattern IANT writes for in, or ok false for types
// without one (person, weapon).
func PatternOf(in bulletin.Indicator) (p string, ok bool) {
	var path string
	switch in.Type {
	case bulletin.IndicatorTravelDocument:
		path = "x-iant-travel-document:number"
	case bulletin.IndicatorFlight:
		path = "x-iant-flight:number"
	case bulletin.IndicatorVehicle:
		path = "x-iant-vehicle:registration"
	case bulletin.IndicatorNetwork:
		path = networkPath(in.Value)
	default:
		return "", false
	}
	return Comparison{Path: path, Value: in.Value}.String(), true
}

// NetworkKind says what a network indicator's value looks like: "ipv4"
// or "ipv6" (an address or a CIDR block), "md5", "sha1", "sha256" or
// "sha512" (hex of that length), "url", "email", "domain", or "other".
func NetworkKind(v string) string {
	if a, err := netip.ParseAddr(v); err == nil {
		return addrKind(a)
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return addrKind(p.Addr())
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return "md5"
		case 40:
			return "sha1"
		case 64:
			return "sha256"
		case 128:
			return "sha512"
		}
	}
	switch {
	case strings.Contains(v, "://") && !strings.ContainsAny(v, " \t\n"):
		return "url"
	case strings.Count(v, "@") == 1 && !strings.ContainsAny(v, " \t\n"):
		return "email"
	case isDomain(v):
		return "domain"
	}
	return "other"
}

// networkPaths are the object paths of the kinds of [NetworkKind].
var networkPaths = map[string]string{
	"ipv4": "ipv4-addr:value", "ipv6": "ipv6-addr:value", "md5": "file:hashes.MD5", "sha1": "file:hashes.'SHA-1'",
	"sha256": "file:hashes.'SHA-256'", "sha512": "file:hashes.'SHA-512'", "url": "url:value",
	"email": "email-addr:value", "domain": "domain-name:value", "other": "x-iant-network:value",
}

func networkPath(v string) string { return networkPaths[NetworkKind(v)] }

func addrKind(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isDomain(s string) bool {
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// quote writes s as a pattern string literal: quotes and backslashes
// escaped (STIX 2.1 patterning §9.3).
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
