package audit

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// receiptDomain separates receipt signatures from every other signature an
// SVID key makes. Version 1 receipts (the event alone, signed over
// "iant/receipt/v1\x00" ‖ event) are no longer accepted.
const receiptDomain = "iant/receipt/v2\x00"

// receiptVersion is the "v" of every receipt, and of a log leaf that holds
// one (leaf format 2).
const receiptVersion = 2

// Limits on a receipt.
const (
	// maxReceiptChain bounds the certificates a receipt carries.
	maxReceiptChain = 4
	// MaxEvidenceBytes bounds each of a receipt's [Evidence] fields.
	MaxEvidenceBytes = 12 << 10
	// MaxReceiptBytes bounds an encoded receipt; [ParseReceipt] refuses more.
	MaxReceiptBytes = 60 << 10
)

// Evidence is what a receipt carries that another party signed: this
// package keeps and hashes the bytes but never reads them; a
// [HeaderVerifier] and a [ForwardVerifier] do.
type Evidence struct {
	// Header is the origin's header attestation: the bulletin's sealed
	// header as the origin node signed it. Required in a posted receipt,
	// optional (and checked when present) in the others.
	Header []byte
	// Forward is the statement a forwarding state signed when it shared
	// the bulletin with the reporting state, which the origin did not
	// release it to. Only in receipts of a state a forward reached.
	Forward []byte
}

// Receipt is a signed audit event: what a node said, and the proof that
// it said it. It travels on the backbone and, once accepted, is a leaf
// of the log (leaf format 2), so every entry keeps who said what.
type Receipt struct {
	// Event is what the receipt reports.
	Event Event
	// Evidence is what others signed that the receipt carries.
	Evidence
	// Signature is the reporting node's SVID key's signature (see
	// [SignReceipt]).
	Signature []byte
	// Chain is the reporting node's SVID chain, leaf first (DER).
	Chain [][]byte
	// Signer is the verified signer, set by [VerifyReceipt] and
	// [Receipt.Verify]; zero after [ParseReceipt].
	Signer spiffeid.ID

	event []byte // the event's canonical encoding, as signed
}

// wireReceipt is the receipt's JSON form; keys in alphabetical order, the
// order encoding/json writes them, which is part of the format:
//
//	{"chain":["<base64 DER>",...],"event":{<canonical event>},
//	 "forward":"<base64>","header":"<base64>","sig":"<base64>","v":2}
//
// forward and header are left out when empty.
type wireReceipt struct {
	Chain   [][]byte        `json:"chain"`
	Event   json.RawMessage `json:"event"`
	Forward []byte          `json:"forward,omitempty"`
	Header  []byte          `json:"header,omitempty"`
	Sig     []byte          `json:"sig"`
	V       int             `json:"v"`
}

// EventID returns the id of an audit event: the hex SHA-256 of its key
// (kind, origin, bulletin, state, actor; and for a refusal its rule and
// detail) — the same key the log de-duplicates appends by — so it is the
// same for every report of the same event. It names the receipt on the
// backbone and in a node's outbox. A refusal's id changed when its rule
// and detail joined the key: one queued before and reported again after
// is logged once all the same (the log looks refusals up under both
// keys).
func EventID(e Event) string {
	h := sha256.Sum256([]byte(e.key()))
	return hex.EncodeToString(h[:])
}

// signedMessage is what a receipt's signature covers: the domain, then the
// SHA-256 of the event encoding, of the header attestation and of the
// forward statement (each hash of the empty string when absent).
func signedMessage(event []byte, ev Evidence) []byte {
	msg := make([]byte, 0, len(receiptDomain)+3*sha256.Size)
	msg = append(msg, receiptDomain...)
	for _, part := range [][]byte{event, ev.Header, ev.Forward} {
		h := sha256.Sum256(part)
		msg = append(msg, h[:]...)
	}
	return msg
}

// SignReceipt signs e and the evidence ev with a node's SVID and returns
// the receipt the secretariat verifies: the event's canonical encoding,
// the evidence, the SVID key's signature over "iant/receipt/v2\x00" ‖
// SHA-256(event) ‖ SHA-256(ev.Header) ‖ SHA-256(ev.Forward), and the SVID
// chain. It fails for an invalid event, evidence over [MaxEvidenceBytes],
// or an SVID without key or certificates.
func SignReceipt(e Event, ev Evidence, svid *x509svid.SVID) ([]byte, error) {
	enc, err := MarshalEvent(e)
	if err != nil {
		return nil, fmt.Errorf("audit: sign receipt: %w", err)
	}
	b, err := SignEncodedReceipt(enc, ev, svid)
	if err != nil {
		return nil, fmt.Errorf("audit: sign receipt: %w", err)
	}
	return b, nil
}

