package statenode

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
)

// sealFor seals b for recipients under the node's own signature; header
// origin is this node's state (for a forward, the forwarding state). Each
// recipient is sent its own copy ([marshalCopies]).
func (n *Node) sealFor(ctx context.Context, b *bulletin.Bulletin, recipients []string) (*seal.Sealed, error) {
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(bulletinToProto(b))
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
	return seal.Seal(seal.Header{
		ID: b.ID, Origin: n.self.State, Signer: svid.ID.String(),
		Precedence: int32(b.Precedence), Marking: int32(b.Marking), Recipients: recipients,
		CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
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

// openCopy verifies and opens a sealed copy from the inbox. It returns the
// bulletin and the state that signed the copy (the origin, or a
// forwarding state). Any failure means the copy is never shown.
func (n *Node) openCopy(ctx context.Context, data []byte) (bulletin.Bulletin, string, error) {
	s, err := seal.Unmarshal(data)
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	lookup := func(origin, keyID string) (seal.SignerKey, error) {
		e, err := n.entryOf(ctx, origin, keyID)
		if err != nil {
			return seal.SignerKey{}, err
		}
		k, ok := e.SignKey(keyID)
		if !ok {
			return seal.SignerKey{}, fmt.Errorf("signing key %s is not published by %s", keyID, origin)
		}
		return k, nil
	}
	pt, err := seal.Open(s, n.self.State, n.keys.snapshot(), lookup, seal.Policy{TrustDomain: n.cfg.TrustDomain}, n.now())
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	var p iantv1.Bulletin
	if err := proto.Unmarshal(pt, &p); err != nil {
		return bulletin.Bulletin{}, "", fmt.Errorf("decode sealed bulletin: %w", err)
	}
	b, err := bulletinFromProto(&p)
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	h := s.Header
	if s.Origin != b.Origin {
		// A forward as this node still makes it: re-sealed by the
		// forwarder, naming itself as origin and only the target as
		// recipient. TODO(lead): replace with seal.Forward/OpenForwarded,
		// which keep the origin's header and signature.
		h.Origin, h.Recipients = b.Origin, b.Recipients
	}
	if err := h.Bind(&b); err != nil {
		return bulletin.Bulletin{}, "", err
	}
	return b, s.Origin, nil
}
