package problem_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/problem"
)

func TestKindString(t *testing.T) {
	// These names cross the wire and are frozen.
	tests := []struct {
		k    problem.Kind
		want string
	}{
		{problem.KindInternal, "internal"},
		{problem.KindInvalid, "invalid"},
		{problem.KindPermission, "permission"},
		{problem.KindNotFound, "not_found"},
		{problem.KindConflict, "conflict"},
		{problem.KindUnavailable, "unavailable"},
		{problem.KindUnauthenticated, "unauthenticated"},
		{problem.KindExhausted, "exhausted"},
		{problem.KindFailedPrecondition, "failed_precondition"},
		{problem.KindFailedPrecondition + 1, "kind(9)"},
		{-1, "kind(-1)"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.k), got, tt.want)
		}
	}
}

func TestConstructors(t *testing.T) {
	cause := errors.New("nats: no responders")
	tests := []struct {
		name  string
		err   *problem.Error
		kind  problem.Kind
		field string
		rule  string
		msg   string
	}{
		{"Invalid", problem.Invalid("title", "title is %d bytes", 300), problem.KindInvalid, "title", "", "title is 300 bytes"},
		{"Denied", problem.Denied("role.post", "analysts may not post %s", "FLASH"), problem.KindPermission, "", "role.post", "analysts may not post FLASH"},
		{"NotFound", problem.NotFound("bulletin %s not found", "01J"), problem.KindNotFound, "", "", "bulletin 01J not found"},
		{"Conflict", problem.Conflict("bulletin %s exists", "01J"), problem.KindConflict, "", "", "bulletin 01J exists"},
		{"Unavailable", problem.Unavailable(cause, "backbone unavailable"), problem.KindUnavailable, "", "", "backbone unavailable"},
		{"Unauthenticated", problem.Unauthenticated("no client certificate"), problem.KindUnauthenticated, "", "", "no client certificate"},
		{"Internal", problem.Internal(cause), problem.KindInternal, "", "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.err
			if e.Kind != tt.kind || e.Field != tt.field || e.Rule != tt.rule || e.Msg != tt.msg {
				t.Errorf("%s(...) = {Kind: %v, Field: %q, Rule: %q, Msg: %q}, want {Kind: %v, Field: %q, Rule: %q, Msg: %q}",
					tt.name, e.Kind, e.Field, e.Rule, e.Msg, tt.kind, tt.field, tt.rule, tt.msg)
			}
			if e.Error() != tt.msg {
				t.Errorf("%s(...).Error() = %q, want %q", tt.name, e.Error(), tt.msg)
			}
			if got := problem.KindOf(e); got != tt.kind {
				t.Errorf("KindOf(%s(...)) = %v, want %v", tt.name, got, tt.kind)
			}
		})
	}
}

func TestKindOfWrapped(t *testing.T) {
	inv := problem.Invalid("releasability.states", "unknown state code %q", "FR")
	tests := []struct {
		name string
		err  error
		want problem.Kind
	}{
		{"bare", inv, problem.KindInvalid},
		{"wrapped once", fmt.Errorf("post bulletin: %w", inv), problem.KindInvalid},
		{"wrapped twice", fmt.Errorf("node: %w", fmt.Errorf("post bulletin: %w", problem.Denied("r", "no"))), problem.KindPermission},
		{"joined", errors.Join(errors.New("other"), problem.NotFound("gone")), problem.KindNotFound},
		{"plain error", errors.New("boom"), problem.KindInternal},
		{"wrapped with %v", fmt.Errorf("post: %v", inv), problem.KindInternal},
		{"nil", nil, problem.KindInternal},
	}
	for _, tt := range tests {
		if got := problem.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%s: %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}

	var p *problem.Error
	if err := fmt.Errorf("post bulletin: %w", inv); !errors.As(err, &p) || p.Field != "releasability.states" {
		t.Errorf("errors.As(%v) = %v, field %q, want the *problem.Error naming releasability.states", err, p, p.Field)
	}
}

