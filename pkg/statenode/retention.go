package statenode

import (
	"context"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Keys that outlive what they protect, and no longer (docs/operations.md,
// "Retention"). The backbone keeps a copy in the inbox stream for its
// inbox retention; the node keeps a retired KEM key for that long plus
// [KeyRetentionMargin] after its retirement, so that every copy its inbox
// or its replay consumer can still hand it opens, and prunes it then; a
// stolen key file opens nothing the backbone no longer holds. Its
// directory entry lists the last [seal.MaxRetiredSignKeys] retired signing
// keys, so signing keys may not rotate so often that a copy still in the
// inbox was signed by a key no longer listed.

const (
	// KeyRetentionMargin is how much longer than the inbox retention a
	// retired KEM key is kept. It covers a copy sealed to a key after its
	// retirement (a sender's directory cache, 30 s; a sender cut off
	// from the directory seals with the entry it verified before) and
	// waiting in the sender's outbox while the backbone is down, plus
	// clock skew between nodes and servers: a week. A copy that waited
	// longer may have been sealed to a key pruned since, and is refused.
	KeyRetentionMargin = 7 * 24 * time.Hour
	// DefaultOutboxRetention is how long the node's database keeps the
	// rows of copies published and receipts sent, as markers that keep
	// the same copy or receipt from being queued twice: 30 days.
	DefaultOutboxRetention = 30 * 24 * time.Hour
	// DefaultExpiredRetention is how long an expired bulletin stays
	// before it is purged: 30 days.
	DefaultExpiredRetention = 30 * 24 * time.Hour
)

// maintenanceInterval is how often the node prunes what it keeps beyond
// its retention and checks its own directory entry.
const maintenanceInterval = time.Hour

// inboxRetention is Config.InboxRetention or its default.
func (c Config) inboxRetention() time.Duration {
	if c.InboxRetention == 0 {
		return backbone.DefaultInboxRetention
	}
	return c.InboxRetention
}

// keyRetention is how long a retired KEM key is kept.
func (c Config) keyRetention() time.Duration { return c.inboxRetention() + KeyRetentionMargin }

// outboxRetention is Config.OutboxRetention or its default.
func (c Config) outboxRetention() time.Duration {
	if c.OutboxRetention == 0 {
		return DefaultOutboxRetention
	}
	return c.OutboxRetention
}

// expiredRetention is Config.ExpiredRetention or its default.
func (c Config) expiredRetention() time.Duration {
	if c.ExpiredRetention == 0 {
		return DefaultExpiredRetention
	}
	return c.ExpiredRetention
}

// MinSignKeyRotation returns the shortest signing-key rotation interval
// for an inbox retention (0 means the default): the retired keys a
// directory entry lists must span the inbox retention plus
// [KeyRetentionMargin], or a copy in the inbox signed by a key no longer
// listed would not verify.
func MinSignKeyRotation(inboxRetention time.Duration) time.Duration {
	span := Config{InboxRetention: inboxRetention}.keyRetention()
	return (span + seal.MaxRetiredSignKeys - 1) / seal.MaxRetiredSignKeys
}

// validateRetention checks the key and retention fields.
func (c Config) validateRetention() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"InboxRetention", c.InboxRetention}, {"OutboxRetention", c.OutboxRetention}} {
		switch {
		case f.d < 0:
			return fmt.Errorf("statenode: config: %s %s is negative", f.name, f.d)
		case f.d != 0 && f.d < backbone.MinRetention:
			return fmt.Errorf("statenode: config: %s %s is shorter than %s, the backbone's de-duplication window",
				f.name, f.d, backbone.MinRetention)
		}
	}
	switch min := MinSignKeyRotation(c.InboxRetention); {
	case c.ExpiredRetention < 0:
		return fmt.Errorf("statenode: config: ExpiredRetention %s is negative", c.ExpiredRetention)
	case c.KeyRotation < 0:
		return fmt.Errorf("statenode: config: KeyRotation %s is negative", c.KeyRotation)
	case c.SignKeyRotation < 0:
		return fmt.Errorf("statenode: config: SignKeyRotation %s is negative", c.SignKeyRotation)
	case c.SignKeyRotation > 0 && c.SignKeyRotation < min:
		return fmt.Errorf("statenode: config: SignKeyRotation %s is shorter than %s: a directory entry lists %d retired signing keys, "+
			"which must span the inbox retention (%s) plus %s", c.SignKeyRotation, min, seal.MaxRetiredSignKeys,
			c.inboxRetention(), KeyRetentionMargin)
	}
	return nil
}

