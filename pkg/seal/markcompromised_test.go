package seal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// TestMarkRetiredKeyCompromised: MX rotated normally at T (old key K
// retired, entry version 2), and what K signed before T verifies. Later
// MX marks K compromised: the new entry (version 3, same retirement
// time, same current key) flags K, and a bulletin K signed before T —
// what a thief of K would forge — no longer verifies
// (ErrKeyCompromised); the current key still does. Marking again changes
// nothing; the current key and an unknown ID are refused (ErrKey).
func TestMarkRetiredKeyCompromised(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["MX"]
	rotatedAt := created.Add(time.Hour)
	cur, err := old.RotateSign(rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	n.publish(t, "MX", cur)
	backdated := func(keys *seal.NodeKeys, at time.Time) error {
		hdr := n.header("MX")
		hdr.CreatedAt, hdr.ExpiresAt = at, time.Time{}
		s, err := seal.Seal(hdr, body, n.public("BR"), keys)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.open(s, "BR")
		return err
	}
	if err := backdated(old, rotatedAt.Add(-time.Minute)); err != nil {
		t.Fatalf("before the mark, the old key's backdated bulletin = %v, want verified", err)
	}
	oldID := old.Public().SignKeyID
	marked, err := cur.MarkSignCompromised(oldID)
	if err != nil {
		t.Fatal(err)
	}
	if r := cur.RetiredSignKeys(); r[0].Compromised {
		t.Fatal("MarkSignCompromised changed its receiver")
	}
	n.publish(t, "MX", marked)
	e := n.dir["MX"]
	if e.Version != seal.Version3 || len(e.RetiredSign) != 1 || !e.RetiredSign[0].Compromised ||
		!e.RetiredSign[0].RetiredAt.Equal(rotatedAt) || e.SignKeyID != cur.Public().SignKeyID {
		t.Fatalf("entry after the mark = version %d, current %s, retired %+v", e.Version, e.SignKeyID, e.RetiredSign)
	}
	if err := backdated(old, rotatedAt.Add(-time.Minute)); !errors.Is(err, seal.ErrKeyCompromised) {
		t.Errorf("after the mark, the old key's backdated bulletin = %v, want ErrKeyCompromised", err)
	}
	if err := backdated(marked, rotatedAt.Add(time.Minute)); err != nil {
		t.Errorf("after the mark, the current key's bulletin = %v, want verified", err)
	}
	if again, err := marked.MarkSignCompromised(oldID); err != nil || again != marked {
		t.Errorf("marking again = %p, %v; want the same keys, nil", again, err)
	}
	for _, id := range []string{marked.Public().SignKeyID, "unknown"} {
		if _, err := marked.MarkSignCompromised(id); !errors.Is(err, seal.ErrKey) {
			t.Errorf("MarkSignCompromised(%q) = %v, want ErrKey", id, err)
		}
	}
}
