package statenode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Rebuilding a lost database from the inbox stream (DESIGN.md, "Node
// storage": losing the database loses nothing the backbone still holds).
//
// A state node's inbox consumer remembers, on the backbone, how far the
// node got: its ack floor. A node whose database is gone would otherwise
// resume after that floor, and every bulletin received before would be
// lost to its people. So when the database is new, the node first replays
// its inbox up to that floor through the usual receive path (open, verify,
// policy re-check, store) and only then resumes consuming its inbox.
//
// The store is known to be new when node.db did not exist as the node
// started: a marker file is written before the store creates it, and
// removed once the replay is done, so a replay cut short by a crash or a
// stop is taken up at the next start (receiving is idempotent: storing a
// bulletin again changes nothing).
//
// Revoked content is never stored again: a first pass reads the inbox for
// revocations (opened and verified like any copy), and the replay skips
// every copy of content one of them withdraws, storing the revocation's
// tombstone when its turn comes; the order of the inbox decides nothing
// about what reaches the disk.
//
// Side effects. Each replayed bulletin is reported "delivered" again, as
// a first reception would be, and that is safe: the event's id is the hash
// of its key (kind, bulletin, state, node), the backbone de-duplicates the
// receipt by that id, and the secretariat's log appends an event key once
// (audit.Log.Append is idempotent by key, the first report wins). The
// audit thus shows one delivery; and as the receipt outbox was lost with
// the database, the report restores a receipt that might never have been
// sent. Rejections
// are not reported again, only logged and counted: a copy accepted before
// may fail now for reasons of time alone (the bulletin expired; the origin
// rotated its signing key more than seal.MaxRetiredSignKeys times since,
// which Config.SignKeyRotation's lower bound prevents on a schedule), and
// a refusal in the audit log for a bulletin that was delivered would be
// false evidence.
//
// The whole data directory may be lost, not only the database: the leaf
// store, the witness file and the directory marks go with it and are made
// afresh. The keys must not be: Config.KeyFile puts them elsewhere, and
// with them every copy the inbox still holds opens again, those sealed to
// retired KEM generations (kept for the inbox retention plus a margin) and
// signed with the origin's retired signing keys (listed in its entry).
//
// Signing keys. The signing keys the node kept from older entries
// (signkeys.go) go with the database: a rebuilt node verifies only what
// the origins' current entries list. It fails closed: a copy signed by a
// key rotated out of its origin's entry is not restored (it cannot be
// checked), nor is one signed by a key the origin declared compromised,
// retired or named beyond its retired keys (the node held it before, but
// cannot tell a genuine one from a forgery made with the stolen key;
// a forgery it once took is thus gone too). The rebuild says how many
// of each it left out (reportNotRestored); the origin posts them again.

// rebuildMarker names the file, in the data dir, that says the store must
// be rebuilt from the inbox.
const rebuildMarker = "rebuild.pending"

// rebuildRetry bounds the wait between attempts of a failed rebuild.
const (
	rebuildFirstRetry = 250 * time.Millisecond
	rebuildMaxRetry   = 30 * time.Second
)

// markRebuild writes the rebuild marker when a state node's database at
// dbPath does not exist yet: call it before the store is opened.
func (n *Node) markRebuild(dbPath string) error {
	_, err := os.Stat(dbPath)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("statenode: stat database: %w", err)
	}
	if err := os.WriteFile(n.markerPath(), nil, 0o600); err != nil {
		return fmt.Errorf("statenode: mark database for rebuild: %w", err)
	}
	return nil
}

func (n *Node) markerPath() string { return filepath.Join(n.cfg.DataDir, rebuildMarker) }

// rebuild replays the inbox into a new store, if the marker says so,
// trying again with backoff until it succeeds or ctx ends; the marker then
// stays for the next start.
func (n *Node) rebuild(ctx context.Context) {
	if _, err := os.Stat(n.markerPath()); err != nil {
		return
	}
	wait := rebuildFirstRetry
	for {
		err := n.rebuildOnce(ctx)
		if err == nil {
			if err := os.Remove(n.markerPath()); err != nil {
				n.log.Error("rebuild marker not removed; the next start replays again", "err", err)
			}
			return
		}
		if ctx.Err() != nil {
			n.log.Warn("store rebuild interrupted; the next start takes it up", "err", err)
			return
		}
		n.log.Warn("store rebuild failed, trying again", "err", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return
		}
		wait = min(2*wait, rebuildMaxRetry)
	}
}

