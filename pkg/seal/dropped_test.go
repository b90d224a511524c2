package seal_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// droppedCompromised is MX's keys after a rotation as compromised and
// seal.MaxRetiredSignKeys ordinary ones: the compromised key is no longer
// retired, only named.
func droppedCompromised(tb testing.TB) *seal.NodeKeys {
	tb.Helper()
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		tb.Fatal(err)
	}
	if k, err = k.RotateSignCompromised(created); err != nil {
		tb.Fatal(err)
	}
	for i := range seal.MaxRetiredSignKeys {
		if k, err = k.RotateSign(created.Add(time.Duration(i+1) * time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
	return k
}

// TestCompromisedKeyOutlivesTheRetiredList: MX retires key K as
// compromised, then rotates seal.MaxRetiredSignKeys more times, so that
// K drops from its retired keys. Its keys and its entry (version 4) keep
// naming K, and a bulletin K signed, dated before its retirement, is
// refused (ErrKeyCompromised), as is one whose signature is garbage. The
// keys round-trip in private format 4.
func TestCompromisedKeyOutlivesTheRetiredList(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	old := n.keys["MX"]
	k := old.Public().SignKeyID
	cur, err := old.RotateSignCompromised(created.Add(time.Hour))
	for i := 0; err == nil && i < seal.MaxRetiredSignKeys; i++ {
		cur, err = cur.RotateSign(created.Add(time.Duration(i+2) * time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(cur.RetiredSignKeys(), func(r seal.RetiredSignKey) bool { return r.KeyID == k }) {
		t.Fatalf("K still retired after %d rotations", seal.MaxRetiredSignKeys)
	}
	if got := cur.CompromisedSignKeys(); !slices.Equal(got, []string{k}) {
		t.Fatalf("CompromisedSignKeys() = %v, want [%s]", got, k)
	}
	n.publish(t, "MX", cur)
	if e := n.dir["MX"]; e.Version != seal.Version4 || !slices.Equal(e.CompromisedSign, []string{k}) {
		t.Fatalf("entry: version %d, compromised %v", e.Version, e.CompromisedSign)
	}
	hdr := n.header("MX")
	hdr.CreatedAt, hdr.ExpiresAt = created.Add(30*time.Minute), time.Time{}
	s, err := seal.Seal(hdr, body, n.public("BR"), old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.open(s, "BR"); !errors.Is(err, seal.ErrKeyCompromised) {
		t.Errorf("Open(signed by the dropped compromised key) = %v, want ErrKeyCompromised", err)
	}
	s.Signature[0] ^= 1
	if _, err := n.open(s, "BR"); !errors.Is(err, seal.ErrKeyCompromised) {
		t.Errorf("Open(garbled signature of the dropped compromised key) = %v, want ErrKeyCompromised", err)
	}
	b := mustPrivate(t, cur)
	again, err := seal.ParsePrivate(b)
	if err != nil || b[8] != 4 || !slices.Equal(again.CompromisedSignKeys(), []string{k}) || !bytes.Equal(mustPrivate(t, again), b) {
		t.Errorf("private format: version %d, ParsePrivate = %v, compromised %v", b[8], err, again.CompromisedSignKeys())
	}
}

// TestMarkDroppedSignCompromised: a key rotated out of the retired list
// normally is named compromised later; marking it again changes
// nothing; the current key, a retired one, and what is not a key ID are
// refused (ErrKey); the list is bounded (ErrMalformed).
func TestMarkDroppedSignCompromised(t *testing.T) {
	old, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	k := old.Public().SignKeyID
	cur := old
	for i := 0; err == nil && i <= seal.MaxRetiredSignKeys; i++ {
		cur, err = cur.RotateSign(created.Add(time.Duration(i+1) * time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.CompromisedSignKeys()) != 0 {
		t.Fatal("a key dropped after a normal retirement is named compromised")
	}
	marked, err := cur.MarkDroppedSignCompromised(k)
	if err != nil || !slices.Equal(marked.CompromisedSignKeys(), []string{k}) || len(cur.CompromisedSignKeys()) != 0 {
		t.Fatalf("MarkDroppedSignCompromised = %v, named %v (receiver %v)", err, marked.CompromisedSignKeys(), cur.CompromisedSignKeys())
	}
	if again, err := marked.MarkDroppedSignCompromised(k); err != nil || again != marked {
		t.Errorf("marking again = %p, %v; want the same keys, nil", again, err)
	}
	for _, id := range []string{marked.Public().SignKeyID, marked.RetiredSignKeys()[0].KeyID, "unknown", strings.Repeat("G", 32)} {
		if _, err := marked.MarkDroppedSignCompromised(id); !errors.Is(err, seal.ErrKey) {
			t.Errorf("MarkDroppedSignCompromised(%q) = %v, want ErrKey", id, err)
		}
	}
	full := marked
	for i := 1; i < seal.MaxCompromisedSignKeys; i++ {
		if full, err = full.MarkDroppedSignCompromised(seal.KeyID("Ed25519", []byte{byte(i), byte(i >> 8)})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := full.MarkDroppedSignCompromised(seal.KeyID("Ed25519", []byte("one more"))); !errors.Is(err, seal.ErrMalformed) {
		t.Errorf("mark beyond MaxCompromisedSignKeys = %v, want ErrMalformed", err)
	}
	if b := mustPrivate(t, full); len(b) == 0 {
		t.Error("keys naming the most compromised keys do not marshal")
	}
}
