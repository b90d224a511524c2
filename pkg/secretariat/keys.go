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
		e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, now)
		if err != nil {
			return seal.SignerKey{}, fmt.Errorf("%w: entry of %s: %w", errDirectory, state, err)
		}
		if e.State != state {
			return seal.SignerKey{}, fmt.Errorf("%w: directory entry under %s is for %s", audit.ErrAttestation, state, e.State)
		}
		c = cachedKey{entry: e, fetched: now}
		n.audit.keys.mu.Lock()
		if n.audit.keys.m == nil {
			n.audit.keys.m = map[string]cachedKey{}
		}
		n.audit.keys.m[state] = c
		n.audit.keys.mu.Unlock()
	}
	k, ok := c.entry.SignKey(keyID)
	if !ok {
		return seal.SignerKey{}, fmt.Errorf("%w: %w: %s is not a signing key of %s, current or retired", audit.ErrAttestation, errKeyGone, keyID, state)
	}
	return k, nil
}
