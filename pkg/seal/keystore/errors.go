package keystore

import "errors"

// Sentinel errors, matched with [errors.Is]. Returned errors wrap them
// with the file's path and what was wrong, never key material.
var (
	// ErrCorrupt means the key file does not parse: truncated, altered, or
	// not a key file.
	ErrCorrupt = errors.New("keystore: key file corrupt")
	// ErrWrongState means the key file holds the keys of another member
	// state than the one opening it.
	ErrWrongState = errors.New("keystore: key file of another state")
	// ErrPermissions means the key file is not a regular file or may be
	// read or written by group or others.
	ErrPermissions = errors.New("keystore: key file permissions too open")
	// ErrClock means a rotation time is before the last rotation, which
	// would break the file's order of generations.
	ErrClock = errors.New("keystore: time before the last rotation")
	// ErrInvalidOption means an [Options] field is out of range.
	ErrInvalidOption = errors.New("keystore: invalid option")
)

// Errors of [Store.MarkCompromised], matched with [errors.Is].
var (
	// ErrUnknownSignKey means no retired signing key has the given ID.
	ErrUnknownSignKey = errors.New("keystore: no such retired signing key")
	// ErrCurrentSignKey means the key to mark is the current signing key,
	// which is retired as compromised by a rotation instead
	// ([SignRotation.Compromised]).
	ErrCurrentSignKey = errors.New("keystore: the current signing key cannot be marked, only rotated")
	// ErrAlreadyCompromised means the retired signing key is already
	// marked compromised: nothing changed.
	ErrAlreadyCompromised = errors.New("keystore: signing key already marked compromised")
)
