package stix

import (
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// TLP 2.0 in STIX 2.1: the official marking-definition objects of FIRST's
// TLP 2.0 (https://www.first.org/tlp/), through the STIX extension below.
// IANT writes and accepts only these five; TLP 1.0 markings (WHITE) and
// any other marking definition are refused.
const (
	TLPExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	tlpClearID     = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlpGreenID     = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpAmberID     = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlpStrictID    = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlpRedID       = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// tlpCreated is the created time of the five TLP 2.0 definitions.
var tlpCreated = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)

var tlpIDs = map[bulletin.Marking]string{
	bulletin.Clear: tlpClearID, bulletin.Green: tlpGreenID, bulletin.Amber: tlpAmberID,
	bulletin.AmberStrict: tlpStrictID, bulletin.Red: tlpRedID,
}

// tlp1IDs are the TLP 1.0 marking definitions of STIX 2.1 §7.2.1.4, named
// in the error that refuses them.
var tlp1IDs = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:WHITE",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
}

// MarkingID returns the id of the TLP 2.0 marking definition of m; "" for
// an unknown marking.
func MarkingID(m bulletin.Marking) string { return tlpIDs[m] }

// MarkingOf returns the marking whose TLP 2.0 definition has id.
func MarkingOf(id string) (bulletin.Marking, bool) {
	for m, mid := range tlpIDs {
		if mid == id {
			return m, true
		}
	}
	return 0, false
}

// tlpName is the marking's name in its definition, e.g. "TLP:AMBER+STRICT";
// its tlp_2_0 property is m.String(), e.g. "amber+strict".
func tlpName(m bulletin.Marking) string { return "TLP:" + upperASCII(m.String()) }

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TLPMarking returns the official TLP 2.0 marking definition of m.
func TLPMarking(m bulletin.Marking) MarkingDefinition {
	return MarkingDefinition{
		Type: TypeMarkingDefinition, SpecVersion: SpecVersion, ID: tlpIDs[m], Created: At(tlpCreated),
		Name: tlpName(m),
		Extensions: map[string]TLPExtension{
			TLPExtensionID: {ExtensionType: "property-extension", TLP: m.String()},
		},
	}
}
