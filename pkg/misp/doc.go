// Package misp maps IANT bulletins to MISP events and back, and writes
// MISP feeds (a directory a MISP instance subscribes to). docs/interop.md
// has the mapping table, both directions, and what is lost.
//
// Writing: a bulletin is an event (info the title, the body a text
// attribute tagged iant:field="body", one attribute per indicator with its
// MISP type and category), its marking a tlp: tag of the MISP taxonomy
// (TLP 2.0) and the event distribution, its grading the admiralty-scale
// taxonomy's tags, threat_level_id from precedence, and IANT's other
// fields in iant: machine tags. The event UUID is the bulletin's STIX
// report UUID (the same UUIDv5 namespace), so the two exports name one
// thing alike.
//
//	ev, err := misp.FromBulletin(misp.Version{Bulletin: b})
//	w, err := misp.NewFeed(dir)
//	err = w.Add(ev)
//	err = w.Close() // manifest.json and hashes.csv
//
// Reading: [Decode] reads an event file ({"Event": {...}}) strictly —
// duplicate keys, attribute types IANT does not map, MISP objects, TLP
// tags other than TLP 2.0 and values out of range are refused, each error
// naming the JSON path (e.g. Event.Attribute[3].type) — into an
// [Imported] bulletin; [Imported.Draft] and [Imported.Check] make it a
// draft to post.
//
// Nothing here but the feed writer does I/O; the mapping is safe for
// concurrent use, a [Feed] is not.
package misp