// SignEncodedReceipt is [SignReceipt] of an event already encoded with
// [MarshalEvent] (as a node's receipt outbox keeps them). It does not
// check the encoding; the secretariat does.
func SignEncodedReceipt(event []byte, ev Evidence, svid *x509svid.SVID) ([]byte, error) {
	switch {
	case svid == nil || len(svid.Certificates) == 0 || svid.PrivateKey == nil:
		return nil, errors.New("SVID without certificate or key")
	case len(svid.Certificates) > maxReceiptChain:
		return nil, fmt.Errorf("chain of %d certificates", len(svid.Certificates))
	case len(ev.Header) > MaxEvidenceBytes || len(ev.Forward) > MaxEvidenceBytes:
		return nil, fmt.Errorf("evidence over %d bytes", MaxEvidenceBytes)
	}
	sig, err := identity.SignWithSVIDKey(svid.PrivateKey, signedMessage(event, ev))
	if err != nil {
		return nil, err
	}
	r := wireReceipt{Event: event, Forward: ev.Forward, Header: ev.Header, Sig: sig, V: receiptVersion}
	for _, c := range svid.Certificates {
		r.Chain = append(r.Chain, c.Raw)
	}
	return encodeJSON(r)
}

// encodeJSON writes v as compact JSON without HTML escapes, the form of
// every encoding of this package.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseReceipt decodes a receipt written by [SignReceipt], checking its
// structure only: one JSON object of the known fields in canonical form
// (what SignReceipt writes, byte for byte), version 2, a canonical valid
// event, a signature, 1 to 4 certificates that parse, and evidence within
// [MaxEvidenceBytes]. It does not verify the signature ([VerifyReceipt]
// and [Receipt.Verify] do). Errors are *problem.Error of kind Invalid
// naming the bad field and wrapping [ErrMalformedReceipt] (or
// [ErrInvalidEvent] for the event).
func ParseReceipt(data []byte) (*Receipt, error) {
	r, _, err := parseReceipt(data)
	if err != nil {
		return nil, fmt.Errorf("audit: parse receipt: %w", err)
	}
	return r, nil
}

// parseReceipt is ParseReceipt; on failure, the receipt it returns holds
// the claimed event when that much could be read (for the refusal's
// record), and unsigned tells a receipt without signature or chain.
func parseReceipt(data []byte) (r *Receipt, unsigned bool, err error) {
	if len(data) > MaxReceiptBytes {
		return nil, false, malformed("receipt", "receipt is %d bytes, the limit is %d", len(data), MaxReceiptBytes)
	}
	var w wireReceipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, false, malformed("receipt", "receipt is not a JSON object of the known fields")
	}
	if w.V != receiptVersion {
		return nil, false, malformed("v", "unknown receipt version %d (want %d)", w.V, receiptVersion)
	}
	e, err := unmarshal(w.Event)
	if err != nil {
		return nil, false, err
	}
	r = &Receipt{Event: e, Evidence: Evidence{Header: w.Header, Forward: w.Forward}, Signature: w.Sig, Chain: w.Chain, event: w.Event}
	switch {
	case len(w.Sig) == 0:
		return r, true, malformed("sig", "receipt is not signed")
	case len(w.Chain) == 0:
		return r, true, malformed("chain", "receipt carries no certificate")
	case len(w.Chain) > maxReceiptChain:
		return r, false, malformed("chain", "receipt carries %d certificates, at most %d", len(w.Chain), maxReceiptChain)
	case len(w.Header) > MaxEvidenceBytes:
		return r, false, malformed("header", "header attestation is %d bytes, the limit is %d", len(w.Header), MaxEvidenceBytes)
	case len(w.Forward) > MaxEvidenceBytes:
		return r, false, malformed("forward", "forward statement is %d bytes, the limit is %d", len(w.Forward), MaxEvidenceBytes)
	}
	for i, der := range w.Chain {
		if _, err := x509.ParseCertificate(der); err != nil {
			return r, false, malformed("chain", "certificate %d does not parse", i)
		}
	}
	again, err := encodeJSON(w)
	if err != nil || !bytes.Equal(again, data) {
		return r, false, malformed("receipt", "receipt encoding is not canonical")
	}
	return r, false, nil
}

// Marshal returns the receipt's canonical encoding, the bytes
// [ParseReceipt] read (and the log's leaf).
func (r *Receipt) Marshal() ([]byte, error) {
	ev := r.event
	if ev == nil {
		var err error
		if ev, err = MarshalEvent(r.Event); err != nil {
			return nil, fmt.Errorf("audit: marshal receipt: %w", err)
		}
	}
	b, err := encodeJSON(wireReceipt{Chain: r.Chain, Event: ev, Forward: r.Forward, Header: r.Header, Sig: r.Signature, V: receiptVersion})
	if err != nil {
		return nil, fmt.Errorf("audit: marshal receipt: %w", err)
	}
	return b, nil
}

