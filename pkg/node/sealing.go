package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

const (
	// keysFile is the default key file in DataDir (see Config.KeyFile).
	keysFile = "node.keys"
	// entryLifetime is how long a published directory entry is valid; the
	// node re-publishes well before that (at every start and rotation).
	entryLifetime = 30 * 24 * time.Hour
	// entryCacheTTL bounds how long a verified directory entry of another
	// state is used before it is fetched again.
	entryCacheTTL = 30 * time.Second
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
		return errors.New("node: only state nodes hold sealing keys")
	}
	if err := n.keys.store.RotateKEM(n.now()); err != nil {
		return fmt.Errorf("node: rotate keys: %w", err)
	}
	if err := n.publishEntry(ctx); err != nil {
		return fmt.Errorf("node: rotate keys: %w", err)
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
	if ok && now.Sub(c.fetched) < entryCacheTTL && (wantSignKey == "" || hasSignKey(c.entry, wantSignKey)) {
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

// hasSignKey reports whether e publishes the signing key keyID, current
// or retired.
func hasSignKey(e seal.DirectoryEntry, keyID string) bool {
	_, ok := e.SignKey(keyID)
	return ok
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
	lookup := func(origin, keyID string) (seal.SignerKey, error) {
		e, err := n.entryOf(ctx, origin, keyID)
		if err != nil {
			return seal.SignerKey{}, err
		}
		k, ok := e.SignKey(keyID)
		if !ok {
			return seal.SignerKey{}, fmt.Errorf("signing key %s is not published by %s", keyID, origin)
		}
		return k, nil
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
	h := s.Header
	if s.Origin != b.Origin {
		// A forward as this node still makes it: re-sealed by the
		// forwarder, naming itself as origin and only the target as
		// recipient. TODO(lead): replace with seal.Forward/OpenForwarded,
		// which keep the origin's header and signature.
		h.Origin, h.Recipients = b.Origin, b.Recipients
	}
	if err := h.Bind(&b); err != nil {
		return bulletin.Bulletin{}, "", err
	}
	return b, s.Origin, nil
}
