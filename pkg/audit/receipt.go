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
// SVID key makes.
const receiptDomain = "iant/receipt/v1\x00"

// maxReceiptChain bounds the certificates a receipt carries.
const maxReceiptChain = 4

// receipt is a signed audit event as it travels on the backbone:
//
//	{"event": base64(MarshalEvent(e)),
//	 "sig":   base64(signature by the SVID key over receiptDomain ‖ event),
//	 "chain": [base64(DER), ...]}   // the SVID chain, leaf first
//
// ECDSA and RSA-PSS sign the SHA-256 of the message, Ed25519 the message.
type receipt struct {
	Event []byte   `json:"event"`
	Sig   []byte   `json:"sig"`
	Chain [][]byte `json:"chain"`
}

// EventID returns the id of an audit event: the hex SHA-256 of its key
// (kind, bulletin, state, actor) — the same key the log de-duplicates
// appends by — so it is the same for every report of the same event. It is
// the receipt's Nats-Msg-Id, so the backbone stores a receipt sent twice
// once.
func EventID(e Event) string {
	h := sha256.Sum256([]byte(e.key()))
	return hex.EncodeToString(h[:])
}

// SignReceipt signs e with a node's SVID and returns the receipt the
// secretariat verifies: the event's canonical encoding, the SVID key's
// signature over "iant/receipt/v1\x00" ‖ encoding, and the SVID chain.
// It fails for an invalid event or an SVID without key or certificates.
func SignReceipt(e Event, svid *x509svid.SVID) ([]byte, error) {
	ev, err := MarshalEvent(e)
	if err != nil {
		return nil, fmt.Errorf("audit: sign receipt: %w", err)
	}
	b, err := SignEncodedReceipt(ev, svid)
	if err != nil {
		return nil, fmt.Errorf("audit: sign receipt: %w", err)
	}
	return b, nil
}

// SignEncodedReceipt is [SignReceipt] of an event already encoded with
// [MarshalEvent] (as a node's receipt outbox keeps them). It does not
// check the encoding; the secretariat does.
func SignEncodedReceipt(ev []byte, svid *x509svid.SVID) ([]byte, error) {
	switch {
	case svid == nil || len(svid.Certificates) == 0 || svid.PrivateKey == nil:
		return nil, errors.New("SVID without certificate or key")
	case len(svid.Certificates) > maxReceiptChain:
		return nil, fmt.Errorf("chain of %d certificates", len(svid.Certificates))
	}
	sig, err := identity.SignWithSVIDKey(svid.PrivateKey, append([]byte(receiptDomain), ev...))
	if err != nil {
		return nil, err
	}
	r := receipt{Event: ev, Sig: sig}
	for _, c := range svid.Certificates {
		r.Chain = append(r.Chain, c.Raw)
	}
	return json.Marshal(r)
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
// the secretariat) published at the time published, and returns its
// event. In order:
//
//  1. it parses and holds a canonical event: receipt.malformed
//  2. it is signed and carries a chain: receipt.unsigned
//  3. the chain verifies against bundle at published: receipt.chain
//  4. the leaf's key signed it: receipt.signature
//  5. the leaf is the node of scope: receipt.signer
//  6. that node may report this event: receipt.signer / receipt.actor
//
// The chain is checked when the backbone stored the receipt (the server's
// timestamp), not now and not at the event's claimed time: a node signs a
// receipt as it publishes it, with its current SVID, and the secretariat
// may read it from the backbone long after that SVID expired.
func VerifyReceipt(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope string, published time.Time) (Event, error) {
	var r receipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Event{}, &ReceiptError{Rule: "receipt.malformed", Err: err}
	}
	e, err := UnmarshalEvent(r.Event)
	if err != nil {
		return Event{}, &ReceiptError{Rule: "receipt.malformed", Err: err}
	}
	fail := func(rule string, signer spiffeid.ID, err error) (Event, error) {
		return Event{}, &ReceiptError{Rule: rule, Event: e, Signer: signer, Err: err}
	}
	switch {
	case len(r.Sig) == 0 || len(r.Chain) == 0:
		return fail("receipt.unsigned", spiffeid.ID{}, errors.New("no signature or certificate chain"))
	case len(r.Chain) > maxReceiptChain:
		return fail("receipt.malformed", spiffeid.ID{}, fmt.Errorf("chain of %d certificates", len(r.Chain)))
	}
	certs := make([]*x509.Certificate, 0, len(r.Chain))
	for _, der := range r.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fail("receipt.malformed", spiffeid.ID{}, fmt.Errorf("certificate: %w", err))
		}
		certs = append(certs, c)
	}
	id, _, err := x509svid.Verify(certs, bundle, x509svid.WithTime(published))
	if err != nil {
		return fail("receipt.chain", spiffeid.ID{}, err)
	}
	if !identity.VerifySVIDSignature(certs[0].PublicKey, append([]byte(receiptDomain), r.Event...), r.Sig) {
		return fail("receipt.signature", spiffeid.ID{}, errors.New("signature does not verify"))
	}
	if rule, err := checkReporter(td, id, scope, &e); err != nil {
		return fail(rule, id, err)
	}
	return e, nil
}

// checkReporter decides whether the node signer, publishing under scope,
// may report e: a state node reports what happened at its state (posted and
// released as the origin; delivered, read, acknowledged and refused as the
// state), with actors of that state; nobody but the log escalates.
func checkReporter(td spiffeid.TrustDomain, signer spiffeid.ID, scope string, e *Event) (string, error) {
	p, err := identity.Parse(td, signer)
	if err != nil {
		return "receipt.signer", err
	}
	if scope == "" {
		if p.Role != identity.RoleSecretariatNode || e.Kind != EventRefused {
			return "receipt.signer", fmt.Errorf("%s may not report a %s event for the secretariat", p, e.Kind)
		}
		return "", nil
	}
	if p.Role != identity.RoleNode || p.State != scope {
		return "receipt.signer", fmt.Errorf("%s is not the node of %s", p, scope)
	}
	where := e.State
	if e.Kind == EventPosted || e.Kind == EventReleased {
		where = e.Origin
	}
	if e.Kind == EventEscalated || where != scope {
		return "receipt.signer", fmt.Errorf("the node of %s may not report a %s event of %s at %q", scope, e.Kind, e.Origin, where)
	}
	switch e.Kind {
	case EventReleased, EventDelivered:
		if e.Actor != signer.String() {
			return "receipt.actor", fmt.Errorf("%s event by %s signed by %s", e.Kind, e.Actor, signer)
		}
	case EventPosted, EventAcknowledged, EventRead:
		a, err := identity.ParseString(td, e.Actor)
		ok := err == nil && a.State == scope && a.Role.IsPerson()
		if e.Kind != EventRead {
			ok = ok && a.Role == identity.RoleFocalPoint
		}
		if !ok {
			return "receipt.actor", fmt.Errorf("%s cannot be the actor of a %s event at %s", e.Actor, e.Kind, scope)
		}
	}
	return "", nil
}
