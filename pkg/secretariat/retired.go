package secretariat

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Evidence of what the log already holds, signed by a key withdrawn since.
//
// A node publishes a key's retirement time in its directory entry, and
// nothing stops it from naming a time before signatures it made and
// that the log has taken, or from leaving the key out of its entry (nine
// rotations push it past seal.MaxRetiredSignKeys): an origin disowning a
// bulletin it sent, a forwarder a forward it made. The receipts its
// recipients send later carry those signatures (a forwarded recipient's
// read and acknowledged receipts carry the origin's header and the
// forward) and would then be refused (receipt.header, receipt.forward):
// a state could strike another's reports after the fact. So a signature
// that fails only because its key is now said to have been retired
// before it signed (seal.ErrKeyRetired), or is no longer published
// (errKeyGone), is taken when what it signed is what the log already
// holds — the header of that bulletin, or the forward that made that
// recipient a holder — and, if the key is still published, it verifies
// without the retirement time. The log verified those when it took them,
// under the keys then published; the facts the receipt is judged by are
// the log's, not the attestation's.

// withdrawn reports whether err, a failure to verify an attestation, is
// only that its signing key was withdrawn since: retired before it
// signed, or no longer published, or compromised since: what the log
// took before the compromise was announced stays taken, nothing else
// signed by that key is.
func withdrawn(err error) bool {
	return errors.Is(err, seal.ErrKeyRetired) || errors.Is(err, errKeyGone) || errors.Is(err, seal.ErrKeyCompromised)
}

// verifyWithdrawn verifies with the keys its signers' states still
// publish (or that were kept), without retirement times nor compromise: nil if it holds, or if a key is no
// longer published; else why not.
func (n *Node) verifyWithdrawn(ctx context.Context, verify func(seal.SignerLookup, seal.Policy) error) error {
	if err := verify(n.unretiredLookup(ctx), n.policy()); err != nil && !errors.Is(err, errKeyGone) {
		return err
	}
	return nil
}

// heldHeader returns what header attestation a, whose verification
// failed with err (withdrawn), says if the log holds that very header and
// verifyWithdrawn takes it. Else it returns err, a verdict.
func (n *Node) heldHeader(ctx context.Context, a *seal.Attestation, err error) (audit.SignedHeader, error) {
	held, ok, herr := n.audit.log.Header(ctx, a.Header.Origin, a.Header.ID)
	switch {
	case herr != nil:
		return audit.SignedHeader{}, herr
	case !ok:
		return audit.SignedHeader{}, verdict(err)
	}
	if verr := n.verifyWithdrawn(ctx, a.Verify); verr != nil {
		return audit.SignedHeader{}, verdict(errors.Join(err, verr))
	}
	h, serr := signedHeader(&a.Header)
	if serr != nil || !sameHeader(&h, &held) {
		return audit.SignedHeader{}, verdict(err)
	}
	n.log.Warn("header signed by a key withdrawn since taken: the log holds it", "origin", h.Origin, "bulletin_id", h.ID)
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
	if verr := n.verifyWithdrawn(ctx, f.Verify); verr != nil {
		return verdict(errors.Join(err, verr))
	}
	n.log.Warn("forward signed by a key withdrawn since taken: the log holds it", "origin", h.Origin, "bulletin_id", h.ID,
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
