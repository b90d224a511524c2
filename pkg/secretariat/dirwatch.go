package secretariat

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Directory entries pushed: as a state node does (statenode, dirwatch.go),
// the secretariat hears each directory entry as it is published and,
// once it verified, replaces its cached entry of that state with it if
// it is newer, so that a signing key marked compromised stops vouching
// for evidence at once rather than when the cached entry expires
// (keyCacheTTL, the fallback).

// watchDirectory applies the entries published on the backbone until
// ctx ends.
func (n *Node) watchDirectory(ctx context.Context) {
	err := n.bb.WatchDirectory(ctx, func(state string, data []byte) {
		if err := n.takePushedEntry(ctx, state, data); err != nil && ctx.Err() == nil {
			n.log.Warn("directory entry pushed refused", "state", state, "err", err)
		}
	})
	if err != nil && !errors.Is(err, backbone.ErrClosed) {
		n.log.Error("directory watcher stopped", "err", err)
	}
}

// takePushedEntry verifies entry data of state and, unless the entry
// cached is newer, caches it and keeps its signing keys.
func (n *Node) takePushedEntry(ctx context.Context, state string, data []byte) error {
	now := n.now()
	e, err := seal.VerifyEntryOf(data, n.cfg.Bundle, n.cfg.TrustDomain, state, now)
	if err != nil {
		return err
	}
	n.audit.keys.mu.Lock()
	c, ok := n.audit.keys.m[state]
	newer := !ok || e.Sequence >= c.entry.Sequence || !now.Before(c.entry.NotAfter)
	if newer {
		if n.audit.keys.m == nil {
			n.audit.keys.m = map[string]cachedKey{}
		}
		n.audit.keys.m[state] = cachedKey{entry: e, fetched: now}
	}
	n.audit.keys.mu.Unlock()
	if !newer {
		return fmt.Errorf("directory entry of %s sequence %d, older than the one held (%d)", state, e.Sequence, c.entry.Sequence)
	}
	n.keepSignKeys(ctx, e)
	return nil
}
