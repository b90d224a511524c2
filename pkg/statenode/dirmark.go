package statenode

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Directory entries never go backwards. Each node publishes its entries
// with a growing sequence (keys.go); a reader remembers, per state, the
// newest entry it accepted — its mark, kept in node.db so that a restart
// keeps it — and refuses an entry with a lower sequence, or the same
// sequence and other content. Such an entry is genuine (it verified) but
// old: a replay by whoever holds the state's SVID (a compromised node) or
// a backbone serving an old message, most likely to bring back a key
// rotated away since. The reader logs it (Warn, rule directory.replay)
// and goes on with the newer entry.
//
// A mark no longer holds once the entry it names has expired: every
// older entry of an honest node has expired by then too, and a state
// whose node was reinstalled (or one that published an absurd sequence)
// is not locked out for good. A reader that never saw the newer entry
// (a new node, or one whose database was lost) cannot tell a replay; the
// node whose entry was replayed publishes its own again within the hour
// (retention.go, checkOwnEntry).

// errReplayed is returned by acceptEntry for an entry older than the
// state's mark.
var errReplayed = errors.New("directory entry older than the one accepted before")

// entryMark is the newest entry of a state that this node accepted.
type entryMark struct {
	seq      uint64
	digest   [sha256.Size]byte
	notAfter time.Time
	data     []byte // the signed entry, as published
	refused  [sha256.Size]byte
}

// markOf returns the mark of state, reading it from the database the
// first time; nil if there is none. The caller holds dir.acceptMu.
func (n *Node) markOf(ctx context.Context, state string) (*entryMark, error) {
	if m, ok := n.dir.marks[state]; ok {
		return m, nil
	}
	sm, found, err := n.store.DirectoryMark(ctx, state)
	if err != nil {
		return nil, err
	}
	var m *entryMark
	if found {
		m = &entryMark{seq: sm.Sequence, digest: sm.Digest, notAfter: sm.NotAfter, data: sm.Entry}
	}
	if n.dir.marks == nil {
		n.dir.marks = map[string]*entryMark{}
	}
	n.dir.marks[state] = m
	return m, nil
}

// acceptEntry decides on entry e of state, verified at now from data: it
// returns e if it is not older than the state's mark (and raises the mark
// to it), else an error wrapping errReplayed, after logging the refusal.
func (n *Node) acceptEntry(ctx context.Context, state string, e seal.DirectoryEntry, data []byte, now time.Time) (seal.DirectoryEntry, error) {
	n.dir.acceptMu.Lock()
	defer n.dir.acceptMu.Unlock()
	m, err := n.markOf(ctx, state)
	if err != nil {
		return seal.DirectoryEntry{}, fmt.Errorf("directory mark of %s: %w", state, err)
	}
	d := entryDigest(e)
	switch {
	case m != nil && e.Sequence == m.seq && d == m.digest:
		n.keepSignKeys(ctx, e) // the entry accepted before
		return e, nil
	case m == nil || e.Sequence > m.seq || !now.Before(m.notAfter):
		next := &entryMark{seq: e.Sequence, digest: d, notAfter: e.NotAfter, data: data}
		if err := n.store.SetDirectoryMark(ctx, store.DirectoryMark{State: state, Sequence: e.Sequence, Digest: d,
			NotAfter: e.NotAfter, Entry: data, AcceptedAt: now}); err != nil {
			return seal.DirectoryEntry{}, fmt.Errorf("directory mark of %s: %w", state, err)
		}
		n.dir.marks[state] = next
		n.keepSignKeys(ctx, e)
		return e, nil
	}
	level := n.log.Warn
	if m.refused == d {
		level = n.log.Debug // logged when first seen
	}
	m.refused = d
	level("directory entry refused: older than the one accepted before", "rule", "directory.replay", "state", state,
		"sequence", e.Sequence, "accepted_sequence", m.seq, "kem_key", e.KEMKeyID, "sign_key", e.SignKeyID)
	return seal.DirectoryEntry{}, fmt.Errorf("%w: %s sequence %d, accepted %d", errReplayed, state, e.Sequence, m.seq)
}

// markedEntry returns the entry of state's mark, verified again at now.
func (n *Node) markedEntry(ctx context.Context, state string, now time.Time) (seal.DirectoryEntry, error) {
	n.dir.acceptMu.Lock()
	m, err := n.markOf(ctx, state)
	n.dir.acceptMu.Unlock()
	switch {
	case err != nil:
		return seal.DirectoryEntry{}, err
	case m == nil:
		return seal.DirectoryEntry{}, fmt.Errorf("no directory entry of %s accepted before", state)
	}
	return seal.VerifyEntry(m.data, n.cfg.Bundle, n.cfg.TrustDomain, now)
}

// entryDigest is the SHA-256 of what e says, whatever its signature: an
// unambiguous encoding of every field.
func entryDigest(e seal.DirectoryEntry) [sha256.Size]byte {
	var b []byte
	str := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	u64 := func(v uint64) { b = binary.BigEndian.AppendUint64(b, v) }
	str("iant/directory-entry-digest/v1")
	u64(uint64(e.Version))
	str(e.NodeID)
	str(e.State)
	str(e.KEMKeyID)
	str(string(e.KEMPublic))
	str(e.SignKeyID)
	str(string(e.SignPublic))
	u64(uint64(e.NotBefore.UnixNano()))
	u64(uint64(e.NotAfter.UnixNano()))
	u64(e.Sequence)
	u64(uint64(len(e.RetiredSign)))
	for _, r := range e.RetiredSign {
		str(r.KeyID)
		str(string(r.Public))
		u64(uint64(r.RetiredAt.UnixNano()))
		if r.Compromised { // absent before version 3: older digests unchanged
			str("compromised")
		}
	}
	return sha256.Sum256(b)
}
