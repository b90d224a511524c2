package statenode

import (
	"context"
	"fmt"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Signing keys kept. A state's directory entry lists its node's current
// signing key and at most seal.MaxRetiredSignKeys retired ones: after
// more rotations, the oldest drop out, and a copy they signed before
// their retirement — still in flight, parked, or replayed by a rebuild —
// would find no key. So the node keeps, in node.db, every signing key it
// verified in an accepted entry (with its retirement time and whether it
// is compromised), and verifies a signature by a key the entry no longer
// lists against the kept one. A kept key only tightens (store.KeepSignKeys):
// a compromised key stays so, and a retirement time moves only earlier,
// by a later entry; the lookup takes the stricter of what the entry and
// the kept key say.

// keepSignKeys keeps the signing keys entry e lists, once per entry
// sequence per state. The caller holds dir.acceptMu. A failure is logged:
// the entry is used all the same, and its keys kept at the next fetch.
func (n *Node) keepSignKeys(ctx context.Context, e seal.DirectoryEntry) {
	if seq, ok := n.dir.keptSeq[e.State]; ok && seq == e.Sequence {
		return
	}
	keys := []store.SignKey{{State: e.State, KeyID: e.SignKeyID, Public: e.SignPublic, Sequence: e.Sequence}}
	for _, r := range e.RetiredSign {
		keys = append(keys, store.SignKey{State: e.State, KeyID: r.KeyID, Public: r.Public, RetiredAt: r.RetiredAt,
			Compromised: r.Compromised, Sequence: e.Sequence})
	}
	if err := n.store.KeepSignKeys(ctx, keys); err != nil {
		n.log.Error("signing keys of a directory entry not kept", "state", e.State, "sequence", e.Sequence, "err", err)
		return
	}
	// Keys the entry names compromised beyond its retired ones: those
	// kept from older entries verify nothing from now on.
	if err := n.store.CompromiseSignKeys(ctx, e.State, e.CompromisedSign); err != nil {
		n.log.Error("compromised signing keys of a directory entry not marked", "state", e.State, "sequence", e.Sequence, "err", err)
		return
	}
	// What the keys it declares compromised signed is withdrawn; on a
	// failure, the entry is taken up again at its next use.
	if !n.withdrawSignedBy(ctx, e.State, compromisedIn(e)) {
		return
	}
	if n.dir.keptSeq == nil {
		n.dir.keptSeq = map[string]uint64{}
	}
	n.dir.keptSeq[e.State] = e.Sequence
}

// signKeyOf returns the signing key keyID of e's state: as e lists it
// (named compromised, beyond its retired keys, included), tightened by
// the kept key; or, if e no longer lists it, the kept key,
// retired at the latest when the oldest key e lists as retired was. A
// key neither lists nor kept is errNotPublished; a store failure
// errDirectory (tried again).
func (n *Node) signKeyOf(ctx context.Context, e seal.DirectoryEntry, keyID string) (seal.SignerKey, error) {
	k, listed := e.SignKey(keyID)
	kept, found, err := n.store.KeptSignKey(ctx, e.State, keyID)
	switch {
	case err != nil:
		return seal.SignerKey{}, fmt.Errorf("%w: kept signing key %s of %s: %w", errDirectory, keyID, e.State, err)
	case listed && found:
		return tighten(k, kept), nil
	case listed:
		return k, nil
	case !found || len(e.RetiredSign) == 0:
		return seal.SignerKey{}, fmt.Errorf("%w: signing key %s is not published by %s", errNotPublished, keyID, e.State)
	}
	// Dropped from the entry: retired before the oldest key it lists.
	k = seal.SignerKey{Public: kept.Public, RetiredAt: e.RetiredSign[len(e.RetiredSign)-1].RetiredAt}
	return tighten(k, kept), nil
}

// tighten is k restricted by what kept says: compromised if either is,
// retired at the earlier of their retirement times; a key the entry
// names compromised without its public key takes the kept one.
func tighten(k seal.SignerKey, kept store.SignKey) seal.SignerKey {
	if len(k.Public) == 0 {
		k.Public = kept.Public
	}
	k.Compromised = k.Compromised || kept.Compromised
	if !kept.RetiredAt.IsZero() && (k.RetiredAt.IsZero() || kept.RetiredAt.Before(k.RetiredAt)) {
		k.RetiredAt = kept.RetiredAt
	}
	return k
}
