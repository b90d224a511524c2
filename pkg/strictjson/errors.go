package strictjson

import (
	"errors"
	"fmt"
)

// Sentinels matched with errors.Is on the errors of [Parse] and of the
// accessors of [Value].
var (
	// ErrSyntax: the document is not JSON (or has trailing data).
	ErrSyntax = errors.New("strictjson: not valid JSON")
	// ErrDuplicateKey: an object has the same key twice.
	ErrDuplicateKey = errors.New("strictjson: duplicate key")
	// ErrTooLarge: the document, its nesting or one of its arrays or
	// objects is beyond the limits.
	ErrTooLarge = errors.New("strictjson: beyond the limits")
	// ErrType: a value is not of the kind asked for, or is missing.
	ErrType = errors.New("strictjson: wrong type or missing")
	// ErrValue: a value has the right kind but is not acceptable; the
	// decoders of foreign formats return it through [Value.Errorf].
	ErrValue = errors.New("strictjson: bad value")
)

// Error is a problem at one place of a document. Path is the JSON path
// ("objects[3].pattern"; "" for the document itself); Msg says what is
// wrong there, with any text from the document quoted.
type Error struct {
	Path string
	Msg  string
	Err  error // one of the sentinels
}

// Error returns "path: message".
func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "(document)"
	}
	return p + ": " + e.Msg
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// At returns an *Error at path wrapping sentinel.
func At(path string, sentinel error, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// PathOf returns the path of err if it is (or wraps) an *Error.
func PathOf(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Path, true
	}
	return "", false
}
