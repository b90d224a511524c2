package keystore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

// TestRotateSignAnnounced: the next keys are announced before they are
// kept; a failed announcement changes nothing, a successful one makes the
// announced keys current, on disk too.
func TestRotateSignAnnounced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.keys")
	s := open(t, path, "MX", keystore.Options{})
	before := s.Current()
	refused := errors.New("directory unreachable")
	err := s.RotateSignAnnounced(t0.Add(time.Hour), func(next *seal.NodeKeys) error {
		if s.Current() != before {
			t.Error("the next keys are current before they were announced")
		}
		return refused
	})
	if !errors.Is(err, refused) || s.Current() != before {
		t.Fatalf("RotateSignAnnounced(failing announcement) = %v, current changed %v; want the announcement's error, nothing changed",
			err, s.Current() != before)
	}
	var announced *seal.NodeKeys
	at := t0.Add(2 * time.Hour)
	if err := s.RotateSignAnnounced(at, func(next *seal.NodeKeys) error {
		announced = next
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now := s.Current()
	switch {
	case now != announced:
		t.Error("the current keys are not the announced ones")
	case now.Public().SignKeyID == before.Public().SignKeyID || now.Public().KEMKeyID != before.Public().KEMKeyID:
		t.Error("RotateSignAnnounced did not change only the signing key")
	}
	retired := now.RetiredSignKeys()
	if len(retired) != 1 || retired[0].KeyID != before.Public().SignKeyID || !retired[0].RetiredAt.Equal(at) {
		t.Errorf("retired signing keys = %+v, want the old key retired at %s", retired, at)
	}
	if got := open(t, path, "MX", keystore.Options{}).Current().Public(); got.SignKeyID != now.Public().SignKeyID {
		t.Errorf("reopened file signs with %s, want the announced %s", got.SignKeyID, now.Public().SignKeyID)
	}
}

// TestRotateSignAnnouncedWriteFails: announced but not written, the store
// keeps its keys and says the announcement must be undone.
func TestRotateSignAnnouncedWriteFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	s := open(t, filepath.Join(dir, "node.keys"), "MX", keystore.Options{})
	before := s.Current()
	err := s.RotateSignAnnounced(t0.Add(time.Hour), func(*seal.NodeKeys) error {
		// The disk goes away while the entry is published.
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		return os.WriteFile(dir, nil, 0o600)
	})
	if err == nil || s.Current() != before {
		t.Errorf("RotateSignAnnounced without a disk = %v, current changed %v; want an error, nothing changed", err, s.Current() != before)
	}
}
