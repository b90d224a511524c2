package statenode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
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
// copy must verify under this state's current key. The translations this
// state added to other states' bulletins, which recipients withdrew with
// the rest, are signed again too, as new translation messages of the same
// translation (reattestTranslations): a recipient adds each back.
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
// in place of those sent before; then the translations this state added
// to other states' bulletins (reattestTranslations). Expired bulletins
// are left: recipients refuse them anyway. It returns how many messages
// it queued.
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
			break
		}
	}
	trs, err := n.reattestTranslations(ctx)
	return count + trs, err
}

// reattestTranslations signs again, as new translation messages sealed
// with the current key, the translations this state added to other
// states' bulletins that this node holds (live, not withdrawn), and
// queues them for the same recipients with their posted receipts. A
// recipient that withdrew the translation adds it back; one that still
// shows it records the new key it rests on. It returns how many it
// queued.
func (n *Node) reattestTranslations(ctx context.Context) (int, error) {
	refs, err := n.store.TranslatedBy(ctx, n.self.State)
	if err != nil {
		return 0, err
	}
	count := 0
	now := n.now().UTC()
	for _, ref := range refs {
		rec, err := n.store.Get(ctx, ref.Origin, ref.ID)
		switch {
		case problem.KindOf(err) == problem.KindNotFound:
			continue
		case err != nil:
			return count, err
		}
		parent := &rec.Bulletin
		if rec.Withdrawn() || parent.Revoked || (!parent.ExpiresAt.IsZero() && !parent.ExpiresAt.After(now)) {
			continue
		}
		for _, tr := range parent.Translations {
			if tr.By != n.self.State {
				continue
			}
			msg := n.translationOf(parent, tr, tr.At) // a translation message is dated when the translation was added
			if err := msg.Validate(); err != nil {    // not sent again, ever: logged, not retried
				n.log.Warn("translation not signed again after a compromised key: its message is not valid", "origin", ref.Origin,
					"bulletin_id", ref.ID, "language", tr.Language.String(), "err", err)
				continue
			}
			copies, sealed, err := n.sealCopies(ctx, msg)
			if err != nil {
				return count, fmt.Errorf("seal translation of %s again: %w", ref, err)
			}
			receipts, err := n.postedReceipts(msg, sealed)
			if err != nil {
				return count, fmt.Errorf("receipts of translation of %s: %w", ref, err)
			}
			// The translation is held: nothing changes but the copies
			// and receipts queued with it.
			if _, err := n.store.AddTranslation(ctx, store.Translation{Origin: parent.Origin, ID: parent.ID,
				Revision: parent.RevisionNumber(), Translation: tr, At: now, Copies: copies, Receipts: receipts}); err != nil {
				return count, fmt.Errorf("queue translation of %s again: %w", ref, err)
			}
			count++
		}
	}
	wakeUp(n.out.wake)
	wakeUp(n.audit.wake)
	return count, nil
}

// reattestLogged is reattestIfNeeded with its failure logged: it is tried
// again at the next maintenance run.
func (n *Node) reattestLogged(ctx context.Context) {
	if err := n.reattestIfNeeded(ctx); err != nil {
		n.log.Error("bulletins not signed again after a compromised key; tried again later", "err", err)
	}
}