// maintainEvery runs maintain at start and every d until ctx ends.
func (n *Node) maintainEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		n.maintain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maintain prunes the KEM keys and outbox markers past their retention
// and publishes the node's directory entry again when half its lifetime
// has passed or the directory holds another entry for this state than the
// last one published (a replay of an older one). Failures are logged and
// tried again at the next run.
func (n *Node) maintain(ctx context.Context) {
	n.keys.mu.Lock()
	n.pruneKeys()
	n.keys.mu.Unlock()
	now := n.now()
	copies, receipts, err := n.store.PruneOutbox(ctx, now.Add(-n.cfg.outboxRetention()))
	switch {
	case err != nil:
		n.log.Warn("outbox markers not pruned", "err", err)
	case copies+receipts > 0:
		n.log.Info("outbox markers pruned", "copies", copies, "receipts", receipts, "retention", n.cfg.outboxRetention())
	}
	if err := n.checkOwnEntry(ctx); err != nil {
		n.log.Warn("directory entry not published again", "err", err)
	}
	n.purgeExpired(ctx)
	n.reattestLogged(ctx)
}

// purgeExpired removes the bulletins expired longer ago than the expired
// retention, and finishes a scrub of removed content that could not
// finish before.
func (n *Node) purgeExpired(ctx context.Context) {
	purged, err := n.store.PurgeExpired(ctx, n.now().Add(-n.cfg.expiredRetention()))
	switch {
	case err != nil:
		n.log.Warn("expired bulletins not purged", "err", err)
	case purged > 0:
		n.log.Info("expired bulletins purged", "count", purged, "retention", n.cfg.expiredRetention())
	}
	if n.store.ScrubPending() {
		if err := n.store.Scrub(ctx); err != nil {
			n.log.Warn("removed content not scrubbed from the database files yet", "err", err)
		}
	}
}

// pruneKeys drops the KEM keys retired longer ago than the key retention.
// The caller holds keys.mu.
func (n *Node) pruneKeys() {
	dropped, err := n.keys.store.Prune(n.now())
	switch {
	case err != nil:
		n.log.Warn("retired KEM keys not pruned", "err", err)
	case dropped > 0:
		n.log.Info("retired KEM keys pruned", "generations", dropped, "retention", n.cfg.keyRetention())
	}
}

// checkOwnEntry publishes the node's entry again when half its lifetime
// has passed since it was published, or when the directory's latest entry
// for this state is not the last one this node published: an older one
// published again (a replay by whoever holds this node's SVID, or a
// backbone that rolled back) is logged and replaced, so that nodes that
// never saw the newer entry find it again.
func (n *Node) checkOwnEntry(ctx context.Context) error {
	n.keys.mu.Lock()
	defer n.keys.mu.Unlock()
	if n.keys.published.IsZero() {
		return n.publishEntryOf(ctx, n.keys.current()) // deferred, or the last try failed
	}
	if n.now().Sub(n.keys.published) > entryLifetime/2 {
		return n.publishEntryOf(ctx, n.keys.current())
	}
	if n.cfg.Leaf != nil && !n.bb.LeafConnected() {
		return nil // the leaf would answer with the entry it kept: checked at the next run
	}
	data, err := n.bb.DirectoryEntry(ctx, n.self.State)
	if err != nil {
		return nil // unreachable: checked again at the next run
	}
	e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, n.now())
	switch {
	case err == nil && e.Sequence == n.keys.publishedSeq:
		return nil
	case err == nil && e.Sequence > n.keys.seq:
		// Signed with this node's SVID, yet not published by this
		// process: another one holds the node's identity.
		n.log.Error("the directory holds a newer entry of this state that this node did not publish; publishing its own after it",
			"rule", "directory.foreign", "state", n.self.State, "sequence", e.Sequence, "published_sequence", n.keys.publishedSeq)
		n.keys.seq = e.Sequence
	default:
		n.log.Warn("the directory holds an older or invalid entry of this state; publishing the current one again",
			"rule", "directory.replay", "state", n.self.State, "sequence", e.Sequence, "published_sequence", n.keys.publishedSeq, "err", err)
	}
	return n.publishEntryOf(ctx, n.keys.current())
}
