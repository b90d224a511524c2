package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// encodingVersion is the "v" of every event this package writes. A new
// encoding gets a new number; entries already logged keep theirs forever.
const encodingVersion = 1

// wireEvent is the version 1 encoding. Its fields are declared in
// alphabetical order of their JSON names, which is the order encoding/json
// writes them: that order is part of the format.
type wireEvent struct {
	Actor      string `json:"actor,omitempty"`
	At         string `json:"at"`
	BulletinID string `json:"bulletin_id"`
	Detail     string `json:"detail,omitempty"`
	Kind       string `json:"kind"`
	Origin     string `json:"origin"`
	Precedence int    `json:"precedence,omitempty"`
	Revision   int    `json:"revision,omitempty"`
	Rule       string `json:"rule,omitempty"`
	State      string `json:"state,omitempty"`
	V          int    `json:"v"`
}

// MarshalEvent validates e and returns its canonical encoding: one JSON
// object, no insignificant space, keys in a fixed (alphabetical) order,
// empty optional fields left out, the time in UTC as RFC 3339 with the
// fewest fractional digits. The same event always gives the same bytes,
// which are what the log hashes as a leaf (RFC 6962 §2.1).
//
// An invalid event gives a *problem.Error wrapping [ErrInvalidEvent].
func MarshalEvent(e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("audit: marshal event: %w", err)
	}
	return marshal(&e)
}

func marshal(e *Event) ([]byte, error) {
	w := wireEvent{
		Actor:      e.Actor,
		At:         e.At.UTC().Format(time.RFC3339Nano),
		BulletinID: e.BulletinID,
		Detail:     e.Detail,
		Kind:       string(e.Kind),
		Origin:     e.Origin,
		Precedence: int(e.Precedence),
		Revision:   e.Revision,
		Rule:       e.Rule,
		State:      e.State,
		V:          encodingVersion,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, fmt.Errorf("audit: marshal event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalEvent decodes and validates an event written by [MarshalEvent].
// It accepts only the canonical encoding: input that decodes but would
// re-encode to other bytes (other key order or spacing, escapes, an
// unknown or repeated field, a non-UTC time) is refused, so every accepted
// event has exactly one byte form and MarshalEvent(UnmarshalEvent(b)) == b.
//
// Errors are *problem.Error of kind Invalid wrapping [ErrInvalidEvent];
// Field names the bad field, or is "encoding" for a non-canonical form.
func UnmarshalEvent(b []byte) (Event, error) {
	e, err := unmarshal(b)
	if err != nil {
		return Event{}, fmt.Errorf("audit: unmarshal event: %w", err)
	}
	return e, nil
}

func unmarshal(b []byte) (Event, error) {
	if len(b) > MaxEventBytes {
		return Event{}, invalid("encoding", "event is %d bytes, the limit is %d", len(b), MaxEventBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireEvent
	if err := dec.Decode(&w); err != nil {
		return Event{}, invalid("encoding", "event is not a JSON object of the known fields")
	}
	if w.V != encodingVersion {
		return Event{}, invalid("v", "unknown event encoding version %d", w.V)
	}
	at, err := time.Parse(time.RFC3339Nano, w.At)
	if err != nil {
		return Event{}, invalid("at", "event time is not RFC 3339")
	}
	e := Event{
		Kind:       EventKind(w.Kind),
		BulletinID: w.BulletinID,
		Origin:     w.Origin,
		State:      w.State,
		Actor:      w.Actor,
		Rule:       w.Rule,
		Precedence: bulletin.Precedence(w.Precedence),
		Revision:   w.Revision,
		At:         at.UTC(),
		Detail:     w.Detail,
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	again, err := marshal(&e)
	if err != nil {
		return Event{}, err
	}
	if !bytes.Equal(again, b) {
		return Event{}, invalid("encoding", "event encoding is not canonical")
	}
	return e, nil
}
