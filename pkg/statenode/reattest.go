package statenode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Re-attestation. When this node declares one of its signing keys
// compromised, every recipient withdraws what that key signed
// (withdraw.go), the genuine bulletins with the forgeries. This node's
// own sent records are trustworthy (its database was not what the
// intruder could change from another state), so it signs each of its
// bulletins again with its current key — the message its row holds
// (latest revision, revocation tombstone, reply), the same origin, id,
// revision and content — and sends it to the same recipients (the
// bulletin's recipients). A recipient puts the withdrawn row back
// (store.Apply): reinstated if the content is the same, replaced if what
// it held was a forgery under that id. No other state can do this: the
// copy must verify under this state's current key.
//
// It runs after an online rotation or mark (Node.RotateSignKeyWith,
// Node.MarkSignKeyCompromised) and at start, for a key marked on the
// stopped node (iantd rotate-sign-key -compromised): the keys done are
// remembered in the data directory (reattestedFile), so a restart does
// not send them again, and a failure is tried again at the next start
// or maintenance run.

// reattestedFile lists, one a line, the compromised signing keys whose
// bulletins this node signed again.
const reattestedFile = "reattested-sign-keys"

// reattestBatch is how many sent records one round re-signs.
const reattestBatch = 100

// ownCompromised returns the IDs of this node's signing keys it declared
// compromised.
func ownCompromised(k *seal.NodeKeys) []string {
	ids := k.CompromisedSignKeys()
	for _, r := range k.RetiredSignKeys() {
		if r.Compromised && !slices.Contains(ids, r.KeyID) {
			ids = append(ids, r.KeyID)
		}
	}
	slices.Sort(ids)
	return ids
}

// reattestIfNeeded signs again and re-sends this node's bulletins if it
// declared a signing key compromised since it last did.
func (n *Node) reattestIfNeeded(ctx context.Context) error {
	if n.keys == nil {
		return nil
	}
	n.keys.reattestMu.Lock()
	defer n.keys.reattestMu.Unlock()
	n.keys.mu.Lock()
	ids := ownCompromised(n.keys.current())
	n.keys.mu.Unlock()
	path := filepath.Join(n.cfg.DataDir, reattestedFile)
	done, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", reattestedFile, err)
	}
	have := strings.Fields(string(done))
	fresh := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(have, id) })
	if len(fresh) == 0 {
		return nil
	}
	sent, err := n.reattest(ctx)
	if err != nil {
		return fmt.Errorf("re-attest bulletins after compromised keys %s: %w", strings.Join(fresh, ","), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", reattestedFile, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", reattestedFile, err)
	}
	n.log.Info("bulletins signed again after a signing key was declared compromised", "compromised_keys", strings.Join(fresh, ","),
		"messages", sent)
	return nil
}

// reattest seals again with the current key the message each row this
// node sent holds, for the bulletin's recipients, and queues the copies
// in place of those sent before. Expired bulletins are left: recipients
// refuse them anyway. It returns how many messages it queued.
func (n *Node) reattest(ctx context.Context) (int, error) {
	var after uint64
	count := 0
	now := n.now()
	for {
		recs, err := n.store.SentRecords(ctx, after, reattestBatch)
		if err != nil {
			return count, err
		}
		for i := range recs {
			after = recs[i].Cursor
			b := &recs[i].Bulletin
			if len(b.Recipients) == 0 || (!b.ExpiresAt.IsZero() && !b.ExpiresAt.After(now)) {
				continue
			}
			copies, _, err := n.sealCopies(ctx, b)
			if err != nil {
				return count, fmt.Errorf("seal %s again: %w", b.ID, err)
			}
			if err := n.store.RequeueCopies(ctx, copies, now); err != nil {
				return count, err
			}
			count++
		}
		wakeUp(n.out.wake)
		if len(recs) < reattestBatch {
			return count, nil
		}
	}
}

// reattestLogged is reattestIfNeeded with its failure logged: it is tried
// again at the next maintenance run.
func (n *Node) reattestLogged(ctx context.Context) {
	if err := n.reattestIfNeeded(ctx); err != nil {
		n.log.Error("bulletins not signed again after a compromised key; tried again later", "err", err)
	}
}
