package statenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
)

// sealFor seals b, a message of this node's own (a bulletin, a revision,
// a revocation, a reply, a consent), for recipients under the node's own
// signature, its kind, revision, subkind and reference in the signed
// header. Each recipient is sent its own copy ([marshalCopies]).
func (n *Node) sealFor(ctx context.Context, b *bulletin.Bulletin, recipients []string) (*seal.Sealed, error) {
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(bulletinToProto(forRecipients(b)))
	if err != nil {
		return nil, fmt.Errorf("encode bulletin: %w", err)
	}
	found := n.entriesOf(ctx, recipients)
	keys := make([]seal.PublicKeys, 0, len(recipients))
	var missing []string
	for i, r := range recipients {
		e, err := found[i].entry, found[i].err
		switch {
		case errors.Is(err, backbone.ErrNoEntry):
			missing = append(missing, r)
			continue
		case err != nil:
			return nil, problem.Unavailable(err, "bulletin not sealed: the keys of %s could not be read; post again later", r)
		}
		keys = append(keys, e.PublicKeys())
	}
	if len(missing) > 0 {
		return nil, problem.Unavailable(nil, "bulletin not sealed: no node of %s has published its keys yet; release to states whose nodes have joined", strings.Join(missing, ","))
	}
	svid, err := n.cfg.SVID.GetX509SVID()
	if err != nil {
		return nil, err
	}
	ref := b.Ref()
	version := 0 // seal's default
	if b.ConfidentialAudience {
		version = seal.Version5
	}
	return seal.Seal(seal.Header{
		Version: version, ID: b.ID, Origin: n.self.State, Signer: svid.ID.String(),
		Precedence: int32(b.Precedence), Marking: int32(b.Marking), Recipients: recipients,
		CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
		Kind: seal.Kind(b.Kind()), Revision: uint32(b.RevisionNumber()), Subkind: uint8(b.Subkind()),
		Ref: seal.Ref{Origin: ref.Origin, ID: ref.ID},
	}, pt, keys, n.keys.current())
}

