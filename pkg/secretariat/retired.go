package secretariat

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Evidence of what the log already holds, signed by a key retired since.
//
// A node publishes a key's retirement time in its directory entry, and
// nothing stops it from naming a time before signatures it made and
// that the log has taken: an origin disowning a bulletin it sent, a
// forwarder a forward it made. The receipts its recipients send later
// carry those signatures (a forwarded recipient's read and acknowledged
// receipts carry the origin's header and the forward) and would then be
// refused (receipt.header, receipt.forward): a state could strike
// another's reports after the fact. So a signature that fails only
// because its key is now said to have been retired before it signed
// (seal.ErrKeyRetired) is taken when the key is still published by its
// state and what it signed is what the log already holds: the header of
// that bulletin, or the forward that made that recipient a holder. The
// log verified those when it took them, under the keys then published.

// heldHeader verifies header attestation a, whose verification failed
// with err (wrapping seal.ErrKeyRetired), with its signer's keys taken
// without their retirement times, and returns what it says if the log
// holds that very header. Else it returns err.
func (n *Node) heldHeader(ctx context.Context, a *seal.Attestation, err error) (audit.SignedHeader, error) {
	held, ok, herr := n.audit.log.Header(ctx, a.Header.Origin, a.Header.ID)
	switch {
	case herr != nil:
		return audit.SignedHeader{}, herr
	case !ok:
		return audit.SignedHeader{}, verdict(err)
	}
	if verr := a.Verify(n.unretiredLookup(ctx), n.policy()); verr != nil {
		return audit.SignedHeader{}, verdict(errors.Join(err, verr))
	}
	h, serr := signedHeader(&a.Header)
	if serr != nil || !sameHeader(&h, &held) {
		return audit.SignedHeader{}, verdict(err)
	}
	n.log.Warn("header signed by a key retired since taken: the log holds it", "origin", h.Origin, "bulletin_id", h.ID)
	return h, nil
}

// heldForward is heldHeader for forward attestation f of the bulletin
// whose header is h: taken if the log holds f's forwarder's forward to
// f's recipient.
func (n *Node) heldForward(ctx context.Context, h audit.SignedHeader, f *seal.ForwardAttestation, err error) error {
	st := &f.Statement
	held, ok, herr := n.audit.log.Header(ctx, h.Origin, h.ID)
	switch {
	case herr != nil:
		return herr
	case !ok || !sameHeader(&h, &held):
		return verdict(err)
	}
	r, rerr := n.audit.log.Report(ctx, h.Origin, h.ID)
	if rerr != nil {
		return rerr
	}
	by := ""
	for _, rs := range r.Recipients {
		if rs.State == st.Recipient {
			by = rs.ForwardedBy
		}
	}
	if by != st.Forwarder {
		return verdict(err)
	}
	if verr := f.Verify(n.unretiredLookup(ctx), n.policy()); verr != nil {
		return verdict(errors.Join(err, verr))
	}
	n.log.Warn("forward signed by a key retired since taken: the log holds it", "origin", h.Origin, "bulletin_id", h.ID,
		"forwarder", st.Forwarder, "recipient", st.Recipient)
	return nil
}

// unretiredLookup is the seal.SignerLookup of signKey under ctx, with
// each key's retirement time left out.
func (n *Node) unretiredLookup(ctx context.Context) seal.SignerLookup {
	return func(state, keyID string) (seal.SignerKey, error) {
		k, err := n.signKey(ctx, state, keyID)
		if err != nil {
			return seal.SignerKey{}, fmt.Errorf("signing key %s of %s: %w", keyID, state, err)
		}
		return seal.SignerKey{Public: k.Public}, nil
	}
}
