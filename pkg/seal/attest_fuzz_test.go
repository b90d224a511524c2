package seal_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/oas-cicte/iant/pkg/seal"
)

// FuzzUnmarshalAttestation: UnmarshalAttestation never panics, whatever
// it accepts re-marshals to the same bytes, and Verify accepts only the
// one attestation the origin signed.
func FuzzUnmarshalAttestation(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US")
	s := n.seal(f, "MX", body, "BR", "US")
	genuine := mustAttest(f, s)
	f.Add(genuine)
	f.Add(genuine[:len(genuine)/2])
	for _, name := range []string{"testdata/attest/attestation-BR.bin", "testdata/v4/attestation-reply.bin",
		"testdata/v5/attestation.bin", "testdata/v5/attestation-BR.bin"} {
		if g, err := os.ReadFile(name); err == nil {
			f.Add(g)
		}
	}
	f.Add([]byte("IANTHATT\x01\x03"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := seal.UnmarshalAttestation(in)
		if err != nil {
			return
		}
		out, err := a.Marshal()
		if err != nil || !bytes.Equal(in, out) {
			t.Fatalf("Marshal(UnmarshalAttestation(in)) = %x, %v; want the input", out, err)
		}
		if a.Verify(n.lookup, n.policy()) == nil && !bytes.Equal(in, genuine) {
			t.Fatalf("Verify accepted an attestation MX never signed: %x", in)
		}
	})
}

// FuzzUnmarshalForwardAttestation: as FuzzUnmarshalAttestation, for
// forward attestations.
func FuzzUnmarshalForwardAttestation(f *testing.F) {
	n := newNetwork(f, "MX", "BR", "US", "PE")
	c, err := n.seal(f, "MX", body, "BR", "US").For("BR")
	if err != nil {
		f.Fatal(err)
	}
	genuine := mustAttestForward(f, n.forward(f, c, "BR", "PE"))
	f.Add(genuine)
	f.Add(genuine[:len(genuine)/3])
	if g, err := os.ReadFile("testdata/attest/forward-PE.bin"); err == nil {
		f.Add(g)
	}
	f.Add([]byte("IANTFATT\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := seal.UnmarshalForwardAttestation(in)
		if err != nil {
			return
		}
		out, err := a.Marshal()
		if err != nil || !bytes.Equal(in, out) {
			t.Fatalf("Marshal(UnmarshalForwardAttestation(in)) = %x, %v; want the input", out, err)
		}
		if a.Verify(n.lookup, n.policy()) == nil && !bytes.Equal(in, genuine) {
			t.Fatalf("Verify accepted a forward BR never signed: %x", in)
		}
	})
}
