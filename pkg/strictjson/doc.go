// Package strictjson parses JSON from other systems strictly and keeps, on
// every value, the JSON path it was found at, so that decoders of foreign
// formats (STIX bundles, MISP events) can name the exact place of any bad
// value: "objects[3].pattern: ...".
//
// What encoding/json accepts and this package refuses: an object with the
// same key twice (encoding/json silently keeps the last one, so two
// readers of one document may disagree), invalid UTF-8, trailing data
// after the document, and documents, nesting or arrays beyond the
// [Limits].
//
//	doc, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: 4 << 20})
//	objs, err := doc.Field("objects").Array()   // errors name "objects"
//	for _, o := range objs {
//		typ, err := o.Field("type").String()    // "objects[3].type: ..."
//	}
//
// Every error is an [*Error] carrying the path; the sentinels in errors.go
// say which limit or rule was broken.
//
// # Concurrency
//
// A parsed [Value] is immutable and safe for concurrent use.
package strictjson
