package membership

import "errors"

// Sentinel errors, wrapped with detail.
var (
	// ErrMalformed: the document does not follow the format, or breaks one
	// of its rules (an unknown state, a version 0, a duplicate entry).
	ErrMalformed = errors.New("membership: malformed document")
	// ErrSignature: the document is not signed by the membership key the
	// reader is configured with.
	ErrSignature = errors.New("membership: not signed by the secretariat's membership key")
	// ErrNetwork: the document is about another network (trust domain).
	ErrNetwork = errors.New("membership: document of another network")
	// ErrStale: the document is older than the one the reader holds (a
	// replay); it is ignored.
	ErrStale = errors.New("membership: older than the version held")
	// ErrConflict: the document differs from the one the reader holds
	// under the same version: the secretariat signed two documents of one
	// version. The held one stays.
	ErrConflict = errors.New("membership: a different document of the version held")
)
