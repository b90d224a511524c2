package seal_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/oas-cicte/iant/pkg/seal"
)

// FuzzUnmarshal: Unmarshal never panics, and whatever it accepts
// re-marshals to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US")
	b, err := n.seal(f, "MX", body, "BR", "US").Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	small, err := n.seal(f, "MX", nil, "BR").Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add(b[:len(b)/2])
	// A per-recipient copy (hashes for the others' keys) and the golden
	// files of both versions.
	c, err := n.seal(f, "MX", body, "BR", "US").For("US")
	if err != nil {
		f.Fatal(err)
	}
	cb, err := c.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cb)
	for _, name := range []string{"testdata/v1/sealed.bin", "testdata/v2/sealed.bin", "testdata/v2/copy-BR.bin"} {
		g, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g)
	}
	f.Add([]byte("IANTSEAL\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := seal.Unmarshal(in)
		if err != nil {
			if s != nil {
				t.Fatal("Unmarshal returned a bulletin and an error")
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("Marshal(Unmarshal(in)) = %v", err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("Marshal(Unmarshal(in)) != in\n in: %x\nout: %x", in, out)
		}
	})
}

// FuzzOpen: mutated sealed bytes never open, unless they are the
// original bytes; nothing panics.
func FuzzOpen(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US")
	full := n.seal(f, "MX", body, "BR", "US")
	orig, err := full.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	c, err := full.For("US")
	if err != nil {
		f.Fatal(err)
	}
	copyUS, err := c.Marshal() // the copy US receives: its key, hashes of the others
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	f.Add(copyUS)
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := seal.Unmarshal(in)
		if err != nil {
			return
		}
		pt, err := n.open(s, "US")
		switch {
		case err == nil && !bytes.Equal(in, orig) && !bytes.Equal(in, copyUS):
			t.Fatalf("modified bulletin opened: %x", in)
		case err == nil && !bytes.Equal(pt, body):
			t.Fatalf("Open = %q, want %q", pt, body)
		case err != nil && errors.Is(err, seal.ErrDecrypt):
			// Only the origin's own key could produce this.
			t.Fatalf("Open reached decryption of a forged bulletin: %v", err)
		}
	})
}
