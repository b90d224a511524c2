package policy

import "errors"

// Sentinel errors returned by [Load], [LoadFiles], [Parse] and
// [Engine.Reload], wrapped with the file, position and detail.
var (
	// ErrParse reports policy or schema text that does not parse.
	ErrParse = errors.New("policy: does not parse")
	// ErrSchema reports a policy that does not conform to the schema.
	ErrSchema = errors.New("policy: does not conform to the schema")
	// ErrID reports a network policy without a usable, unique @id.
	ErrID = errors.New("policy: bad policy id")
)

// Reserved policy ids: they name decisions no policy in a file made.
const (
	// DefaultDeny is the id reported when no permit matched.
	DefaultDeny = "default-deny"
	// ConditionsInvalid is the id reported when a bulletin's conditions
	// fail to parse or validate against the network set: the bulletin is
	// then refused to everyone (it can only narrow, so failing closed is
	// the narrowest reading).
	ConditionsInvalid = "bulletin-conditions-invalid"
)
