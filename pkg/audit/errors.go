package audit

import (
	"errors"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Sentinel errors, matched with errors.Is. Those a person may see (invalid
// events, unknown bulletins, a closed log) are returned inside a
// *problem.Error carrying the kind; the verification errors are for the
// auditor's tools and stand alone.
var (
	// ErrInvalidEvent means an event failed validation or its encoding is
	// not canonical (problem kind Invalid, Field names the bad field).
	ErrInvalidEvent = errors.New("invalid audit event")

	// ErrMalformedReceipt means a receipt, a log leaf or a message of the
	// witness protocol (proof request or reply, gossiped checkpoint) is not
	// in its canonical form or breaks a limit (problem kind Invalid, Field
	// names the bad field).
	ErrMalformedReceipt = errors.New("malformed audit message")

	// ErrAttestation means a [HeaderVerifier] or [ForwardVerifier] found
	// that evidence does not verify: a verdict, the receipt is refused.
	// Verifiers wrap it; any other error they return is temporary (the
	// origin's directory entry could not be read) and the receipt is
	// offered again later.
	ErrAttestation = errors.New("evidence does not verify")

	// ErrNoHeader means the log does not hold the signed header of the
	// bulletin a receipt is about (yet): [Log.Submit] takes it later, once
	// the origin's posted receipt or a receipt carrying the header
	// attestation arrived.
	ErrNoHeader = errors.New("the log holds no signed header of the bulletin")

	// ErrNoEntrySigner means the log was opened without the SVID that
	// signs its own entries (escalations, refusals).
	ErrNoEntrySigner = errors.New("audit log has no entry signer")

	// ErrAmbiguous means a bulletin id names bulletins of several origins
	// and the caller gave none (problem kind Invalid, Field "origin").
	ErrAmbiguous = errors.New("bulletin id of several origins")

	// ErrNotFound means no such bulletin or log entry (problem kind NotFound).
	ErrNotFound = errors.New("not found")

	// ErrRange means a leaf index or tree size outside the log (problem
	// kind Invalid).
	ErrRange = errors.New("index or tree size out of range")

	// ErrClosed means the Log has been closed (problem kind Unavailable).
	ErrClosed = errors.New("audit log is closed")

	// ErrInvalidOption means an [Option] passed to [OpenLog] cannot be
	// applied.
	ErrInvalidOption = errors.New("invalid option")

	// ErrOtherWriter means the database grew under this Log: another
	// process appended to the same file, which is not supported.
	ErrOtherWriter = errors.New("audit log was appended to by another writer")

	// ErrMalformedCheckpoint means a signed checkpoint could not be parsed
	// as a C2SP tlog-checkpoint note.
	ErrMalformedCheckpoint = errors.New("malformed checkpoint")

	// ErrSignature means a checkpoint carries no valid signature by the
	// expected key.
	ErrSignature = errors.New("checkpoint not signed by the log's key")

	// ErrOrigin means a checkpoint names another log than the one expected.
	ErrOrigin = errors.New("checkpoint of another log")

	// ErrProof means an inclusion proof does not lead to the checkpoint's
	// root.
	ErrProof = errors.New("inclusion proof does not verify")

	// ErrInconsistent means two checkpoints cannot both describe one
	// append-only log: a consistency proof failed, or two checkpoints of the
	// same size have different roots. A [Witness] wraps it in a [*ForkError].
	ErrInconsistent = errors.New("checkpoints are not consistent")

	// ErrStale means a [Witness] was offered a checkpoint smaller than the
	// last one it saw. Nothing is recorded; it is not evidence of a fork.
	ErrStale = errors.New("checkpoint is older than the last one seen")

	// ErrTruncated, ErrMismatch, ErrMalformedEntry and ErrDuplicateEntry
	// are the reasons [VerifyLog] gives in a [*LogError].
	ErrTruncated      = errors.New("log dump is shorter than a trusted checkpoint")
	ErrMismatch       = errors.New("log dump does not hash to a trusted checkpoint")
	ErrMalformedEntry = errors.New("log entry is not a canonical event")
	ErrDuplicateEntry = errors.New("log entry repeats an earlier event")
)

// invalid reports a bad event field.
func invalid(field, format string, args ...any) error {
	p := problem.Invalid(field, format, args...)
	p.Err = ErrInvalidEvent
	return p
}

// malformed reports a bad field of a receipt or witness message.
func malformed(field, format string, args ...any) error {
	p := problem.Invalid(field, format, args...)
	p.Err = ErrMalformedReceipt
	return p
}

func outOfRange(field, format string, args ...any) error {
	p := problem.Invalid(field, format, args...)
	p.Err = ErrRange
	return p
}

func notFound(format string, args ...any) error {
	p := problem.NotFound(format, args...)
	p.Err = ErrNotFound
	return p
}

func closedErr() error {
	return problem.Unavailable(ErrClosed, "audit log is closed")
}
