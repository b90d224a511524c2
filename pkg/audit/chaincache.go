package audit

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// DefaultChainCacheSize is how many verified chains a [ChainCache] holds
// when its size is not given: a few SVIDs for each node of a network.
const DefaultChainCacheSize = 1024

// ChainCache remembers certificate chains that verified, so that the
// receipts a node signs with the same SVID have their chain verified once
// rather than each time. An entry is keyed by the exact DER bytes of the
// chain and holds what verification proved: the leaf's SPIFFE ID and key,
// the trust bundle the chain verified against, and the times between which
// every certificate of the verified chain (leaf, intermediates and trust
// anchor) is valid. A chain is taken from the cache only for a time within
// those bounds, never past the earliest NotAfter, and only while the trust
// bundle is the same one; otherwise it is verified again. Only chains that
// verified are kept: a bad chain is checked in full every time. Call
// [ChainCache.Reset] when who may sign changes (membership, deny list).
// The zero value is not usable; use [NewChainCache]. Safe for concurrent
// use.
type ChainCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]*chainEntry
}

// chainEntry is what verifying one chain proved.
type chainEntry struct {
	id                  spiffeid.ID
	leaf                *x509.Certificate
	bundle              *x509bundle.Bundle // a clone of the bundle it verified against
	notBefore, notAfter time.Time
}

// NewChainCache returns an empty cache of at most size chains
// ([DefaultChainCacheSize] if size ≤ 0). When full it starts afresh.
func NewChainCache(size int) *ChainCache {
	if size <= 0 {
		size = DefaultChainCacheSize
	}
	return &ChainCache{max: size, entries: map[[sha256.Size]byte]*chainEntry{}}
}

// Reset forgets every chain.
func (c *ChainCache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// Len is how many chains the cache holds.
func (c *ChainCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// VerifyReceipt is [VerifyReceipt] with the receipt's chain taken from
// the cache when it verified before (same DER, same trust bundle, a time
// within the chain's validity), and kept there once it verifies.
func (c *ChainCache) VerifyReceipt(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope string, published time.Time) (*Receipt, error) {
	return verifyReceipt(data, bundle, td, scope, published, c)
}

// chainKey is the digest of the chain's DER certificates, each prefixed
// with its length.
func chainKey(chain [][]byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, der := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(der)))
		h.Write(n[:])
		h.Write(der)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// lookup returns the leaf and its ID of chain if the cache proves it
// verifies against bundle at time at.
func (c *ChainCache) lookup(key [sha256.Size]byte, bundle x509bundle.Source, at time.Time) (spiffeid.ID, *x509.Certificate, bool) {
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e == nil || at.Before(e.notBefore) || at.After(e.notAfter) {
		return spiffeid.ID{}, nil, false
	}
	b, err := bundle.GetX509BundleForTrustDomain(e.id.TrustDomain())
	if err != nil || !b.Equal(e.bundle) {
		return spiffeid.ID{}, nil, false
	}
	return e.id, e.leaf, true
}

// store keeps what verifying a chain proved: its leaf certs[0] verified
// as id against bundle, through chain (leaf to trust anchor).
func (c *ChainCache) store(key [sha256.Size]byte, id spiffeid.ID, leaf *x509.Certificate, bundle x509bundle.Source, chain []*x509.Certificate) {
	if len(chain) == 0 {
		return
	}
	b, err := bundle.GetX509BundleForTrustDomain(id.TrustDomain())
	if err != nil {
		return
	}
	e := &chainEntry{id: id, leaf: leaf, bundle: b.Clone(), notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter}
	for _, cert := range chain[1:] {
		if cert.NotBefore.After(e.notBefore) {
			e.notBefore = cert.NotBefore
		}
		if cert.NotAfter.Before(e.notAfter) {
			e.notAfter = cert.NotAfter
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[key] = e
}

// verifyChain verifies the DER chain against bundle at time at, through
// cache if not nil, and returns the leaf's ID and certificate, or the rule
// it breaks.
func verifyChain(chain [][]byte, bundle x509bundle.Source, at time.Time, cache *ChainCache) (spiffeid.ID, *x509.Certificate, string, error) {
	var key [sha256.Size]byte
	if cache != nil {
		key = chainKey(chain)
		if id, leaf, ok := cache.lookup(key, bundle, at); ok {
			return id, leaf, "", nil
		}
	}
	certs := make([]*x509.Certificate, 0, len(chain))
	for _, der := range chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return spiffeid.ID{}, nil, "receipt.malformed", fmt.Errorf("certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return spiffeid.ID{}, nil, "receipt.malformed", errors.New("no certificate")
	}
	id, chains, err := x509svid.Verify(certs, bundle, x509svid.WithTime(at))
	if err != nil {
		return spiffeid.ID{}, nil, "receipt.chain", err
	}
	if cache != nil && len(chains) > 0 {
		cache.store(key, id, certs[0], bundle, chains[0])
	}
	return id, certs[0], "", nil
}
