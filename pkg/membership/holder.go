package membership

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// Files a [Holder] keeps in its directory: the newest signed documents it
// accepted, as signed.
const (
	TableFile    = "membership.table"
	DenyListFile = "membership.denylist"
)

// Holder keeps the newest membership table and deny list a reader has
// verified, never going back to an older version.
type Holder struct {
	network string
	v       note.Verifier
	dir     string

	mu          sync.Mutex
	table       Table
	tableSigned []byte
	deny        DenyList
	denySigned  []byte
	changed     chan struct{} // closed and replaced at each change
}

// NewHolder returns a holder of network's documents verified with vkey
// (the secretariat's membership verifier key, see [NewVerifier]). When dir
// is not empty, the holder first reads the documents it kept there (a
// kept document that does not verify is an error naming the file) and
// keeps every document it accepts there, so a restarted reader never goes
// back to an older version.
func NewHolder(network, vkey, dir string) (*Holder, error) {
	v, err := NewVerifier(network, vkey)
	if err != nil {
		return nil, err
	}
	h := &Holder{network: network, v: v, dir: dir, changed: make(chan struct{})}
	if dir == "" {
		return h, nil
	}
	for _, name := range []string{TableFile, DenyListFile} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("membership: %w", err)
		}
		if _, _, err := h.offer(data, false); err != nil {
			return nil, fmt.Errorf("membership: %s: %w", path, err)
		}
	}
	return h, nil
}

// Network returns the trust domain name the holder's documents are about.
func (h *Holder) Network() string { return h.network }

// Offer verifies a signed document (a table or a deny list) and keeps it
// if it is newer than the one of its kind held. It returns the document's
// kind and whether it was accepted: false with a nil error for the very
// document held. It returns an error wrapping [ErrSignature],
// [ErrMalformed] or [ErrNetwork] for a document it cannot trust,
// [ErrStale] for an older version (a replay; ignored) and [ErrConflict]
// for another document under the version held (the held one stays).
func (h *Holder) Offer(data []byte) (Kind, bool, error) { return h.offer(data, h.dir != "") }

func (h *Holder) offer(data []byte, keep bool) (Kind, bool, error) {
	k, text, err := open(data, h.v, h.network)
	if err != nil {
		return k, false, err
	}
	switch k {
	case KindTable:
		t, err := parseTable(text)
		if err != nil {
			return k, false, err
		}
		ok, err := h.accept(k, t.Version, data, keep, func() { h.table, h.tableSigned = t, bytes.Clone(data) })
		return k, ok, err
	default:
		l, err := parseDenyList(text)
		if err != nil {
			return k, false, err
		}
		ok, err := h.accept(k, l.Version, data, keep, func() { h.deny, h.denySigned = l, bytes.Clone(data) })
		return k, ok, err
	}
}

// accept keeps a verified document of version v when it is newer than the
// one held, first on disk when keep is set.
func (h *Holder) accept(k Kind, v uint64, data []byte, keep bool, set func()) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	held, heldData := h.table.Version, h.tableSigned
	file := TableFile
	if k == KindDenyList {
		held, heldData, file = h.deny.Version, h.denySigned, DenyListFile
	}
	switch {
	case v < held:
		return false, fmt.Errorf("%w: %s version %d offered, %d held", ErrStale, k, v, held)
	case v == held && sameText(data, heldData):
		return false, nil
	case v == held:
		return false, fmt.Errorf("%w: two %ss of version %d", ErrConflict, k, v)
	}
	if keep {
		if err := writeFileAtomic(filepath.Join(h.dir, file), data, 0o644); err != nil {
			return false, fmt.Errorf("membership: keep %s: %w", k, err)
		}
	}
	set()
	close(h.changed)
	h.changed = make(chan struct{})
	return true, nil
}

// sameText reports whether two signed notes hold the same text (their
// signatures may differ: Ed25519 is deterministic, but a note may carry
// other signatures beside the secretariat's).
func sameText(a, b []byte) bool {
	ta, _, _ := bytes.Cut(a, []byte("\n\n"))
	tb, _, _ := bytes.Cut(b, []byte("\n\n"))
	return len(b) > 0 && bytes.Equal(ta, tb)
}

// Table returns the newest table held; ok is false before the first.
func (h *Holder) Table() (t Table, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.table.clone(), h.table.Version > 0
}

// SignedTable returns the newest table held as signed, or nil.
func (h *Holder) SignedTable() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.tableSigned)
}

// DenyList returns the newest deny list held; version 0 (denying nothing)
// before the first.
func (h *Holder) DenyList() DenyList {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.deny
	l.Entries = append([]DenyEntry(nil), l.Entries...)
	return l
}

// SignedDenyList returns the newest deny list held as signed, or nil.
func (h *Holder) SignedDenyList() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.denySigned)
}

// Versions returns the versions of the table and the deny list held (0
// for none).
func (h *Holder) Versions() (table, deny uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.table.Version, h.deny.Version
}

// Changed returns a channel that is closed when the holder next accepts a
// document; take it before reading the documents to never miss a change.
func (h *Holder) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// DeniesCert reports whether the deny list held denies the leaf
// certificate cert (its serial number or its SPIFFE ID), and the entry
// that does, without copying the list.
func (h *Holder) DeniesCert(cert *x509.Certificate) (DenyEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.deny.DeniesCert(cert)
}

// StatusOf returns the standing of state cc in the table held; held is
// false before the first table.
func (h *Holder) StatusOf(cc string) (s Status, held bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.table.StatusOf(cc), h.table.Version > 0
}