// rebuildOnce reads how far the inbox consumer got and replays the inbox
// up to there.
func (n *Node) rebuildOnce(ctx context.Context) error {
	floor, err := n.bb.InboxAckFloor(ctx)
	switch {
	case errors.Is(err, backbone.ErrNotProvisioned):
		floor = 0 // no consumer yet: nothing was received
	case err != nil:
		return err
	}
	if floor == 0 {
		n.log.Info("new store: nothing received before, nothing to rebuild")
		return nil
	}
	n.log.Info("new store: rebuilding from the inbox", "up_to_seq", floor)
	start := time.Now()
	revoked, err := n.revokedInInbox(ctx, floor)
	if err != nil {
		return err
	}
	n.rebuildRevoked.Store(&revoked)
	defer n.rebuildRevoked.Store(nil)
	var restored, skipped int
	notRestored := map[string]int{} // by rule; the replay is sequential
	skip := func(m backbone.Msg, rule string, err error) error {
		notRestored[rule]++
		return n.skipReplayed(m, rule, err)
	}
	handed, err := n.bb.ReplayInbox(ctx, floor, func(ctx context.Context, m backbone.Msg) error {
		err := n.receiveWith(ctx, m, skip)
		switch {
		case err == nil:
			restored++
		case errors.Is(err, backbone.ErrReject):
			skipped++
		}
		return err
	})
	if err != nil {
		return err
	}
	n.log.Info("store rebuilt from the inbox", "copies", handed, "restored", restored, "skipped", skipped,
		"up_to_seq", floor, "took", time.Since(start).Round(time.Millisecond))
	n.reportNotRestored(notRestored)
	return nil
}

// reportNotRestored says, once a rebuild is done, what it failed closed
// on: copies signed by keys their states declared compromised (this node
// held some of them before, but a new store cannot tell the genuine ones
// from forgeries made with the stolen key), and copies whose signing key
// it can no longer check (rotated out of the entry, kept only in the
// lost database). Their people do not see them; their origins must post
// them again.
func (n *Node) reportNotRestored(byRule map[string]int) {
	for _, r := range []struct{ rule, msg string }{
		{"key_compromised", "rebuild: copies signed by keys their states declared compromised not restored; ask the origins to post them again"},
		{"signer", "rebuild: copies whose signing key cannot be checked any more not restored; ask the origins to post them again"},
	} {
		if c := byRule[r.rule]; c > 0 {
			n.log.Warn(r.msg, "rule", "receive."+r.rule, "copies", c)
		}
	}
}

// revoked maps a bulletin (origin, id) to the latest revision of it that a
// revocation in the inbox withdraws.
type revoked map[[2]string]int

// revokedInInbox reads the inbox up to floor for revocations, opened and
// verified like any copy: the rebuild then stores no content that one of
// them withdraws, so revoked content never reaches the new database, not
// even until its revocation is replayed.
func (n *Node) revokedInInbox(ctx context.Context, floor uint64) (revoked, error) {
	out := revoked{}
	_, err := n.bb.ReplayInbox(ctx, floor, func(ctx context.Context, m backbone.Msg) error {
		if !isRevocation(m.Data) {
			return nil
		}
		o, err := n.openCopy(ctx, m)
		if err != nil {
			if stopping(ctx, err) {
				return err
			}
			// The replay rejects or parks it as well; a parked
			// revocation, decided later, still removes the content.
			return nil
		}
		b := &o.bulletin
		k := [2]string{b.Origin, b.ID}
		out[k] = max(out[k], b.RevisionNumber())
		return nil
	})
	return out, err
}

// isRevocation reports whether copy data is, by its header, a revocation
// (its signature is checked when it is opened).
func isRevocation(data []byte) bool {
	if seal.IsForwarded(data) {
		f, err := seal.UnmarshalForwarded(data)
		return err == nil && f.Sealed.MessageKind() == seal.KindRevocation
	}
	s, err := seal.Unmarshal(data)
	return err == nil && s.MessageKind() == seal.KindRevocation
}

// withdrawnInRebuild reports whether a rebuild in progress found that a
// revocation withdraws content b: the rebuild skips it.
func (n *Node) withdrawnInRebuild(b *bulletin.Bulletin) bool {
	r := n.rebuildRevoked.Load()
	if r == nil || !b.IsContent() {
		return false
	}
	rev, ok := (*r)[[2]string{b.Origin, b.ID}]
	return ok && b.RevisionNumber() <= rev
}

// skipReplayed is the rebuild's treatment of a copy that does not pass
// the receive checks now: logged, not audited (see the top of this file).
func (n *Node) skipReplayed(m backbone.Msg, rule string, err error) error {
	n.log.Warn("replayed copy not restored", "subject", m.Subject, "origin", m.Origin, "bulletin_id", m.ID,
		"rule", "receive."+rule, "err", err)
	return fmt.Errorf("%w: %s: %v", backbone.ErrReject, rule, err)
}
