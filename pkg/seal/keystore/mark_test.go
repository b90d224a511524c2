package keystore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

// TestMarkCompromised: after a normal signing-key rotation, the retired
// key is marked compromised on disk (a reopened store says so), the
// current key and retirement time unchanged; marking it again, the
// current key, or an unknown ID are refused with their sentinels and
// change nothing.
func TestMarkCompromised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mx.keys")
	s := open(t, path, "MX", keystore.Options{})
	old := s.Current().Public().SignKeyID
	if err := s.RotateSign(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cur := s.Current().Public().SignKeyID
	if err := s.MarkCompromised(old); err != nil {
		t.Fatal(err)
	}
	back := open(t, path, "MX", keystore.Options{})
	r := back.Current().RetiredSignKeys()
	if len(r) != 1 || r[0].KeyID != old || !r[0].Compromised || !r[0].RetiredAt.Equal(t0.Add(time.Hour)) ||
		back.Current().Public().SignKeyID != cur {
		t.Fatalf("reopened after the mark: current %s, retired %+v", back.Current().Public().SignKeyID, r)
	}
	for _, tc := range []struct {
		name, id string
		want     error
	}{
		{"already marked", old, keystore.ErrAlreadyCompromised},
		{"current key", cur, keystore.ErrCurrentSignKey},
		{"unknown key", "nope", keystore.ErrUnknownSignKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := back.MarkCompromised(tc.id); !errors.Is(err, tc.want) {
				t.Errorf("MarkCompromised(%q) = %v, want %v", tc.id, err, tc.want)
			}
			if got := back.Current().RetiredSignKeys(); len(got) != 1 || !got[0].Compromised || back.Current().Public().SignKeyID != cur {
				t.Errorf("refused mark changed the keys: current %s, retired %+v", back.Current().Public().SignKeyID, got)
			}
		})
	}
}
