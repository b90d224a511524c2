// Package taxii is a TAXII 2.1 server (OASIS Standard, 2021-06-10) of a
// state node's bulletins, as STIX 2.1 objects (pkg/stix): an http.Handler
// with discovery, one API root, collections per reader's view (everything
// released to the reader's state; per region of origin; per category),
// objects with limit, next, added_after and match[id|type|version|
// spec_version], manifest, versions, and POST objects for focal points
// (each report of the envelope becomes a post; a status resource reports
// each object's success or failure).
//
//	h, err := taxii.New(taxii.Config{Source: src, Authenticate: auth, State: "MX"})
//	srv := &http.Server{Handler: h, TLSConfig: ...}
//
// The server knows bulletins only through [Source], which the state node
// implements: it lists what a person may read after a cursor, gets one,
// and posts a draft as a person, each through the node's own decisions.
// Paging follows the store's cursor, which only grows and is assigned in
// commit order, so a client that follows next never misses or sees twice
// an object while others post; a next token is the cursor and the object
// index within a bulletin ("12-3").
//
// Routes (TAXII 2.1 §4–§5), under the API root /iant/:
//
//	GET  /taxii2/                                     discovery
//	GET  /iant/                                       API root
//	GET  /iant/status/{id}/                           status of a POST
//	GET  /iant/collections/[{id}/]                    collections
//	GET  /iant/collections/{id}/manifest/             manifest
//	GET  /iant/collections/{id}/objects/              objects
//	POST /iant/collections/{id}/objects/              add objects
//	GET  /iant/collections/{id}/objects/{oid}/        one object
//	GET  /iant/collections/{id}/objects/{oid}/versions/
//
// Every response is application/taxii+json;version=2.1; requests must
// accept it (else 406), POST bodies must be it (else 415) and at most
// max_content_length bytes (else 413). Errors are TAXII error messages.
//
// # Concurrency
//
// A Server is safe for concurrent use; it keeps the status resources of
// recent POSTs and an index of object ids in memory.
package taxii
