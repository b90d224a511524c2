package misp

import "errors"

// Sentinels of the decoding errors, matched with errors.Is. Every decoding
// error is also a *strictjson.Error naming the JSON path of the bad value;
// malformed JSON, duplicate keys and size limits give strictjson's own
// sentinels.
var (
	// ErrUnknownType: an attribute type IANT does not map, or MISP
	// objects (IANT reads attributes).
	ErrUnknownType = errors.New("misp: type not mapped")
	// ErrMarking: no TLP tag, a TLP 1.0 tag (tlp:white) or two TLP tags.
	ErrMarking = errors.New("misp: marking not TLP 2.0")
	// ErrProvenance: an event IANT issued for another state, which only
	// that state may post, or a revoked one.
	ErrProvenance = errors.New("misp: event may not be posted here")
	// ErrInvalid: any other value IANT cannot read.
	ErrInvalid = errors.New("misp: invalid value")
)
