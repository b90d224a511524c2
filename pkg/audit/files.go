package audit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Files of the secretariat's audit log key in its data directory.
const (
	// SignerKeyFile holds the log's note signing key (0600).
	SignerKeyFile = "audit.key"
	// VerifierKeyFile holds the log's note verifier key (0644): the key
	// every state node must be configured with to check checkpoints.
	VerifierKeyFile = "audit.vkey"
)

// LoadLogKey reads the audit log's note signing key from dir, or generates
// it on first use (0600) and writes the verifier key beside it (0644). It
// returns the signer and the verifier key.
func LoadLogKey(dir, origin string) (note.Signer, string, error) {
	path := filepath.Join(dir, SignerKeyFile)
	skey, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		s, v, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			return nil, "", err
		}
		if err := writeFileAtomicMode(path, []byte(s+"\n"), 0o600); err != nil {
			return nil, "", err
		}
		skey = []byte(s)
		if err := writeFileAtomicMode(filepath.Join(dir, VerifierKeyFile), []byte(v+"\n"), 0o644); err != nil {
			return nil, "", err
		}
	} else if err != nil {
		return nil, "", err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	if signer.Name() != origin {
		return nil, "", fmt.Errorf("%s signs for %q, not %q", path, signer.Name(), origin)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	if err != nil {
		return nil, "", err
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil || v.KeyHash() != signer.KeyHash() || v.Name() != origin {
		return nil, "", fmt.Errorf("%s does not match %s", VerifierKeyFile, SignerKeyFile)
	}
	return signer, strings.TrimSpace(string(vkey)), nil
}

// writeFileAtomic replaces path with data (mode 0600) so that a crash
// leaves either the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	return writeFileAtomicMode(path, data, 0o600)
}

// writeFileAtomicMode is writeFileAtomic with the file's mode.
func writeFileAtomicMode(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := f.Chmod(mode); err != nil {
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
