package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Leaf formats. Entries are never rewritten: a log holds the format of
// the time each entry was appended.
const (
	// LeafEvent (format 1) is an event alone, its canonical encoding
	// ([MarshalEvent]): what the log appended before it kept signatures.
	LeafEvent = 1
	// LeafReceipt (format 2) is a signed receipt ([Receipt.Marshal]): the
	// event, the evidence it carried and the reporting node's signature
	// and chain. The log's own entries are receipts signed by the
	// secretariat's node.
	LeafReceipt = 2
)

// Leaf is one entry of the log as stored, decoded.
type Leaf struct {
	// Format is LeafEvent or LeafReceipt.
	Format int
	// Event is what the entry records.
	Event Event
	// Receipt is the signed receipt of a LeafReceipt entry; nil for
	// LeafEvent. Its Signer is zero until [Receipt.Verify].
	Receipt *Receipt
}

// ParseLeaf decodes an entry's raw bytes ([Log.Entry], [Log.Entries]) of
// either format, accepting only their canonical encodings. Errors are
// *problem.Error of kind Invalid wrapping [ErrMalformedReceipt] or
// [ErrInvalidEvent].
func ParseLeaf(raw []byte) (Leaf, error) {
	l, err := parseLeaf(raw)
	if err != nil {
		return Leaf{}, fmt.Errorf("audit: parse leaf: %w", err)
	}
	return l, nil
}

func parseLeaf(raw []byte) (Leaf, error) {
	var v struct {
		V int `json:"v"`
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
		return Leaf{}, malformed("leaf", "leaf is not a JSON object")
	}
	switch v.V {
	case LeafEvent:
		e, err := unmarshal(raw)
		if err != nil {
			return Leaf{}, err
		}
		return Leaf{Format: LeafEvent, Event: e}, nil
	case LeafReceipt:
		r, _, err := parseReceipt(raw)
		if err != nil {
			return Leaf{}, err
		}
		return Leaf{Format: LeafReceipt, Event: r.Event, Receipt: r}, nil
	}
	return Leaf{}, malformed("v", "unknown leaf format %d", v.V)
}

// signOwn makes the leaf of one of the log's own events: a receipt signed
// by the log's entry signer.
func (l *Log) signOwn(e *Event) ([]byte, error) {
	if l.ownKey == nil {
		return nil, ErrNoEntrySigner
	}
	svid, err := l.ownKey.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("entry signer: %w", err)
	}
	ev, err := marshal(e)
	if err != nil {
		return nil, err
	}
	return SignEncodedReceipt(ev, Evidence{}, svid)
}
