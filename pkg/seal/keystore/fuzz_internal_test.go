package keystore

import (
	"bytes"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// FuzzDecode: decode never panics, and whatever it accepts encodes to the
// same bytes.
func FuzzDecode(f *testing.F) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		f.Fatal(err)
	}
	old, err := k.RotateKEM()
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	c := &contents{state: "MX", current: k, created: at, retired: []retiredKEM{{key: old.KEMKey(), created: at.Add(-time.Hour), retired: at}}}
	b, err := c.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-33])
	gone, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		f.Fatal(err)
	}
	c.dropped = []droppedSign{{public: gone.Public().SignPublic, retiredAt: at.Add(-48 * time.Hour)}}
	if b, err = c.encode(); err != nil {
		f.Fatal(err)
	}
	f.Add(b) // version 2
	f.Add([]byte(fileMagic))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := decode(in)
		if err != nil {
			return
		}
		out, err := c.encode()
		if err != nil || !bytes.Equal(in, out) {
			t.Fatalf("encode(decode(in)) = %x, %v, want %x", out, err, in)
		}
	})
}

// FuzzDecodeLegacy: the earlier format's decoder never panics.
func FuzzDecodeLegacy(f *testing.F) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		f.Fatal(err)
	}
	b, err := k.MarshalPrivate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte{0, 0, 0, byte(len(b))}, b...))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := decodeLegacy(in, time.Unix(1, 0))
		if err == nil && c.current == nil {
			t.Fatal("decodeLegacy accepted a file without keys")
		}
	})
}
