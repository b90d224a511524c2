// Package problem is the one error type that carries what a person must be
// told: a kind (invalid, permission, not found, ...), the offending field or
// the refusing rule, and a public message, separate from the internal cause.
//
//	return problem.Invalid("title", "title is required")
//	return problem.Denied("role.post", "analysts may not post bulletins")
//	var p *problem.Error; errors.As(err, &p) // p.Kind, p.Field, p.Rule
//
// Exactly one function, in pkg/nodeserver, maps a Kind to a gRPC status
// code.
package problem

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the person who receives it. Values are
// frozen: they cross the wire as strings ([Kind.String]).
type Kind int

// Kinds of problems.
const (
	KindInternal           Kind = iota // a broken invariant; details only in logs
	KindInvalid                        // bad input: Field names what was wrong
	KindPermission                     // refused: Rule names the rule that refused
	KindNotFound                       // no such thing (or not visible to the caller)
	KindConflict                       // clashes with what exists
	KindUnavailable                    // a dependency (the backbone) is down; retry later
	KindUnauthenticated                // no or unusable identity
	KindExhausted                      // the node is overloaded; RetryAfter says when to try again
	KindFailedPrecondition             // exists but cannot be used in its state (Rule says why), e.g. withdrawn
)

var kindNames = [...]string{"internal", "invalid", "permission", "not_found", "conflict", "unavailable", "unauthenticated", "exhausted", "failed_precondition"}

// String returns the kind's stable name, e.g. "invalid".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is a problem to report to a person. Msg is public; Err is the
// internal cause and is never shown to the caller.
type Error struct {
	Kind  Kind
	Field string // offending input field, for KindInvalid
	Rule  string // refusing rule or policy id, for KindPermission
	Msg   string // public, one line, no secrets
	Err   error  // internal cause, for logs; may be nil
	// RetryAfter, for KindExhausted, is when the caller may try again.
	RetryAfter time.Duration
}

// Error returns the public message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Denied reports a refusal by rule.
func Denied(rule, format string, args ...any) *Error {
	return &Error{Kind: KindPermission, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// NotFound reports that something does not exist or is not visible.
func NotFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflict reports a clash with stored state.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Msg: fmt.Sprintf(format, args...)}
}

// Unavailable reports that a dependency is down; cause stays internal.
func Unavailable(cause error, format string, args ...any) *Error {
	return &Error{Kind: KindUnavailable, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Exhausted reports that the node cannot take the request now (admission
// control): it is refused at once, and retryAfter says when to try again.
func Exhausted(retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Kind: KindExhausted, Msg: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
}

// Unauthenticated reports a missing or unusable identity.
func Unauthenticated(format string, args ...any) *Error {
	return &Error{Kind: KindUnauthenticated, Msg: fmt.Sprintf(format, args...)}
}

// Internal wraps an internal failure behind a fixed public message. When
// cause already carries a problem for the person (a *Error of another
// kind, such as a store refusing a filter as Invalid), that problem is
// kept, with cause as its internal cause: the layer that knew what was
// wrong decides what the person is told.
func Internal(cause error) *Error {
	var p *Error
	if errors.As(cause, &p) && p.Kind != KindInternal {
		return &Error{Kind: p.Kind, Field: p.Field, Rule: p.Rule, Msg: p.Msg, Err: cause, RetryAfter: p.RetryAfter}
	}
	return &Error{Kind: KindInternal, Msg: "internal error", Err: cause}
}

// KindOf returns the kind of err, KindInternal when err is not a *Error.
func KindOf(err error) Kind {
	var p *Error
	if errors.As(err, &p) {
		return p.Kind
	}
	return KindInternal
}
