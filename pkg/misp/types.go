package misp

import (
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
)

// kind is how an indicator is written as an attribute by default.
type kind struct {
	typ, category string
	toIDs         bool
}

// defaultKind is the attribute type, category and to_ids IANT writes for
// an indicator (network values by what they look like).
func defaultKind(in bulletin.Indicator) kind {
	switch in.Type {
	case bulletin.IndicatorPerson:
		return kind{"full-name", "Person", false}
	case bulletin.IndicatorTravelDocument:
		return kind{"passport-number", "Person", false}
	case bulletin.IndicatorFlight:
		return kind{"travel-details", "Person", false}
	case bulletin.IndicatorVehicle, bulletin.IndicatorWeapon:
		return kind{"text", "Other", false}
	}
	return networkKinds[stix.NetworkKind(in.Value)]
}

// networkKinds are the attribute kinds of the network values of
// stix.NetworkKind.
var networkKinds = map[string]kind{
	"ipv4": {"ip-dst", "Network activity", true}, "ipv6": {"ip-dst", "Network activity", true},
	"md5": {"md5", "Payload delivery", true}, "sha1": {"sha1", "Payload delivery", true},
	"sha256": {"sha256", "Payload delivery", true}, "sha512": {"sha512", "Payload delivery", true},
	"url": {"url", "Network activity", true}, "email": {"email-src", "Payload delivery", true},
	"domain": {"domain", "Network activity", true}, "other": {"text", "Network activity", false},
}

// typeOf maps the MISP attribute types IANT reads to indicator types.
// "text" needs an iant:indicator tag to say what it is.
var typeOf = map[string]bulletin.IndicatorType{
	"ip-src": bulletin.IndicatorNetwork, "ip-dst": bulletin.IndicatorNetwork, "domain": bulletin.IndicatorNetwork,
	"hostname": bulletin.IndicatorNetwork, "url": bulletin.IndicatorNetwork, "uri": bulletin.IndicatorNetwork,
	"email": bulletin.IndicatorNetwork, "email-src": bulletin.IndicatorNetwork, "email-dst": bulletin.IndicatorNetwork,
	"md5": bulletin.IndicatorNetwork, "sha1": bulletin.IndicatorNetwork, "sha256": bulletin.IndicatorNetwork,
	"sha512": bulletin.IndicatorNetwork, "AS": bulletin.IndicatorNetwork, "mac-address": bulletin.IndicatorNetwork,
	"passport-number": bulletin.IndicatorTravelDocument, "identity-card-number": bulletin.IndicatorTravelDocument,
	"visa-number": bulletin.IndicatorTravelDocument,
	"full-name":   bulletin.IndicatorPerson, "first-name": bulletin.IndicatorPerson, "last-name": bulletin.IndicatorPerson,
	"travel-details": bulletin.IndicatorFlight,
	"text":           bulletin.IndicatorUnspecified,
}

// categories are MISP's attribute categories.
var categories = []string{"Internal reference", "Targeting data", "Antivirus detection", "Payload delivery",
	"Artifacts dropped", "Payload installation", "Persistence mechanism", "Network activity", "Payload type",
	"Attribution", "External analysis", "Financial fraud", "Support Tool", "Social network", "Person", "Other"}

// Keys of an indicator's attributes that carry what the default kind
// does not: the MISP type, category and to_ids an imported attribute had,
// so an event read and written again keeps them.
const (
	attrType     = "misp_type"
	attrCategory = "misp_category"
	attrToIDs    = "misp_to_ids"
)

// kindOf returns the kind to write for in: the default, or what its
// misp_* attributes say, when they name a type of the same IANT type.
func kindOf(in bulletin.Indicator) kind {
	k := defaultKind(in)
	if t, ok := in.Attributes[attrType]; ok {
		if it, known := typeOf[t]; known && (it == in.Type || it == bulletin.IndicatorUnspecified) {
			k.typ = t
		}
	}
	if c, ok := in.Attributes[attrCategory]; ok && contains(categories, c) {
		k.category = c
	}
	switch in.Attributes[attrToIDs] {
	case "true":
		k.toIDs = true
	case "false":
		k.toIDs = false
	}
	return k
}

// keep returns the misp_* attributes that record how a read attribute
// differs from the default kind of its indicator.
func keep(in bulletin.Indicator, typ, category string, toIDs bool) map[string]string {
	d := defaultKind(in)
	out := map[string]string{}
	if typ != d.typ {
		out[attrType] = typ
	}
	if category != d.category {
		out[attrCategory] = category
	}
	if toIDs != d.toIDs {
		out[attrToIDs] = map[bool]string{true: "true", false: "false"}[toIDs]
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
