package statenode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/seal"
)

const (
	// keysFile holds the node's key generations, newest first (0600).
	keysFile = "node.keys"
	// keepGenerations is how many KEM key generations a node keeps, so
	// bulletins sealed to a rotated key while it was current still open.
	keepGenerations = 3
	// entryLifetime is how long a published directory entry is valid; the
	// node re-publishes well before that (at every start and rotation).
	entryLifetime = 30 * 24 * time.Hour
)

// keyring is the node's sealing keys: the current generation first.
type keyring struct {
	mu   sync.RWMutex
	ring seal.Ring
	seq  uint64 // sequence of the last published directory entry
}

func (k *keyring) current() *seal.NodeKeys {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.ring[0]
}

func (k *keyring) snapshot() seal.Ring {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return append(seal.Ring(nil), k.ring...)
}

// loadKeys reads the node's key generations, or makes the first one.
func loadKeys(dir, state string) (*keyring, error) {
	path := filepath.Join(dir, keysFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := seal.GenerateNodeKeys(state)
		if err != nil {
			return nil, err
		}
		kr := &keyring{ring: seal.Ring{k}}
		return kr, kr.save(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	kr := &keyring{}
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, fmt.Errorf("keys file %s is truncated", path)
		}
		n := binary.BigEndian.Uint32(data)
		if uint64(len(data)-4) < uint64(n) {
			return nil, fmt.Errorf("keys file %s is truncated", path)
		}
		k, err := seal.ParsePrivate(data[4 : 4+n])
		if err != nil {
			return nil, fmt.Errorf("keys file %s: %w", path, err)
		}
		if k.State() != state {
			return nil, fmt.Errorf("keys file %s holds keys of %s, not %s", path, k.State(), state)
		}
		kr.ring = append(kr.ring, k)
		data = data[4+n:]
	}
	if len(kr.ring) == 0 {
		return nil, fmt.Errorf("keys file %s is empty", path)
	}
	return kr, nil
}

// save writes the key generations atomically with mode 0600.
func (k *keyring) save(dir string) error {
	var out []byte
	for _, g := range k.snapshot() {
		b, err := g.MarshalPrivate()
		if err != nil {
			return err
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	tmp := filepath.Join(dir, keysFile+".tmp")
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, keysFile)); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	return nil
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
	next, err := n.keys.current().RotateKEM()
	if err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	n.keys.mu.Lock()
	n.keys.ring = append(seal.Ring{next}, n.keys.ring...)
	if len(n.keys.ring) > keepGenerations {
		n.keys.ring = n.keys.ring[:keepGenerations]
	}
	n.keys.mu.Unlock()
	if err := n.keys.save(n.cfg.DataDir); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	if err := n.publishEntry(ctx); err != nil {
		return fmt.Errorf("statenode: rotate keys: %w", err)
	}
	return nil
}