// ReceiptError says why a receipt was refused: Rule is the refusal's rule
// id, Event the event it claimed (zero if it could not be read) and Signer
// the verified signer (zero if the chain did not verify).
type ReceiptError struct {
	Rule   string
	Event  Event
	Signer spiffeid.ID
	Err    error
}

// Error returns the rule and the cause, for logs (never shown to a person).
func (e *ReceiptError) Error() string { return e.Rule + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ReceiptError) Unwrap() error { return e.Err }

// VerifyReceipt checks a receipt that a node of scope (a state code, "" for
// the secretariat) published at the time published, and returns it with
// its Signer set. In order:
//
//  1. it parses as a canonical receipt ([ParseReceipt]): receipt.malformed,
//     or receipt.unsigned for one without signature or chain
//  2. the chain verifies against bundle at published: receipt.chain
//  3. the leaf's key signed event and evidence: receipt.signature
//  4. the leaf is the node of scope: receipt.signer
//  5. that node may report this event: receipt.signer / receipt.actor
//
// What the evidence says — whether the origin released the bulletin to the
// reporting state, and with which precedence and times — is checked when
// the log takes the receipt ([Log.Submit]), against the header it holds.
//
// The chain is checked when the backbone stored the receipt (the server's
// timestamp), not now and not at the event's claimed time: a node signs a
// receipt as it publishes it, with its current SVID, and the secretariat
// may read it from the backbone long after that SVID expired.
func VerifyReceipt(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope string, published time.Time) (*Receipt, error) {
	return verifyReceipt(data, bundle, td, scope, published, nil)
}

// verifyReceipt is VerifyReceipt with the chain verified through cache
// (nil: none).
func verifyReceipt(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope string, published time.Time, cache *ChainCache) (*Receipt, error) {
	r, unsigned, err := parseReceipt(data)
	if err != nil {
		re := &ReceiptError{Rule: "receipt.malformed", Err: err}
		if unsigned {
			re.Rule = "receipt.unsigned"
		}
		if r != nil {
			re.Event = r.Event
		}
		return nil, re
	}
	id, rule, err := r.verify(bundle, published, cache)
	if err == nil {
		rule, err = checkReporter(td, id, scope, &r.Event)
	}
	if err != nil {
		return nil, &ReceiptError{Rule: rule, Event: r.Event, Signer: id, Err: err}
	}
	r.Signer = id
	return r, nil
}

// Verify checks, offline, that the receipt's chain verifies against bundle
// at time at, that its leaf signed the event and evidence, and that the
// signer may report the event (for a state's node, about its own state;
// for the secretariat's node, the log's own refusals and escalations). It
// sets and returns the Signer. Errors are [*ReceiptError] with the rule of
// [VerifyReceipt].
func (r *Receipt) Verify(bundle x509bundle.Source, td spiffeid.TrustDomain, at time.Time) (spiffeid.ID, error) {
	id, rule, err := r.verify(bundle, at, nil)
	if err == nil {
		var p identity.Principal
		if p, err = identity.Parse(td, id); err != nil {
			rule = "receipt.signer"
		} else {
			rule, err = checkReporter(td, id, p.State, &r.Event)
		}
	}
	if err != nil {
		return spiffeid.ID{}, &ReceiptError{Rule: rule, Event: r.Event, Signer: id, Err: err}
	}
	r.Signer = id
	return id, nil
}

// verify checks chain (through cache, if not nil) and signature; on
// failure it returns the rule.
func (r *Receipt) verify(bundle x509bundle.Source, at time.Time, cache *ChainCache) (spiffeid.ID, string, error) {
	id, leaf, rule, err := verifyChain(r.Chain, bundle, at, cache)
	if err != nil {
		return spiffeid.ID{}, rule, err
	}
	ev := r.event
	if ev == nil {
		if ev, err = MarshalEvent(r.Event); err != nil {
			return spiffeid.ID{}, "receipt.malformed", err
		}
	}
	if !identity.VerifySVIDSignature(leaf.PublicKey, signedMessage(ev, r.Evidence), r.Signature) {
		return spiffeid.ID{}, "receipt.signature", errors.New("signature does not verify")
	}
	return id, "", nil
}

// LeafCertificate returns the receipt's signing certificate, or nil if
// the chain is empty or does not parse.
func (r *Receipt) LeafCertificate() *x509.Certificate {
	if len(r.Chain) == 0 {
		return nil
	}
	c, err := x509.ParseCertificate(r.Chain[0])
	if err != nil {
		return nil
	}
	return c
}
