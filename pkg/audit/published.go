package audit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// PublishedCheckpoint is what the secretariat publishes on the backbone's
// checkpoint stream: a signed checkpoint, the log's verifier key, and the
// consistency proof from the previously published checkpoint's size, so a
// state node can check each step without asking the secretariat.
type PublishedCheckpoint struct {
	Checkpoint  []byte   `json:"checkpoint"`
	VerifierKey string   `json:"verifier_key"`
	PrevSize    uint64   `json:"prev_size"`
	Proof       [][]byte `json:"proof"`
}

// Marshal encodes m as it travels on the backbone.
func (m PublishedCheckpoint) Marshal() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("audit: encode published checkpoint: %w", err)
	}
	return b, nil
}

// ParsePublishedCheckpoint decodes a published checkpoint message and
// verifies its checkpoint with v; with v nil it verifies with the key the
// message carries (which proves only that the message is self-consistent:
// a reader must compare that key with the one it was configured with).
func ParsePublishedCheckpoint(data []byte, v note.Verifier) (PublishedCheckpoint, Checkpoint, error) {
	var m PublishedCheckpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, Checkpoint{}, fmt.Errorf("audit: published checkpoint: %w", err)
	}
	if v == nil {
		var err error
		if v, err = note.NewVerifier(m.VerifierKey); err != nil {
			return m, Checkpoint{}, fmt.Errorf("audit: published checkpoint: verifier key: %w", err)
		}
	}
	cp, err := VerifyCheckpoint(m.Checkpoint, v.Name(), v)
	if err != nil {
		return m, Checkpoint{}, err
	}
	if m.PrevSize > cp.Size {
		return m, Checkpoint{}, fmt.Errorf("audit: published checkpoint: previous size %d above size %d", m.PrevSize, cp.Size)
	}
	return m, cp, nil
}
