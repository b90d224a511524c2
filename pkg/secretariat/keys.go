package secretariat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// keyCacheTTL bounds how long a verified directory entry is used before it
// is read again.
const keyCacheTTL = 30 * time.Second

// keyCache keeps the verified directory entries of the states' nodes.
type keyCache struct {
	mu      sync.Mutex
	m       map[string]cachedKey
	keptSeq map[string]uint64 // sequence of the entry whose keys were last kept
}

type cachedKey struct {
	entry   seal.DirectoryEntry
	fetched time.Time
}

// errDirectory marks a signing key that could not be looked up for now
// (the directory could not be read, or its entry does not verify now):
// not a verdict on the evidence, which is offered again later.
var errDirectory = errors.New("directory not readable")

// errKeyGone marks a signing key its state's directory entry does not
// publish (any more): a verdict, unless what it signed is what the log
// already holds (retired.go).
var errKeyGone = errors.New("signing key not published")

// signKey returns the signing key keyID of state's node, current or
// retired (with its retirement time), from its directory entry on the
// backbone, verified against the trust bundle. An entry that does not
// publish that key, or no entry at all, is a verdict
// ([audit.ErrAttestation]); a directory that cannot be read, or an entry
// that does not verify now, wraps errDirectory: the receipt is offered
// again.
func (n *Node) signKey(ctx context.Context, state, keyID string) (seal.SignerKey, error) {
	now := n.now()
	n.audit.keys.mu.Lock()
	c, ok := n.audit.keys.m[state]
	n.audit.keys.mu.Unlock()
	if _, has := c.entry.SignKey(keyID); !ok || now.Sub(c.fetched) >= keyCacheTTL || !has {
		data, err := n.bb.DirectoryEntry(ctx, state)
		switch {
		case errors.Is(err, backbone.ErrNoEntry):
			return seal.SignerKey{}, fmt.Errorf("%w: %s has published no keys", audit.ErrAttestation, state)
		case err != nil:
			return seal.SignerKey{}, fmt.Errorf("%w: %w", errDirectory, err)
		}
		e, err := seal.VerifyEntryOf(data, n.cfg.Bundle, n.cfg.TrustDomain, state, now)
		switch {
		case errors.Is(err, seal.ErrEntryState):
			return seal.SignerKey{}, fmt.Errorf("%w: %w", audit.ErrAttestation, err)
		case err != nil:
			return seal.SignerKey{}, fmt.Errorf("%w: entry of %s: %w", errDirectory, state, err)
		}
		c = cachedKey{entry: e, fetched: now}
		n.audit.keys.mu.Lock()
		if n.audit.keys.m == nil {
			n.audit.keys.m = map[string]cachedKey{}
		}
		n.audit.keys.m[state] = c
		n.audit.keys.mu.Unlock()
	}
	n.keepSignKeys(ctx, c.entry)
	return n.keptOrListed(ctx, c.entry, keyID)
}

// Signing keys kept (as a state node keeps them, package statenode):
// every key verified in a state's directory entry is kept in
// signkeys.db with its retirement time and compromised flag, only ever
// tightened (store.KeepSignKeys). A key the entry no longer lists (more
// than seal.MaxRetiredSignKeys rotations since) verifies against the kept
// one, retired at the latest when the oldest key the entry lists was; a
// listed key takes the stricter of entry and kept key. So a recipient's
// receipts carrying evidence signed by a withdrawn key are taken on their
// merits, not only when the log holds what they carry (retired.go).

// keepSignKeys keeps the signing keys e lists, once per entry sequence
// per state; a failure is logged and tried again at the next lookup.
func (n *Node) keepSignKeys(ctx context.Context, e seal.DirectoryEntry) {
	n.audit.keys.mu.Lock()
	seq, done := n.audit.keys.keptSeq[e.State]
	done = done && seq == e.Sequence
	n.audit.keys.mu.Unlock()
	if done || n.audit.kept == nil {
		return
	}
	keys := []store.SignKey{{State: e.State, KeyID: e.SignKeyID, Public: e.SignPublic, Sequence: e.Sequence}}
	for _, r := range e.RetiredSign {
		keys = append(keys, store.SignKey{State: e.State, KeyID: r.KeyID, Public: r.Public, RetiredAt: r.RetiredAt,
			Compromised: r.Compromised, Sequence: e.Sequence})
	}
	if err := n.audit.kept.Keep(ctx, keys); err != nil {
		n.log.Error("signing keys of a directory entry not kept", "state", e.State, "sequence", e.Sequence, "err", err)
		return
	}
	if err := n.audit.kept.Compromise(ctx, e.State, e.CompromisedSign); err != nil {
		n.log.Error("compromised signing keys of a directory entry not marked", "state", e.State, "sequence", e.Sequence, "err", err)
		return
	}
	n.audit.keys.mu.Lock()
	if n.audit.keys.keptSeq == nil {
		n.audit.keys.keptSeq = map[string]uint64{}
	}
	n.audit.keys.keptSeq[e.State] = e.Sequence
	n.audit.keys.mu.Unlock()
}

// keptOrListed is the key keyID of e's state as e lists it, tightened by
// the kept one; or the kept one if e no longer lists it; else errKeyGone.
func (n *Node) keptOrListed(ctx context.Context, e seal.DirectoryEntry, keyID string) (seal.SignerKey, error) {
	k, listed := e.SignKey(keyID)
	var kept store.SignKey
	found := false
	if n.audit.kept != nil {
		var err error
		if kept, found, err = n.audit.kept.Kept(ctx, e.State, keyID); err != nil {
			return seal.SignerKey{}, fmt.Errorf("%w: kept signing key %s of %s: %w", errDirectory, keyID, e.State, err)
		}
	}
	switch {
	case listed && found:
		return tighten(k, kept), nil
	case listed:
		return k, nil
	case !found || len(e.RetiredSign) == 0:
		return seal.SignerKey{}, fmt.Errorf("%w: %w: %s is not a signing key of %s, current or retired", audit.ErrAttestation, errKeyGone, keyID, e.State)
	}
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