// TestInternalKeepsAProblemOfTheCause: a problem found deeper (a store
// refusing a filter) is what the person is told, not "internal error".
func TestInternalKeepsAProblemOfTheCause(t *testing.T) {
	inner := problem.Invalid("filter.origins", "too many origins")
	cause := fmt.Errorf("store: list: %w", inner)
	tests := []struct {
		name  string
		cause error
		kind  problem.Kind
		field string
		msg   string
	}{
		{"invalid", cause, problem.KindInvalid, "filter.origins", "too many origins"},
		{"internal", problem.Internal(errors.New("disk")), problem.KindInternal, "", "internal error"},
		{"plain", errors.New("disk"), problem.KindInternal, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problem.Internal(tt.cause)
			if got.Kind != tt.kind || got.Field != tt.field || got.Msg != tt.msg {
				t.Errorf("Internal(%v) = {%v %q %q}, want {%v %q %q}", tt.cause, got.Kind, got.Field, got.Msg, tt.kind, tt.field, tt.msg)
			}
			if !errors.Is(got, tt.cause) {
				t.Errorf("Internal(%v) does not wrap its cause", tt.cause)
			}
		})
	}
}

func TestPublicMessageHidesCause(t *testing.T) {
	secret := "dial tcp 10.20.30.40:4222: connection refused"
	cause := fmt.Errorf("backbone: %w", &fs.PathError{Op: "open", Path: "/var/lib/iant/keys", Err: fs.ErrNotExist})
	cause = fmt.Errorf("%s: %w", secret, cause)

	tests := []struct {
		name string
		err  *problem.Error
		msg  string
	}{
		{"Unavailable", problem.Unavailable(cause, "the backbone is unavailable, try again"), "the backbone is unavailable, try again"},
		{"Internal", problem.Internal(cause), "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.msg {
				t.Errorf("Error() = %q, want %q", got, tt.msg)
			}
			for _, leak := range []string{"10.20.30.40", "/var/lib/iant", "connection refused"} {
				if strings.Contains(tt.err.Error(), leak) {
					t.Errorf("Error() = %q, leaks %q", tt.err.Error(), leak)
				}
				if wrapped := fmt.Errorf("post: %w", tt.err); strings.Contains(wrapped.Error(), leak) {
					t.Errorf("wrapped Error() = %q, leaks %q", wrapped, leak)
				}
			}
			if got := tt.err.Unwrap(); got != cause {
				t.Errorf("Unwrap() = %v, want the cause %v", got, cause)
			}
			if !errors.Is(tt.err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false, want the cause chain reachable", tt.err)
			}
			if !errors.Is(fmt.Errorf("post: %w", tt.err), fs.ErrNotExist) {
				t.Errorf("errors.Is through a wrapped problem = false, want true")
			}
			var pe *fs.PathError
			if !errors.As(tt.err, &pe) || pe.Path != "/var/lib/iant/keys" {
				t.Errorf("errors.As(*fs.PathError) = %v, want the internal cause", pe)
			}
		})
	}
}

func TestUnwrapNilWithoutCause(t *testing.T) {
	for _, e := range []*problem.Error{
		problem.Invalid("f", "m"), problem.Denied("r", "m"), problem.NotFound("m"),
		problem.Conflict("m"), problem.Unauthenticated("m"), problem.Unavailable(nil, "m"),
	} {
		if got := e.Unwrap(); got != nil {
			t.Errorf("%v(%q).Unwrap() = %v, want nil", e.Kind, e.Msg, got)
		}
	}
}

// TestMessageFormatting checks the public message is formatted with fmt.
func TestMessageFormatting(t *testing.T) {
	if got := problem.Invalid("body", "body is %d%% of the limit", 120).Error(); got != "body is 120% of the limit" {
		t.Errorf("Invalid(...).Error() = %q, want %q", got, "body is 120% of the limit")
	}
}
