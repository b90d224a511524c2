package secretariat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
)

// keyCacheTTL bounds how long a verified directory entry is used before it
// is read again.
const keyCacheTTL = 30 * time.Second

// keyCache keeps the verified directory entries of the states' nodes.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	entry   seal.DirectoryEntry
	fetched time.Time
}

// signKey returns the signing key keyID of state's node, from its
// directory entry on the backbone, verified against the trust bundle (the
// lookup of [attest.Verifiers]). An entry that does not hold that key is a
// verdict ([audit.ErrAttestation]); a directory that cannot be read, or an
// entry that does not verify now, is not: the receipt is offered again.
func (n *Node) signKey(ctx context.Context, state, keyID string) (ed25519.PublicKey, error) {
	now := n.now()
	n.audit.keys.mu.Lock()
	c, ok := n.audit.keys.m[state]
	n.audit.keys.mu.Unlock()
	if !ok || now.Sub(c.fetched) >= keyCacheTTL || c.entry.SignKeyID != keyID {
		data, err := n.bb.DirectoryEntry(ctx, state)
		switch {
		case errors.Is(err, backbone.ErrNoEntry):
			return nil, fmt.Errorf("%w: %s has published no keys", audit.ErrAttestation, state)
		case err != nil:
			return nil, err
		}
		e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, now)
		if err != nil {
			return nil, fmt.Errorf("directory entry of %s: %w", state, err)
		}
		if e.State != state {
			return nil, fmt.Errorf("%w: directory entry under %s is for %s", audit.ErrAttestation, state, e.State)
		}
		c = cachedKey{entry: e, fetched: now}
		n.audit.keys.mu.Lock()
		if n.audit.keys.m == nil {
			n.audit.keys.m = map[string]cachedKey{}
		}
		n.audit.keys.m[state] = c
		n.audit.keys.mu.Unlock()
	}
	if c.entry.SignKeyID != keyID {
		return nil, fmt.Errorf("%w: %s is not the signing key of %s", audit.ErrAttestation, keyID, state)
	}
	return ed25519.PublicKey(c.entry.SignPublic), nil
}
