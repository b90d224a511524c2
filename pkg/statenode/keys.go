package statenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

const (
	// keysFile is the default key file in DataDir (see Config.KeyFile).
	keysFile = "node.keys"
	// entryLifetime is how long a published directory entry is valid; the
	// node publishes a new one at every start and rotation, and when half
	// of it has passed (retention.go).
	entryLifetime = 30 * 24 * time.Hour
)

// keyring is the node's sealing keys (package keystore) and what it last
// published of them in the directory.
type keyring struct {
	store *keystore.Store

	// reattestMu serializes re-attestations (reattest.go); taken before mu.
	reattestMu sync.Mutex

	// mu serializes rotations and directory entry publishing, and guards
	// the fields below.
	mu           sync.Mutex
	seq          uint64    // sequence of the last directory entry tried
	publishedSeq uint64    // sequence of the last directory entry published
	published    time.Time // when it was published; zero if none yet, or the last try failed
}

// current is the keys that seal and sign: their entry was announced
// before they sign (see RotateSignKey).
func (k *keyring) current() *seal.NodeKeys { return k.store.Current() }

func (k *keyring) snapshot() seal.Ring { return k.store.Ring() }

// keyFile is the path of the node's key file.
func (n *Node) keyFile() string {
	if n.cfg.KeyFile != "" {
		return n.cfg.KeyFile
	}
	return filepath.Join(n.cfg.DataDir, keysFile)
}

// loadKeys opens the node's key file, or makes the first keys. A retired
// KEM key is kept for retention after its retirement (Config.keyRetention):
// as long as a copy sealed to it can still be in the inbox stream.
func loadKeys(path, state string, retention time.Duration, now func() time.Time, log *slog.Logger) (*keyring, error) {
	ks, err := keystore.Open(path, state, keystore.Options{Retention: retention, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	return &keyring{store: ks}, nil
}

// publishEntry signs the current public keys with the node's SVID and
// publishes them in the directory on the backbone.
func (n *Node) publishEntry(ctx context.Context) error {
	n.keys.mu.Lock()
	defer n.keys.mu.Unlock()
	return n.publishEntryOf(ctx, n.keys.current())
}

// publishEntryOf publishes the directory entry of k, with a sequence
// higher than any this node published before, here or (read back from the
// directory after a restart) in an earlier run. The caller holds keys.mu.
func (n *Node) publishEntryOf(ctx context.Context, k *seal.NodeKeys) error {
	svid, err := n.cfg.SVID.GetX509SVID()
	if err != nil {
		return fmt.Errorf("get SVID: %w", err)
	}
	if n.keys.seq == 0 {
		n.keys.seq = n.ownPublishedSeq(ctx)
	}
	now := n.now().UTC()
	n.keys.seq = max(n.keys.seq+1, uint64(now.UnixNano()))
	entry := k.Entry(svid.ID.String(), entryNotBefore(now, svid), now.Add(entryLifetime), n.keys.seq)
	data, err := seal.SignEntry(entry, svid)
	if err != nil {
		return err
	}
	if err := n.bb.PublishDirectoryEntry(ctx, data); err != nil {
		n.keys.published = time.Time{} // the maintenance tries again
		return err
	}
	n.keys.published, n.keys.publishedSeq = now, n.keys.seq
	n.log.Info("directory entry published", "kem_key", entry.KEMKeyID, "sign_key", entry.SignKeyID,
		"retired_sign_keys", len(entry.RetiredSign), "sequence", entry.Sequence)
	return nil
}

// ownPublishedSeq returns the sequence of this state's latest entry in the
// directory, if it verifies, else 0: a node whose clock went back since it
// last published still publishes a higher sequence, which every reader
// takes (directory.go).
func (n *Node) ownPublishedSeq(ctx context.Context) uint64 {
	data, err := n.bb.DirectoryEntry(ctx, n.self.State)
	if err != nil {
		return 0
	}
	e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, n.now())
	if err != nil || e.State != n.self.State {
		return 0
	}
	return e.Sequence
}

// entryNotBefore is the NotBefore of an entry signed at now: a minute back,
// for verifiers whose clocks run behind, but never before the signing
// chain is valid. Verifiers check the chain at NotBefore (seal.VerifyEntry),
// and a fresh SVID is younger than a minute: SPIRE backdates an SVID only
// 10 s, so an entry signed right after a start or a rotation would be
// refused by every other node.
func entryNotBefore(now time.Time, svid *x509svid.SVID) time.Time {
	nb := now.Add(-time.Minute)
	for _, c := range svid.Certificates {
		if c.NotBefore.After(nb) {
			nb = c.NotBefore
		}
	}
	return nb
}

// errNoKeys is returned by the rotations of a node that holds no keys.
var errNoKeys = errors.New("statenode: only state nodes hold sealing keys")

// RotateKeys makes a new KEM key current, keeps the previous generations
// while a copy sealed to them may still be in the inbox stream
// (InboxRetention plus [KeyRetentionMargin]; older ones are pruned now),
// and publishes the new directory entry. If publishing fails, the new key
// is kept and senders go on sealing to the previous one, which stays in
// the ring; the entry is published again at the next start or
// maintenance.
func (n *Node) RotateKeys(ctx context.Context) error {
	if n.keys == nil {
		return errNoKeys
	}
	n.keys.mu.Lock()
	defer n.keys.mu.Unlock()
	if err := n.keys.store.RotateKEM(n.now()); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	n.pruneKeys()
	if err := n.publishEntryOf(ctx, n.keys.current()); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	return nil
}

// RotateSignKey makes a new Ed25519 origin signing key current. The new
// directory entry, which lists the previous key as retired now (with the
// last [seal.MaxRetiredSignKeys] retired before it), is published first:
// the new key signs nothing before other nodes can find it, and what the
// previous keys signed before their retirement still verifies at every
// recipient, in a rebuild too. If publishing fails, nothing changes.
func (n *Node) RotateSignKey(ctx context.Context) error {
	return n.RotateSignKeyWith(ctx, keystore.SignRotation{})
}

// RotateSignKeyWith is [Node.RotateSignKey] with the retirement r: with
// r.Compromised, the previous key is published as compromised, and every
// node refuses whatever it signed that it does not already hold
// (receive.key_compromised), whenever it is dated.
//
// After a rotation that declares a key compromised, the node signs its
// own bulletins again with the new key and re-sends them to their
// recipients (reattest.go), so that they put back what they withdrew.
func (n *Node) RotateSignKeyWith(ctx context.Context, r keystore.SignRotation) error {
	if err := n.rotateSignKeyWith(ctx, r); err != nil {
		return err
	}
	n.reattestLogged(ctx)
	return nil
}

// rotateSignKeyWith is RotateSignKeyWith without the re-attestation.
func (n *Node) rotateSignKeyWith(ctx context.Context, r keystore.SignRotation) error {
	if n.keys == nil {
		return errNoKeys
	}
	n.keys.mu.Lock()
	defer n.keys.mu.Unlock()
	announced := false
	err := n.keys.store.RotateSignAnnouncedWith(n.now(), r, func(next *seal.NodeKeys) error {
		if err := n.publishEntryOf(ctx, next); err != nil {
			return err
		}
		announced = true
		return nil
	})
	if err == nil || !announced {
		return wrapErr("statenode: rotate signing key", err)
	}
	// Announced but not kept: announce the keys still in use again, so
	// that the directory does not say their signing key is retired.
	if perr := n.publishEntryOf(ctx, n.keys.current()); perr != nil {
		n.log.Error("directory entry of the kept signing key not published again", "err", perr)
	}
	return fmt.Errorf("statenode: rotate signing key: %w", err)
}

// wrapErr prefixes a non-nil err with what; nil stays nil.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// rotateEvery calls rotate every d until ctx ends, logging failures.
func (n *Node) rotateEvery(ctx context.Context, d time.Duration, what string, rotate func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := rotate(ctx); err != nil {
				n.log.Error("scheduled rotation failed", "key", what, "err", err)
			}
		}
	}
}

