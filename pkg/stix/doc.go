// Package stix maps IANT bulletins to STIX 2.1 objects and back: the few
// STIX types IANT needs, written by hand (the usual Go STIX libraries are
// not available), a strict decoder, and a parser of the STIX patterning
// subset IANT writes and reads. docs/interop.md has the mapping table,
// both directions, and what is lost.
//
// Writing: a bulletin is a report (title, body, category as a label,
// grading as confidence plus the Admiralty code in x_iant_grading, the
// rest of IANT's fields in x_iant_* properties), one object per indicator
// (an indicator with a pattern for travel documents, flights, vehicles and
// network indicators; an identity for a person; a custom x-iant-weapon for
// a weapon), the identity of its origin state as created_by_ref, and the
// official TLP 2.0 marking definition. Ids are UUIDv5 of IANT ids
// ([Namespace]), so a re-export is the same objects.
//
//	bundle, err := stix.FromBulletins(stix.Version{Bulletin: b})
//	data, err := json.Marshal(bundle)
//
// Lifecycle: a revision is a new version of the first version's report
// (same id, later modified; [Version.First]); a revocation is a version
// with revoked true ([Version.Modified] is then the revocation time);
// replies ([Reply]) are sightings, or notes for notes and requests for
// information ([ReplyObject]).
//
// Reading: [DecodeBundle] (or [DecodeObjects] for a TAXII envelope)
// refuses duplicate JSON keys, object types IANT does not map, markings
// other than TLP 2.0, patterns outside the subset ([ParsePattern]), loose
// indicators and bundles over the limits, each error naming the JSON path
// (e.g. objects[3].pattern, see strictjson). Each report becomes an
// [Imported] bulletin; [Imported.Draft] makes it a draft to post and
// [Imported.Check] validates it like a post, naming the path.
//
//	d, err := stix.DecodeBundle(data)
//	for _, im := range d.Bulletins {
//		draft, err := im.Draft("MX")
//		err = im.Check(&draft)
//	}
//
// Nothing here does I/O; everything is safe for concurrent use. The
// package imports only IANT's leaves (bulletin, region, problem,
// strictjson).
package stix
