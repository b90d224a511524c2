package audit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/oas-cicte/iant/pkg/region"
)

// The witness protocol's messages on the backbone. Each is one JSON
// object in canonical form (compact, keys in alphabetical order, as
// encoding/json writes these structs) with a version "v"; the parsers
// accept nothing else.

// witnessMsgVersion is the "v" of every witness protocol message.
const witnessMsgVersion = 1

// Limits of the witness protocol's messages.
const (
	// MaxProofHashes bounds a consistency proof: at most two hashes per
	// level of a tree of 2^63 leaves.
	MaxProofHashes = 128
	// MaxWitnessMsgBytes bounds every witness protocol message.
	MaxWitnessMsgBytes = 16 << 10
	// maxReplyError bounds the secretariat's refusal text.
	maxReplyError = 256
)

// ProofRequest asks the secretariat for the consistency proof between two
// sizes of its log (RFC 6962 §2.1.2), whatever the gap between them.
type ProofRequest struct {
	Old, New uint64
}

type wireProofRequest struct {
	New uint64 `json:"new"`
	Old uint64 `json:"old"`
	V   int    `json:"v"`
}

// Marshal encodes r as it travels on the backbone.
func (r ProofRequest) Marshal() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("audit: proof request: %w", err)
	}
	return encodeJSON(wireProofRequest{New: r.New, Old: r.Old, V: witnessMsgVersion})
}

func (r *ProofRequest) check() error {
	if r.Old > r.New {
		return malformed("old", "old size %d is above new size %d", r.Old, r.New)
	}
	return nil
}

// ParseProofRequest decodes a proof request. Errors are *problem.Error of
// kind Invalid wrapping [ErrMalformedReceipt], naming the field.
func ParseProofRequest(b []byte) (ProofRequest, error) {
	var w wireProofRequest
	if err := decodeCanonical(b, &w); err != nil {
		return ProofRequest{}, fmt.Errorf("audit: proof request: %w", err)
	}
	r := ProofRequest{Old: w.Old, New: w.New}
	if err := r.check(); err != nil {
		return ProofRequest{}, fmt.Errorf("audit: proof request: %w", err)
	}
	return r, nil
}

// ProofReply is the secretariat's answer to a [ProofRequest]: the proof,
// or why there is none (Error, e.g. a size beyond its log). The proof
// needs no signature: it is checked against two signed checkpoints.
type ProofReply struct {
	Old    uint64
	New    uint64
	Hashes [][]byte
	// Error is the secretariat's refusal, printable ASCII: the other
	// party's text, to be escaped wherever it is shown.
	Error string
}

type wireProofReply struct {
	Error  string   `json:"error,omitempty"`
	Hashes [][]byte `json:"hashes"`
	New    uint64   `json:"new"`
	Old    uint64   `json:"old"`
	V      int      `json:"v"`
}

// Marshal encodes r as it travels on the backbone.
func (r ProofReply) Marshal() ([]byte, error) {
	w := wireProofReply{Error: r.Error, Hashes: r.Hashes, New: r.New, Old: r.Old, V: witnessMsgVersion}
	if w.Hashes == nil {
		w.Hashes = [][]byte{}
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("audit: proof reply: %w", err)
	}
	return encodeJSON(w)
}

func (w *wireProofReply) check() error {
	switch {
	case w.Old > w.New:
		return malformed("old", "old size %d is above new size %d", w.Old, w.New)
	case len(w.Hashes) > MaxProofHashes:
		return malformed("hashes", "%d hashes, at most %d", len(w.Hashes), MaxProofHashes)
	case len(w.Error) > maxReplyError || w.Error != "" && !printable(w.Error):
		return malformed("error", "error must be at most %d printable ASCII characters", maxReplyError)
	case w.Error != "" && len(w.Hashes) > 0:
		return malformed("error", "a refusal carries no proof")
	}
	for i, h := range w.Hashes {
		if len(h) != hasher.Size() {
			return malformed("hashes", "hash %d is %d bytes, want %d", i, len(h), hasher.Size())
		}
	}
	return nil
}

// ParseProofReply decodes a proof reply. Errors are *problem.Error of kind
// Invalid wrapping [ErrMalformedReceipt], naming the field.
func ParseProofReply(b []byte) (ProofReply, error) {
	var w wireProofReply
	if err := decodeCanonical(b, &w); err != nil {
		return ProofReply{}, fmt.Errorf("audit: proof reply: %w", err)
	}
	if err := w.check(); err != nil {
		return ProofReply{}, fmt.Errorf("audit: proof reply: %w", err)
	}
	return ProofReply{Old: w.Old, New: w.New, Hashes: w.Hashes, Error: w.Error}, nil
}

// WitnessedCheckpoint is what a state node tells the others: the last
// checkpoint of the secretariat's log it accepted, as the log signed it.
// Two states holding checkpoints that no append-only log can explain
// together prove the secretariat showed them different logs.
type WitnessedCheckpoint struct {
	// State is the witnessing state.
	State string
	// Checkpoint is the signed checkpoint note.
	Checkpoint []byte
}

type wireWitnessed struct {
	Checkpoint []byte `json:"checkpoint"`
	State      string `json:"state"`
	V          int    `json:"v"`
}

// Marshal encodes m as it travels on the backbone.
func (m WitnessedCheckpoint) Marshal() ([]byte, error) {
	w := wireWitnessed{Checkpoint: m.Checkpoint, State: m.State, V: witnessMsgVersion}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("audit: witnessed checkpoint: %w", err)
	}
	return encodeJSON(w)
}

func (w *wireWitnessed) check() error {
	switch {
	case !region.IsMember(w.State):
		return malformed("state", "state %q is not a member state", w.State)
	case len(w.Checkpoint) == 0 || len(w.Checkpoint) > MaxWitnessMsgBytes/2:
		return malformed("checkpoint", "checkpoint of %d bytes, want 1 to %d", len(w.Checkpoint), MaxWitnessMsgBytes/2)
	}
	return nil
}

// ParseWitnessedCheckpoint decodes a witnessed checkpoint message; it does
// not verify the checkpoint ([VerifyCheckpoint] does). Errors are
// *problem.Error of kind Invalid wrapping [ErrMalformedReceipt].
func ParseWitnessedCheckpoint(b []byte) (WitnessedCheckpoint, error) {
	var w wireWitnessed
	if err := decodeCanonical(b, &w); err != nil {
		return WitnessedCheckpoint{}, fmt.Errorf("audit: witnessed checkpoint: %w", err)
	}
	if err := w.check(); err != nil {
		return WitnessedCheckpoint{}, fmt.Errorf("audit: witnessed checkpoint: %w", err)
	}
	return WitnessedCheckpoint{State: w.State, Checkpoint: w.Checkpoint}, nil
}

// decodeCanonical decodes b into the struct pointed to by v, a witness
// message of version witnessMsgVersion, and checks that b is v's
// canonical encoding.
func decodeCanonical(b []byte, v any) error {
	if len(b) > MaxWitnessMsgBytes {
		return malformed("message", "message is %d bytes, the limit is %d", len(b), MaxWitnessMsgBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("message", "message is not a JSON object of the known fields")
	}
	var ver struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(b, &ver); err != nil || ver.V != witnessMsgVersion {
		return malformed("v", "unknown message version (want %d)", witnessMsgVersion)
	}
	again, err := encodeJSON(v)
	if err != nil || !bytes.Equal(again, b) {
		return malformed("message", "message encoding is not canonical")
	}
	return nil
}

// printable reports whether s is printable ASCII (spaces allowed).
func printable(s string) bool {
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
