package seal_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

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
	for _, name := range []string{"testdata/v1/sealed.bin", "testdata/v2/sealed.bin", "testdata/v2/copy-BR.bin",
		"testdata/v3/sealed.bin", "testdata/v3/copy-BR.bin", "testdata/v4/revision.bin", "testdata/v4/revision-BR.bin",
		"testdata/v4/revocation-BR.bin", "testdata/v4/reply-MX.bin", "testdata/v5/sealed.bin", "testdata/v5/copy-BR.bin"} {
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

// FuzzUnmarshalForwarded: UnmarshalForwarded never panics, and whatever it
// accepts re-marshals to the same bytes.
func FuzzUnmarshalForwarded(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US", "PE")
	b := mustMarshal(f, n.forward(f, n.seal(f, "MX", body, "BR", "US"), "BR", "PE"))
	f.Add(b)
	f.Add(b[:len(b)/2])
	for _, name := range []string{"testdata/v3/forwarded-PE.bin", "testdata/v4/forwarded-revocation-PE.bin"} {
		g, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g)
	}
	f.Add([]byte("IANTFWRD\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fw, err := seal.UnmarshalForwarded(in)
		if err != nil {
			if fw != nil {
				t.Fatal("UnmarshalForwarded returned a forward and an error")
			}
			return
		}
		out, err := fw.Marshal()
		if err != nil {
			t.Fatalf("Marshal(UnmarshalForwarded(in)) = %v", err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("Marshal(UnmarshalForwarded(in)) != in\n in: %x\nout: %x", in, out)
		}
	})
}

// FuzzOpenForwarded: mutated forwards never open, unless they are the
// original bytes; nothing panics; decryption is never reached by a
// forgery.
func FuzzOpenForwarded(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US", "PE")
	orig := mustMarshal(f, n.forward(f, n.seal(f, "MX", body, "BR", "US"), "BR", "PE"))
	f.Add(orig)
	f.Fuzz(func(t *testing.T, in []byte) {
		fw, err := seal.UnmarshalForwarded(in)
		if err != nil {
			return
		}
		pt, err := n.openForwarded(fw, "PE")
		switch {
		case err == nil && !bytes.Equal(in, orig):
			t.Fatalf("modified forward opened: %x", in)
		case err == nil && !bytes.Equal(pt, body):
			t.Fatalf("OpenForwarded = %q, want %q", pt, body)
		case errors.Is(err, seal.ErrDecrypt), errors.Is(err, seal.ErrKeyCommitment):
			t.Fatalf("OpenForwarded reached the content key of a forged forward: %v", err)
		}
	})
}

// FuzzParsePrivate: ParsePrivate never panics; what it accepts in the
// current format re-marshals to the same bytes, and anything it accepts
// round-trips.
func FuzzParsePrivate(f *testing.F) {
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustPrivate(f, k))
	if k, err = k.RotateSign(created); err != nil {
		f.Fatal(err)
	}
	f.Add(mustPrivate(f, k))
	if k, err = k.RotateSignCompromised(created.Add(time.Hour)); err != nil {
		f.Fatal(err)
	}
	f.Add(mustPrivate(f, k))                     // version 3
	f.Add(mustPrivate(f, droppedCompromised(f))) // version 4
	for _, name := range []string{"testdata/v1/keys-MX.bin", "testdata/v3/keys-MX.bin", "testdata/compromised/keys-MX.bin", "testdata/compromised4/keys-MX.bin"} {
		g, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := seal.ParsePrivate(in)
		if err != nil {
			return
		}
		out := mustPrivate(t, k)
		compromised := slices.ContainsFunc(k.RetiredSignKeys(), func(r seal.RetiredSignKey) bool { return r.Compromised })
		named := len(k.CompromisedSignKeys()) > 0
		if len(in) > 8 && (in[8] == 2 && !named || in[8] == 3 && compromised && !named || in[8] == 4 && named) && !bytes.Equal(in, out) {
			t.Fatalf("MarshalPrivate(ParsePrivate(in)) != in\n in: %x\nout: %x", in, out)
		}
		k2, err := seal.ParsePrivate(out)
		if err != nil || k2.Public().SignKeyID != k.Public().SignKeyID || k2.Public().KEMKeyID != k.Public().KEMKeyID ||
			!slices.Equal(k2.CompromisedSignKeys(), k.CompromisedSignKeys()) {
			t.Fatalf("ParsePrivate(MarshalPrivate(k)) = %v, or other keys", err)
		}
	})
}

// FuzzParseKEMPrivate: ParseKEMPrivate never panics, and whatever it
// accepts re-marshals to the same bytes.
func FuzzParseKEMPrivate(f *testing.F) {
	g, err := os.ReadFile("testdata/v3/kem-BR.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(g)
	f.Add([]byte("IANTKEMK\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := seal.ParseKEMPrivate(in)
		if err != nil {
			return
		}
		out, err := k.MarshalPrivate()
		if err != nil || !bytes.Equal(in, out) {
			t.Fatalf("MarshalPrivate(ParseKEMPrivate(in)) = %x, %v, want %x", out, err, in)
		}
	})
}
