package secretariat

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

// The evidence receipts carry is pkg/seal's: an origin's header
// attestation ([seal.Attestation]) and a forwarder's attestation
// ([seal.ForwardAttestation]), verified here against the directory's
// signing keys (signKey), current or retired, for the audit's
// [audit.HeaderVerifier] and [audit.ForwardVerifier].

// verifiers returns the audit's verifiers of seal attestations.
func (n *Node) verifiers() audit.Verifiers {
	return audit.Verifiers{Header: n.verifyHeader, Forward: n.verifyForward}
}

// lookupFor is the seal.SignerLookup of signKey under ctx.
func (n *Node) lookupFor(ctx context.Context) seal.SignerLookup {
	return func(state, keyID string) (seal.SignerKey, error) { return n.signKey(ctx, state, keyID) }
}

// policy is the seal policy attestations are verified under: the
// default suites and versions, signers of the network's trust domain.
func (n *Node) policy() seal.Policy { return seal.Policy{TrustDomain: n.cfg.TrustDomain} }

// verdict returns err wrapping audit.ErrAttestation, unless it is a
// temporary failure of the directory, which it returns as it is.
func verdict(err error) error {
	if errors.Is(err, errDirectory) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", audit.ErrAttestation, err)
}

// verifyHeader verifies a header attestation and returns what the origin
// signed.
func (n *Node) verifyHeader(ctx context.Context, att []byte) (audit.SignedHeader, error) {
	a, err := seal.UnmarshalAttestation(att)
	if err != nil {
		return audit.SignedHeader{}, verdict(err)
	}
	if err := a.Verify(n.lookupFor(ctx), n.policy()); withdrawn(err) {
		return n.heldHeader(ctx, a, err)
	} else if err != nil {
		return audit.SignedHeader{}, verdict(err)
	}
	return signedHeader(&a.Header)
}

// verifyForward verifies a forward attestation about the bulletin whose
// verified header is h, and returns what the forwarder signed. The
// attestation's origin header must read as h.
func (n *Node) verifyForward(ctx context.Context, h audit.SignedHeader, att []byte) (audit.SignedForward, error) {
	f, err := seal.UnmarshalForwardAttestation(att)
	if err != nil {
		return audit.SignedForward{}, verdict(err)
	}
	fh, err := signedHeader(&f.Origin.Header)
	if err != nil {
		return audit.SignedForward{}, err
	}
	if err := f.Verify(n.lookupFor(ctx), n.policy()); withdrawn(err) {
		if err := n.heldForward(ctx, fh, f, err); err != nil {
			return audit.SignedForward{}, err
		}
	} else if err != nil {
		return audit.SignedForward{}, verdict(err)
	}
	if !sameHeader(&fh, &h) {
		return audit.SignedForward{}, fmt.Errorf("%w: the forward is of another header of %s/%s than the one signed", audit.ErrAttestation, h.Origin, h.ID)
	}
	st := &f.Statement
	return audit.SignedForward{Origin: st.Origin, ID: st.ID, Forwarder: st.Forwarder, Signer: st.Signer,
		Recipient: st.Recipient, At: st.At.UTC()}, nil
}

// signedHeader is what a verified header says, as the audit reads it.
func signedHeader(sh *seal.Header) (audit.SignedHeader, error) {
	h := audit.SignedHeader{Origin: sh.Origin, ID: sh.ID, Signer: sh.Signer, Precedence: bulletin.Precedence(sh.Precedence),
		CreatedAt: sh.CreatedAt.UTC(), Recipients: slices.Clone(sh.Recipients), Confidential: sh.IsConfidential(),
		Kind: bulletin.Kind(sh.MessageKind()), Revision: int(sh.MessageRevision()), Subkind: int(sh.Subkind),
		Ref: bulletin.Ref{Origin: sh.Ref.Origin, ID: sh.Ref.ID}}
	if !sh.ExpiresAt.IsZero() {
		h.ExpiresAt = sh.ExpiresAt.UTC()
	}
	if err := h.Validate(); err != nil {
		return audit.SignedHeader{}, err
	}
	return h, nil
}

// sameHeader reports whether a and b say the same about one bulletin.
func sameHeader(a, b *audit.SignedHeader) bool {
	ra, rb := slices.Clone(a.Recipients), slices.Clone(b.Recipients)
	slices.Sort(ra)
	slices.Sort(rb)
	return a.Origin == b.Origin && a.ID == b.ID && a.Precedence == b.Precedence && a.Signer == b.Signer &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && slices.Equal(ra, rb) &&
		kindOf(a) == kindOf(b) && max(a.Revision, 1) == max(b.Revision, 1) && a.Subkind == b.Subkind && a.Ref == b.Ref
}

// kindOf is h's kind, a first version's when unset (headers the log held
// before the lifecycle).
func kindOf(h *audit.SignedHeader) bulletin.Kind {
	if h.Kind == bulletin.KindUnspecified {
		return bulletin.KindBulletin
	}
	return h.Kind
}
