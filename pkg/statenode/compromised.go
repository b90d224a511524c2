package statenode

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Copies signed by a compromised key. A state whose node was broken into
// retires the signing key the intruder may have taken as compromised
// (Node.RotateSignKeyWith, iantd rotate-sign-key -compromised): whoever
// holds that key can sign a bulletin, or a forward statement, in that
// state's name, dated before the retirement, and a retirement by time
// alone would let it through. So a copy whose origin or forwarder
// signature is by a compromised key is rejected (receive.key_compromised),
// whenever it is dated — unless this node already holds that very
// bulletin (same origin and id, same signed header: the same content),
// received before the compromise was announced: it is then acknowledged
// as the duplicate it is, and nothing changes.

// compromised decides on copy m, whose opening failed with err wrapping
// seal.ErrKeyCompromised.
func (n *Node) compromised(ctx context.Context, m backbone.Msg, err error, reject rejectFunc) decision {
	held, herr := n.holdsSame(ctx, m.Data)
	switch {
	case herr != nil:
		return n.temporary(ctx, m, herr)
	case held:
		n.log.Info("copy signed by a compromised key: the bulletin is held already", "bulletin_id", m.ID,
			"origin", m.Origin)
		return decision{}
	}
	return decision{err: reject(m, "key_compromised", err)}
}

// holdsSame reports whether this node holds the bulletin of copy data
// (sealed or forwarded) with the same signed header: the header hash
// binds origin, id and ciphertext hash.
func (n *Node) holdsSame(ctx context.Context, data []byte) (bool, error) {
	h, err := sealedHeader(data)
	if err != nil {
		return false, nil // not parsable: nothing held can match it
	}
	kept, err := n.store.ReceivedCopy(ctx, h.Origin, h.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("copy held of %s from %s: %w", h.ID, h.Origin, err)
	case len(kept) == 0:
		return false, nil
	}
	kh, err := sealedHeader(kept)
	if err != nil {
		return false, nil
	}
	return kh.Hash() == h.Hash(), nil
}

// sealedHeader returns the origin's signed header of copy data, sealed
// or forwarded.
func sealedHeader(data []byte) (*seal.Header, error) {
	if seal.IsForwarded(data) {
		f, err := seal.UnmarshalForwarded(data)
		if err != nil {
			return nil, err
		}
		return &f.Sealed.Header, nil
	}
	s, err := seal.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	return &s.Header, nil
}
