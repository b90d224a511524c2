package statenode

import (
	"context"
	"errors"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Directory entries pushed. A state's new entry — a signing key retired,
// or marked compromised — must reach every node at once: a node that
// went on using its cached entry would, for up to entryCacheTTL, take a
// thief's forgeries dated before the retirement. So the node hears each
// entry as it is published on the backbone (backbone.WatchDirectory) and
// replaces its cached entry of that state with it, once it verified as
// any fetched entry does (signed by that state's node, valid now) and is
// newer than the one accepted before (acceptEntry: a replayed older entry
// is refused and logged). The push is at most once; the periodic
// refetch (entryCacheTTL) stays as the fallback for an entry published
// while the connection was down.

// watchDirectory applies the entries published on the backbone until
// ctx ends.
func (n *Node) watchDirectory(ctx context.Context) {
	err := n.bb.WatchDirectory(ctx, func(state string, data []byte) {
		if state == n.self.State {
			return
		}
		if err := n.takePushedEntry(ctx, state, data); err != nil && !errors.Is(err, errReplayed) && ctx.Err() == nil {
			n.log.Warn("directory entry pushed refused", "state", state, "err", err)
		}
	})
	if err != nil && !errors.Is(err, backbone.ErrClosed) {
		n.log.Error("directory watcher stopped", "err", err)
	}
}

// takePushedEntry verifies entry data of state and, if it is newer than
// the one accepted before, makes it the cached entry of state.
func (n *Node) takePushedEntry(ctx context.Context, state string, data []byte) error {
	now := n.now()
	e, err := seal.VerifyEntryOf(data, n.cfg.Bundle, n.cfg.TrustDomain, state, now)
	if err != nil {
		return err
	}
	if e, err = n.acceptEntry(ctx, state, e, data, now); err != nil {
		return err
	}
	n.cacheEntry(state, e, now)
	n.log.Debug("directory entry pushed taken", "state", state, "sequence", e.Sequence, "sign_key", e.SignKeyID)
	return nil
}

// cacheEntry makes e, verified at now, the cached entry of state, unless
// the one cached is newer and still valid: a fetch that raced a push
// does not put back the entry the push replaced.
func (n *Node) cacheEntry(state string, e seal.DirectoryEntry, now time.Time) {
	n.dir.mu.Lock()
	defer n.dir.mu.Unlock()
	if c, ok := n.dir.m[state]; ok && c.entry.Sequence > e.Sequence && now.Before(c.entry.NotAfter) {
		return
	}
	if n.dir.m == nil {
		n.dir.m = map[string]cachedEntry{}
	}
	n.dir.m[state] = cachedEntry{entry: e, fetched: now}
}
