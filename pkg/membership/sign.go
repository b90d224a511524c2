package membership

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Files of the secretariat's membership key in its data directory.
const (
	// SignerKeyFile holds the membership note signing key (0600).
	SignerKeyFile = "membership.key"
	// VerifierKeyFile holds its verifier key (0644): the key every node
	// and every backbone server is configured with.
	VerifierKeyFile = "membership.vkey"
)

// KeyName is the name of network's membership key in signed notes, e.g.
// "iant.test/membership".
func KeyName(network string) string { return network + "/membership" }

// LoadOrCreateKey reads the membership signing key of network from dir,
// or on first use generates it (0600) and writes its verifier key beside
// it (0644). It returns the signer and the verifier key.
func LoadOrCreateKey(dir, network string) (note.Signer, string, error) {
	path := filepath.Join(dir, SignerKeyFile)
	skey, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		s, v, err := note.GenerateKey(rand.Reader, KeyName(network))
		if err != nil {
			return nil, "", fmt.Errorf("membership: generate key: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(dir, VerifierKeyFile), []byte(v+"\n"), 0o644); err != nil {
			return nil, "", fmt.Errorf("membership: %w", err)
		}
		if err := writeFileAtomic(path, []byte(s+"\n"), 0o600); err != nil {
			return nil, "", fmt.Errorf("membership: %w", err)
		}
		skey = []byte(s)
	} else if err != nil {
		return nil, "", fmt.Errorf("membership: %w", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, "", fmt.Errorf("membership: %s: %w", path, err)
	}
	if signer.Name() != KeyName(network) {
		return nil, "", fmt.Errorf("membership: %s signs for %q, not %q", path, signer.Name(), KeyName(network))
	}
	vkey, err := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	if err != nil {
		return nil, "", fmt.Errorf("membership: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil || v.KeyHash() != signer.KeyHash() || v.Name() != signer.Name() {
		return nil, "", fmt.Errorf("membership: %s does not match %s", VerifierKeyFile, SignerKeyFile)
	}
	return signer, strings.TrimSpace(string(vkey)), nil
}

// NewVerifier parses vkey, the membership verifier key of network
// ("<network>/membership+<hash>+<key>"), refusing a key of another name:
// an audit log key, or another network's.
func NewVerifier(network, vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("membership: verifier key: %w", err)
	}
	if v.Name() != KeyName(network) {
		return nil, fmt.Errorf("membership: verifier key is named %q, want %q (the secretariat's %s)", v.Name(), KeyName(network), VerifierKeyFile)
	}
	return v, nil
}

// Sign checks t and returns it as a note signed by s.
func (t Table) Sign(s note.Signer) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return sign(marshalTable(&t), s)
}

// Sign checks l and returns it as a note signed by s.
func (l DenyList) Sign(s note.Signer) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	return sign(marshalDenyList(&l), s)
}

func sign(text string, s note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return nil, fmt.Errorf("membership: sign: %w", err)
	}
	return msg, nil
}

// open verifies a signed document with v, checks that it is about
// network, and returns its kind and text. Errors wrap [ErrSignature],
// [ErrMalformed] or [ErrNetwork].
func open(data []byte, v note.Verifier, network string) (Kind, string, error) {
	if len(data) > MaxDocumentBytes+4096 {
		return KindUnknown, "", fmt.Errorf("%w: %d bytes", ErrMalformed, len(data))
	}
	n, err := note.Open(data, note.VerifierList(v))
	if err != nil {
		return KindUnknown, "", fmt.Errorf("%w: %v", ErrSignature, err)
	}
	k := kindOf(n.Text)
	if k == KindUnknown {
		return k, "", fmt.Errorf("%w: neither a membership table nor a deny list", ErrMalformed)
	}
	if _, net, _ := strings.Cut(n.Text, "\nnetwork "); !strings.HasPrefix(net, network+"\n") {
		return k, "", fmt.Errorf("%w: the %s is not about %s", ErrNetwork, k, network)
	}
	return k, n.Text, nil
}

// OpenTable verifies a signed membership table with v and parses it; it
// must be about network. Errors wrap [ErrSignature], [ErrMalformed] (also
// for a deny list) or [ErrNetwork].
func OpenTable(data []byte, v note.Verifier, network string) (Table, error) {
	k, text, err := open(data, v, network)
	switch {
	case err != nil:
		return Table{}, err
	case k != KindTable:
		return Table{}, fmt.Errorf("%w: a %s, not a membership table", ErrMalformed, k)
	}
	return parseTable(text)
}

// OpenDenyList verifies a signed deny list like [OpenTable].
func OpenDenyList(data []byte, v note.Verifier, network string) (DenyList, error) {
	k, text, err := open(data, v, network)
	switch {
	case err != nil:
		return DenyList{}, err
	case k != KindDenyList:
		return DenyList{}, fmt.Errorf("%w: a %s, not a deny list", ErrMalformed, k)
	}
	return parseDenyList(text)
}

// writeFileAtomic replaces path with data (mode perm): a crash leaves the
// old content or the new, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := f.Chmod(perm); err != nil {
		return errors.Join(err, f.Close())
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
