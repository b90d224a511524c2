package statenode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
)

// entryCacheTTL bounds how long a verified directory entry of another
// state is used before it is fetched again: the fallback for an entry
// published while the push (dirwatch.go) could not reach this node.
const entryCacheTTL = 30 * time.Second

// cachedEntry is a verified directory entry and when it was fetched.
type cachedEntry struct {
	entry   seal.DirectoryEntry
	fetched time.Time
}

// entries caches verified directory entries of other states, and the
// newest one accepted of each (dirmark.go).
type entries struct {
	mu sync.Mutex
	m  map[string]cachedEntry

	// acceptMu serializes the decisions on fetched entries (and the
	// writes of marks they make); marks is guarded by it.
	acceptMu sync.Mutex
	marks    map[string]*entryMark
	keptSeq  map[string]uint64 // sequence of the entry whose keys were last kept (signkeys.go)
}

// entryOf returns the verified directory entry of state's node, fetching
// it again when the cached one is stale or does not hold wantSignKey.
//
// An entry fetched is used only if it is not older than the newest one
// this node accepted of that state before (dirmark.go): a replay of an
// older genuine entry, e.g. one whose key was rotated away since, is
// refused and logged, and the newer one kept in use. So is an entry that
// does not verify, while the one accepted before is still valid.
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
		// The directory cannot be read (the backbone is down): an entry
		// verified before and still valid keeps posting (and opening)
		// going, as a leaf node's kept entries do during a cut.
		if errors.Is(err, backbone.ErrNoEntry) {
			return seal.DirectoryEntry{}, err
		}
		if kept, kerr := n.keptEntry(ctx, state, wantSignKey, now); kerr == nil {
			n.log.Warn("directory unreachable: using the entry verified before", "state", state, "err", err)
			return kept, nil
		}
		return seal.DirectoryEntry{}, err
	}
	e, err := seal.VerifyEntryOf(data, n.cfg.Bundle, n.cfg.TrustDomain, state, now)
	if err == nil {
		e, err = n.acceptEntry(ctx, state, e, data, now)
	}
	if err != nil {
		if !errors.Is(err, errReplayed) { // acceptEntry logged it
			n.log.Warn("directory entry refused", "state", state, "err", err)
		}
		kept, kerr := n.keptEntry(ctx, state, wantSignKey, now)
		if kerr != nil {
			return seal.DirectoryEntry{}, err
		}
		e = kept
	}
	n.cacheEntry(state, e, now)
	return e, nil
}

// keptEntry returns the entry of state verified before, from the cache or
// from its mark in the database, if it is still valid and holds
// wantSignKey ("" for any).
func (n *Node) keptEntry(ctx context.Context, state, wantSignKey string, now time.Time) (seal.DirectoryEntry, error) {
	n.dir.mu.Lock()
	c, ok := n.dir.m[state]
	n.dir.mu.Unlock()
	if ok && now.Before(c.entry.NotAfter) && (wantSignKey == "" || hasSignKey(c.entry, wantSignKey)) {
		return c.entry, nil
	}
	e, err := n.markedEntry(ctx, state, now)
	if err != nil {
		return seal.DirectoryEntry{}, err
	}
	if wantSignKey != "" && !hasSignKey(e, wantSignKey) {
		return seal.DirectoryEntry{}, fmt.Errorf("signing key %s is not published by %s", wantSignKey, state)
	}
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
