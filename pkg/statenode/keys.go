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
	// node re-publishes well before that (at every start and rotation).
	entryLifetime = 30 * 24 * time.Hour
)

// keyring is the node's sealing keys (package keystore) and the sequence
// of its last published directory entry.
type keyring struct {
	store *keystore.Store
	mu    sync.Mutex
	seq   uint64 // sequence of the last published directory entry
}

func (k *keyring) current() *seal.NodeKeys { return k.store.Current() }

func (k *keyring) snapshot() seal.Ring { return k.store.Ring() }

// keyFile is the path of the node's key file.
func (n *Node) keyFile() string {
	if n.cfg.KeyFile != "" {
		return n.cfg.KeyFile
	}
	return filepath.Join(n.cfg.DataDir, keysFile)
}

// loadKeys opens the node's key file, or makes the first keys. Retired KEM
// keys are kept for ever (zero retention): the inbox stream keeps copies
// for ever, and a rebuild must open every one of them.
func loadKeys(path, state string, log *slog.Logger) (*keyring, error) {
	ks, err := keystore.Open(path, state, keystore.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &keyring{store: ks}, nil
}

// publishEntry signs the current public keys with the node's SVID and
// publishes them in the directory on the backbone.
func (n *Node) publishEntry(ctx context.Context) error {
	svid, err := n.cfg.SVID.GetX509SVID()
	if err != nil {
		return fmt.Errorf("get SVID: %w", err)
	}
	now := n.now().UTC()
	n.keys.mu.Lock()
	n.keys.seq = max(n.keys.seq+1, uint64(now.UnixNano()))
	seq := n.keys.seq
	n.keys.mu.Unlock()
	entry := n.keys.current().Entry(svid.ID.String(), entryNotBefore(now, svid), now.Add(entryLifetime), seq)
	data, err := seal.SignEntry(entry, svid)
	if err != nil {
		return err
	}
	if err := n.bb.PublishDirectoryEntry(ctx, data); err != nil {
		return err
	}
	n.log.Info("directory entry published", "kem_key", entry.KEMKeyID, "sign_key", entry.SignKeyID)
	return nil
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

// RotateKeys makes a new KEM key current, keeps the previous generations
// for bulletins still in flight, and publishes the new directory entry.
func (n *Node) RotateKeys(ctx context.Context) error {
	if n.keys == nil {
		return errors.New("statenode: only state nodes hold sealing keys")
	}
	if err := n.keys.store.RotateKEM(n.now()); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	if err := n.publishEntry(ctx); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	return nil
}
