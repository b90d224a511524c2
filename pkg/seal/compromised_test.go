package seal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// TestCompromisedSigningKey: after MX retires its signing key as
// compromised at T, nothing that key signs verifies, dated before T or
// after (ErrKeyCompromised), forged signatures still fail as such, and
// the new key verifies; the entry is version 3 and says so; the node's
// keys say so after a round trip through their private format.
func TestCompromisedSigningKey(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["MX"]
	rotatedAt := created.Add(time.Hour)
	cur, err := old.RotateSignCompromised(rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	n.publish(t, "MX", cur)
	e := n.dir["MX"]
	if e.Version != seal.Version3 || len(e.RetiredSign) != 1 || !e.RetiredSign[0].Compromised {
		t.Fatalf("entry after a compromised rotation = version %d, retired %+v; want version 3, one compromised", e.Version, e.RetiredSign)
	}
	if k, ok := e.SignKey(old.Public().SignKeyID); !ok || !k.Compromised {
		t.Errorf("SignKey(old) = %+v, %v; want compromised", k, ok)
	}
	for _, tt := range []struct {
		name string
		keys *seal.NodeKeys
		at   time.Time
		want error
	}{
		{"old key before the rotation", old, rotatedAt.Add(-time.Hour), seal.ErrKeyCompromised},
		{"old key after the rotation", old, rotatedAt.Add(time.Hour), seal.ErrKeyCompromised},
		{"new key after the rotation", cur, rotatedAt.Add(time.Hour), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr := n.header("MX")
			hdr.CreatedAt, hdr.ExpiresAt = tt.at, time.Time{}
			s, err := seal.Seal(hdr, body, n.public("BR"), tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.open(s, "BR"); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
			s.Signature[0] ^= 1
			if _, err := n.open(s, "BR"); !errors.Is(err, seal.ErrSignature) {
				t.Errorf("Open(bad signature) = %v, want ErrSignature", err)
			}
		})
	}
	b, err := cur.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	back, err := seal.ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if r := back.RetiredSignKeys(); len(r) != 1 || !r[0].Compromised || b[8] != 3 {
		t.Errorf("private format version %d, retired %+v; want version 3, one compromised", b[8], r)
	}
	// A later ordinary rotation keeps the flag.
	next, err := back.RotateSign(rotatedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r := next.RetiredSignKeys(); len(r) != 2 || r[0].Compromised || !r[1].Compromised {
		t.Errorf("after another rotation: retired %+v; want the older one compromised", r)
	}
}

// TestUncompromisedEntryStaysVersion2: keys retired without compromise
// publish a version 2 entry (nodes that do not know version 3 read it),
// and their private format stays version 2.
func TestUncompromisedEntryStaysVersion2(t *testing.T) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	if k, err = k.RotateSign(created); err != nil {
		t.Fatal(err)
	}
	if v := k.Entry("spiffe://iant.test/state/MX/node/node", created, created.Add(time.Hour), 1).Version; v != seal.Version2 {
		t.Errorf("entry version %d, want 2", v)
	}
	b, err := k.MarshalPrivate()
	if err != nil || b[8] != 2 {
		t.Errorf("MarshalPrivate = version %d, %v; want version 2", b[8], err)
	}
}
