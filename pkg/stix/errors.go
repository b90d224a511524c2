package stix

import "errors"

// Sentinels of the decoding errors, matched with errors.Is. Every decoding
// error is also a *strictjson.Error naming the JSON path of the bad value
// (strictjson.PathOf); malformed JSON, duplicate keys and size limits give
// strictjson's own sentinels (ErrSyntax, ErrDuplicateKey, ErrTooLarge),
// a value of the wrong JSON type strictjson.ErrType.
var (
	// ErrUnknownType: an object of a type IANT does not map (STIX or
	// not), or a reference to one.
	ErrUnknownType = errors.New("stix: object type not mapped")
	// ErrMarking: a marking that is not one of the five TLP 2.0
	// definitions, a missing marking, granular markings, or markings
	// that disagree within one bulletin.
	ErrMarking = errors.New("stix: marking not TLP 2.0")
	// ErrPattern: a pattern that does not parse, or one of a kind IANT
	// does not read (see ParsePattern).
	ErrPattern = errors.New("stix: pattern not readable")
	// ErrProvenance: a report IANT issued for another state, which only
	// that state may post (share it onward with a forward instead), or a
	// revoked report offered as a new bulletin.
	ErrProvenance = errors.New("stix: report may not be posted here")
	// ErrInvalid: any other value IANT cannot read or a bulletin would
	// not be valid with.
	ErrInvalid = errors.New("stix: invalid value")
)
