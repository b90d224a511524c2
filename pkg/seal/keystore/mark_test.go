package keystore_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
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

// TestMarkDroppedCompromised: a signing key rotated out more than
// seal.MaxRetiredSignKeys times ago, which the current keys no longer
// list, is still known to the store (key file format 2, kept across a
// reopen) and can be marked compromised: the current keys then name it
// (seal.NodeKeys.CompromisedSignKeys), on disk. Marking it again is
// ErrAlreadyCompromised; a key ID the store never held is
// ErrUnknownSignKey.
func TestMarkDroppedCompromised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mx.keys")
	s := open(t, path, "MX", keystore.Options{})
	old := s.Current().Public().SignKeyID
	for i := range seal.MaxRetiredSignKeys + 1 {
		if err := s.RotateSign(t0.Add(time.Duration(i+1) * time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if slices.ContainsFunc(s.Current().RetiredSignKeys(), func(r seal.RetiredSignKey) bool { return r.KeyID == old }) {
		t.Fatal("the first key is still listed as retired")
	}
	back := open(t, path, "MX", keystore.Options{})
	if err := back.MarkCompromised(old); err != nil {
		t.Fatal(err)
	}
	again := open(t, path, "MX", keystore.Options{})
	if got := again.Current().CompromisedSignKeys(); !slices.Equal(got, []string{old}) {
		t.Fatalf("reopened after the mark: compromised %v, want [%s]", got, old)
	}
	if err := again.MarkCompromised(old); !errors.Is(err, keystore.ErrAlreadyCompromised) {
		t.Errorf("marking again = %v, want ErrAlreadyCompromised", err)
	}
	other, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	if err := again.MarkCompromised(other.Public().SignKeyID); !errors.Is(err, keystore.ErrUnknownSignKey) {
		t.Errorf("marking a key never held = %v, want ErrUnknownSignKey", err)
	}
}
