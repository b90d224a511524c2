package statenode

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
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
	// entryCacheTTL bounds how long a verified directory entry of another
	// state is used before it is fetched again.
	entryCacheTTL = 30 * time.Second
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

// cachedEntry is a verified directory entry and when it was fetched.
type cachedEntry struct {
	entry   seal.DirectoryEntry
	fetched time.Time
}

// entries caches verified directory entries of other states.
type entries struct {
	mu sync.Mutex
	m  map[string]cachedEntry
}

// entryOf returns the verified directory entry of state's node, fetching
// it again when the cached one is stale or does not hold wantSignKey.
func (n *Node) entryOf(ctx context.Context, state, wantSignKey string) (seal.DirectoryEntry, error) {
	now := n.now()
	n.dir.mu.Lock()
	c, ok := n.dir.m[state]
	n.dir.mu.Unlock()
	if ok && now.Sub(c.fetched) < entryCacheTTL && (wantSignKey == "" || c.entry.SignKeyID == wantSignKey) {
		return c.entry, nil
	}
	data, err := n.bb.DirectoryEntry(ctx, state)
	if err != nil {
		return seal.DirectoryEntry{}, err
	}
	e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, now)
	if err != nil {
		n.log.Warn("directory entry refused", "state", state, "err", err)
		return seal.DirectoryEntry{}, err
	}
	if e.State != state {
		return seal.DirectoryEntry{}, fmt.Errorf("directory entry under %s is for %s", state, e.State)
	}
	n.dir.mu.Lock()
	if n.dir.m == nil {
		n.dir.m = map[string]cachedEntry{}
	}
	n.dir.m[state] = cachedEntry{entry: e, fetched: now}
	n.dir.mu.Unlock()
	return e, nil
}

// entryResult is a directory entry looked up, or why not.
type entryResult struct {
	entry seal.DirectoryEntry
	err   error
}

// entriesOf returns the verified directory entries of states, in order,
// as entryOf does; the entries not cached are fetched and verified
// concurrently (at most maxEntryFetches at a time), so a broadcast after
// the cache expired waits about one fetch, not one per state.
func (n *Node) entriesOf(ctx context.Context, states []string) []entryResult {
	out := make([]entryResult, len(states))
	forEachLimit(len(states), maxEntryFetches, func(i int) {
		out[i].entry, out[i].err = n.entryOf(ctx, states[i], "")
	})
	return out
}

// maxEntryFetches bounds the directory entries fetched at once.
const maxEntryFetches = 16

// forEachLimit calls f(0) to f(n-1), at most limit at a time, and returns
// once every call has.
func forEachLimit(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

// sealFor seals b for recipients under the node's own signature; header
// origin is this node's state (for a forward, the forwarding state). Each
// recipient is sent its own copy ([marshalCopies]).
func (n *Node) sealFor(ctx context.Context, b *bulletin.Bulletin, recipients []string) (*seal.Sealed, error) {
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(bulletinToProto(b))
	if err != nil {
		return nil, fmt.Errorf("encode bulletin: %w", err)
	}
	found := n.entriesOf(ctx, recipients)
	keys := make([]seal.PublicKeys, 0, len(recipients))
	var missing []string
	for i, r := range recipients {
		e, err := found[i].entry, found[i].err
		switch {
		case errors.Is(err, backbone.ErrNoEntry):
			missing = append(missing, r)
			continue
		case err != nil:
			return nil, problem.Unavailable(err, "bulletin not sealed: the keys of %s could not be read; post again later", r)
		}
		keys = append(keys, e.PublicKeys())
	}
	if len(missing) > 0 {
		return nil, problem.Unavailable(nil, "bulletin not sealed: no node of %s has published its keys yet; release to states whose nodes have joined", strings.Join(missing, ","))
	}
	svid, err := n.cfg.SVID.GetX509SVID()
	if err != nil {
		return nil, err
	}
	return seal.Seal(seal.Header{
		ID: b.ID, Origin: n.self.State, Signer: svid.ID.String(),
		Precedence: int32(b.Precedence), Marking: int32(b.Marking), Recipients: recipients,
		CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
	}, pt, keys, n.keys.current())
}

// marshalCopies encodes the copy of s for each of its recipients, in the
// order of s.Recipients: its own wrapped key and the hashes of the
// others', all covered by the signature.
func marshalCopies(s *seal.Sealed) ([][]byte, error) {
	cs, err := s.Copies()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(cs))
	for i, c := range cs {
		if out[i], err = c.Marshal(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openCopy verifies and opens a sealed copy from the inbox. It returns the
// bulletin and the state that signed the copy (the origin, or a
// forwarding state). Any failure means the copy is never shown.
func (n *Node) openCopy(ctx context.Context, data []byte) (bulletin.Bulletin, string, error) {
	s, err := seal.Unmarshal(data)
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	lookup := func(origin, keyID string) (ed25519.PublicKey, error) {
		e, err := n.entryOf(ctx, origin, keyID)
		if err != nil {
			return nil, err
		}
		if e.SignKeyID != keyID {
			return nil, fmt.Errorf("signing key %s is not %s's current key", keyID, origin)
		}
		return ed25519.PublicKey(e.SignPublic), nil
	}
	pt, err := seal.Open(s, n.self.State, n.keys.snapshot(), lookup, seal.Policy{TrustDomain: n.cfg.TrustDomain}, n.now())
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	var p iantv1.Bulletin
	if err := proto.Unmarshal(pt, &p); err != nil {
		return bulletin.Bulletin{}, "", fmt.Errorf("decode sealed bulletin: %w", err)
	}
	b, err := bulletinFromProto(&p)
	if err != nil {
		return bulletin.Bulletin{}, "", err
	}
	switch {
	case b.ID != s.ID, int32(b.Precedence) != s.Precedence, int32(b.Marking) != s.Marking,
		!b.CreatedAt.Equal(s.CreatedAt), !b.ExpiresAt.Equal(s.ExpiresAt):
		return bulletin.Bulletin{}, "", errors.New("sealed header does not match the bulletin inside")
	case s.Origin == b.Origin && !sameStates(s.Recipients, b.Recipients):
		return bulletin.Bulletin{}, "", errors.New("sealed recipients do not match the bulletin's")
	}
	return b, s.Origin, nil
}

func sameStates(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