// marshalCopies encodes the copy of s for each of its recipients, in the
// order of s.Recipients: its own wrapped key and the hashes of the
// others', all covered by the signature.
func marshalCopies(s *seal.Sealed) ([][]byte, error) {
	cs, err := s.Copies()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(cs))
	for i, c := range cs {
		if out[i], err = c.Marshal(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// opened is a copy from the inbox, verified and decrypted.
type opened struct {
	bulletin bulletin.Bulletin
	// forwardedBy is the state whose forward this copy is; "" for the
	// origin's own copy.
	forwardedBy string
	// forwardedAt is when the forwarder's signed statement says it
	// forwarded the copy; zero for the origin's own copy.
	forwardedAt time.Time
	// evidence is what the delivered receipt carries: the origin's header
	// attestation and, for a forward, the forwarder's.
	evidence audit.Evidence
}

// openCopy verifies and opens copy m from the inbox: the origin's sealed
// bulletin, published by the origin, or a forward of it, published by
// the forwarder ([seal.IsForwarded]). Any error means the copy is not
// shown now; receive decides whether for good (receive.go).
func (n *Node) openCopy(ctx context.Context, m backbone.Msg) (opened, error) {
	if seal.IsForwarded(m.Data) {
		return n.openForward(ctx, m)
	}
	s, err := seal.Unmarshal(m.Data)
	if err != nil {
		return opened{}, err
	}
	if s.Origin != m.Origin {
		// Only its origin publishes a sealed bulletin; another state
		// shares one through a forward.
		return opened{}, fmt.Errorf("%w: copy published by %s but sealed by %s", errPublisher, m.Origin, s.Origin)
	}
	pt, err := seal.Open(s, n.self.State, n.keys.snapshot(), n.signerLookup(ctx), n.sealPolicy(), n.now())
	if err != nil {
		return opened{}, err
	}
	b, err := decodeSealed(pt, &s.Header)
	if err != nil {
		return opened{}, err
	}
	att, err := attestation(s)
	if err != nil {
		return opened{}, err
	}
	return opened{bulletin: b, evidence: audit.Evidence{Header: att}}, nil
}

// openForward verifies and opens a forward: the origin's signature and the
// forwarder's statement ([seal.OpenForwarded]); the forwarder is the state
// that published it.
func (n *Node) openForward(ctx context.Context, m backbone.Msg) (opened, error) {
	f, err := seal.UnmarshalForwarded(m.Data)
	if err != nil {
		return opened{}, err
	}
	if f.Statement.Forwarder != m.Origin {
		return opened{}, fmt.Errorf("%w: forward published by %s but signed by %s", errPublisher, m.Origin, f.Statement.Forwarder)
	}
	pt, err := seal.OpenForwarded(f, n.self.State, n.keys.snapshot(), n.signerLookup(ctx), n.sealPolicy(), n.now())
	if err != nil {
		return opened{}, err
	}
	b, err := decodeSealed(pt, &f.Sealed.Header)
	if err != nil {
		return opened{}, err
	}
	ev, err := forwardAttestations(f)
	if err != nil {
		return opened{}, err
	}
	return opened{bulletin: b, forwardedBy: f.Statement.Forwarder, forwardedAt: f.Statement.At, evidence: ev}, nil
}

// decodeSealed decodes the bulletin in plaintext pt and binds it to the
// authenticated header h: routing and audit facts agree with content.
func decodeSealed(pt []byte, h *seal.Header) (bulletin.Bulletin, error) {
	var p iantv1.Bulletin
	if err := proto.Unmarshal(pt, &p); err != nil {
		return bulletin.Bulletin{}, fmt.Errorf("%w: decode sealed bulletin: %v", errContent, err)
	}
	b, err := bulletinFromProto(&p)
	if err != nil {
		return bulletin.Bulletin{}, fmt.Errorf("%w: %w", errContent, err)
	}
	if err := h.Bind(&b); err != nil {
		return bulletin.Bulletin{}, err
	}
	if h.IsConfidential() {
		// The content names no recipient; the copy names this node's
		// state alone (seal checked that the origin addressed it), and
		// this node sees it as released to it by name: the origin's node
		// decided the release of the audience it alone knows.
		b.Recipients = slices.Clone(h.Recipients)
		b.Releasability = bulletin.Releasability{States: slices.Clone(h.Recipients)}
	}
	return b, nil
}

// sealPolicy is what this node opens: the default suites and versions,
// signers of its trust domain.
func (n *Node) sealPolicy() seal.Policy { return seal.Policy{TrustDomain: n.cfg.TrustDomain} }

// signerLookup vouches for signing keys from the verified directory
// entries of their states, current or retired. Its errors say why it
// could not (receive.go classifies them): errNotPublished when the
// state's verified entry does not publish the key (a verdict: the state
// says it is not its key), errDirectory when the directory could not be
// read (the backbone did not answer, the node is closing), and an
// *unvouchedError for any other answer: no entry for the state, or one
// that does not verify now. Whatever the directory holds, published by
// whichever state, is thus never taken for a failure to read it: a copy
// waiting for it is parked, not redelivered. A state vouched for wakes
// the parked copies waiting for its entry (park.go).
func (n *Node) signerLookup(ctx context.Context) seal.SignerLookup {
	return func(state, keyID string) (seal.SignerKey, error) {
		e, err := n.entryOf(ctx, state, keyID)
		switch {
		case err != nil && (errors.Is(err, backbone.ErrUnreachable) || stopping(ctx, err)):
			return seal.SignerKey{}, fmt.Errorf("%w: %s: %w", errDirectory, state, err)
		case err != nil:
			return seal.SignerKey{}, &unvouchedError{state: state, err: err}
		}
		n.entrySeen(state)
		return n.signKeyOf(ctx, e, keyID)
	}
}

// unvouchedError is errUnvouched for state: the directory holds no entry
// of state, or one that does not verify now (err).
type unvouchedError struct {
	state string
	err   error
}

func (e *unvouchedError) Error() string {
	return fmt.Sprintf("%v: %s: %v", errUnvouched, e.state, e.err)
}

// Is makes an *unvouchedError match errUnvouched.
func (e *unvouchedError) Is(target error) bool { return target == errUnvouched }
