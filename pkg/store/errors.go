package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Sentinel errors, matched with errors.Is. Each is returned inside a
// *problem.Error so that the kind reaches the person who asked.
var (
	// ErrNotFound means no bulletin with the given ID is stored
	// (problem kind NotFound).
	ErrNotFound = errors.New("bulletin not found")

	// ErrConflict means a bulletin with the same ID but different content
	// is already stored (problem kind Conflict). The stored record is left
	// unchanged.
	ErrConflict = errors.New("bulletin already stored with different content")

	// ErrAmbiguous means bulletins of one ID from several origins are
	// stored and the caller named no origin (problem kind Invalid, field
	// origin).
	ErrAmbiguous = errors.New("bulletin id held from several origins")

	// ErrClosed means the Store has been closed (problem kind Unavailable).
	ErrClosed = errors.New("store is closed")

	// ErrCursorAhead means a resume cursor is beyond the newest this store
	// ever issued: it comes from another node, or from before the store was
	// rebuilt (problem kind Invalid, field after_cursor).
	ErrCursorAhead = errors.New("cursor beyond the newest bulletin")
)

func notFound(id string) error {
	return &problem.Error{Kind: problem.KindNotFound, Msg: "bulletin " + id + " not found", Err: ErrNotFound}
}

func conflict(id string) error {
	return &problem.Error{Kind: problem.KindConflict,
		Msg: "bulletin " + id + " is already stored with different content", Err: ErrConflict}
}

func ambiguous(id string, origins []string) error {
	return &problem.Error{Kind: problem.KindInvalid, Field: "origin", Err: ErrAmbiguous,
		Msg: fmt.Sprintf("bulletin %s is held from %s: name its origin (origin, --origin)", id, strings.Join(origins, ", "))}
}

func cursorAhead(c, newest uint64) error {
	return &problem.Error{Kind: problem.KindInvalid, Field: "after_cursor", Err: ErrCursorAhead,
		Msg: fmt.Sprintf("cursor %d is beyond the newest bulletin this node holds (cursor %d): it is from another node or from before the node's store was rebuilt; subscribe again from the start", c, newest)}
}

func closed() error {
	return &problem.Error{Kind: problem.KindUnavailable, Msg: "node store is closed", Err: ErrClosed}
}

// Sentinel errors of the outboxes and idempotent posts.
var (
	// ErrKeyReused means an author's idempotency key was used before with
	// another draft (problem kind Invalid, field idempotency_key).
	ErrKeyReused = errors.New("idempotency key already used with another draft")

	// ErrOutboxFull means the outbox holds as many pending copies as its
	// bound allows (problem kind Unavailable); nothing was stored.
	ErrOutboxFull = errors.New("outbox full")
)

func keyReused(id string) error {
	return &problem.Error{Kind: problem.KindInvalid, Field: "idempotency_key",
		Msg: "idempotency key was already used for bulletin " + id + " with another draft; " +
			"use a new key for a new bulletin, or resend the same draft to retry",
		Err: ErrKeyReused}
}

func outboxFull(pending, bound int) error {
	return &problem.Error{Kind: problem.KindUnavailable,
		Msg: fmt.Sprintf("node outbox full: %d copies wait for the backbone, the bound is %d; "+
			"post again once the backbone has taken them", pending, bound),
		Err: ErrOutboxFull}
}

// ErrParkFull means a publishing state's parked copies are at their bound
// ([ParkLimits]): the copy was not parked (problem kind Unavailable).
var ErrParkFull = errors.New("parked copies at their bound")

func parkFull(origin, why string) error {
	return &problem.Error{Kind: problem.KindUnavailable,
		Msg: fmt.Sprintf("copies parked from %s at their bound: %s", origin, why), Err: ErrParkFull}
}