// runKeys starts the key rotation schedules and the maintenance.
func (n *Node) runKeys(ctx context.Context) {
	if d := n.cfg.KeyRotation; d > 0 {
		n.wg.Go(func() { n.rotateEvery(ctx, d, "kem", n.RotateKeys) })
	}
	if d := n.cfg.SignKeyRotation; d > 0 {
		n.wg.Go(func() { n.rotateEvery(ctx, d, "sign", n.RotateSignKey) })
	}
	n.wg.Go(func() { n.maintainEvery(ctx, maintenanceInterval) })
}

// MarkSignKeyCompromised marks the retired signing key keyID as
// compromised ([keystore.Store.MarkCompromised]: any key the key file
// ever retired, even one no longer in the entry's retired list) and
// publishes the node's directory entry again, with a higher sequence,
// flagging it:
// every node then refuses whatever that key signed that it does not
// already hold (receive.key_compromised), whenever it is dated. The mark
// is kept before it is published; if publishing fails, the error says
// so and the next publication carries it: call it again (a key already
// marked is published again, no error), or rotate, or restart.
//
// Once published, the node signs its own bulletins again with its
// current key and re-sends them (reattest.go).
func (n *Node) MarkSignKeyCompromised(ctx context.Context, keyID string) error {
	if err := n.markSignKeyCompromised(ctx, keyID); err != nil {
		return err
	}
	n.reattestLogged(ctx)
	return nil
}

// markSignKeyCompromised is MarkSignKeyCompromised without the
// re-attestation.
func (n *Node) markSignKeyCompromised(ctx context.Context, keyID string) error {
	if n.keys == nil {
		return errNoKeys
	}
	n.keys.mu.Lock()
	defer n.keys.mu.Unlock()
	err := n.keys.store.MarkCompromised(keyID)
	if err != nil && !errors.Is(err, keystore.ErrAlreadyCompromised) {
		return fmt.Errorf("statenode: mark signing key compromised: %w", err)
	}
	if perr := n.publishEntryOf(ctx, n.keys.current()); perr != nil {
		return fmt.Errorf("statenode: mark signing key compromised: marked but not published: %w", perr)
	}
	return nil
}
