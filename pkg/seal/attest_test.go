package seal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
)

// goldenDirAttest holds the attestations of the version 3 golden files:
// of BR's copy (copy-BR.bin) and of BR's forward to PE
// (forwarded-PE.bin). Attestations hold no randomness: -update derives
// them from those files again.
const goldenDirAttest = "testdata/attest"

func mustAttest(tb testing.TB, s *seal.Sealed) []byte {
	tb.Helper()
	a, err := s.Attest()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustAttestForward(tb testing.TB, f *seal.Forwarded) []byte {
	tb.Helper()
	a, err := f.Attest()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestAttestationRoundTrip(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	s := n.seal(t, "MX", body, "BR", "US")
	want := mustAttest(t, s)
	for _, r := range []string{"BR", "US"} {
		c, err := s.For(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustAttest(t, c); !bytes.Equal(got, want) {
			t.Errorf("attestation of %s's copy differs from the bulletin's", r)
		}
	}
	a, err := seal.UnmarshalAttestation(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(n.lookup, n.policy()); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if diff := cmp.Diff(s.Header, a.Header); diff != "" {
		t.Errorf("attested header (-sealed +attested):\n%s", diff)
	}
	if bytes.Contains(want, s.Ciphertext) || bytes.Contains(want, s.Keys[0].Enc) {
		t.Error("the attestation carries the ciphertext or a wrapped key")
	}

	c, _ := s.For("BR")
	fb := mustAttestForward(t, n.forward(t, c, "BR", "PE"))
	fa, err := seal.UnmarshalForwardAttestation(fb)
	if err != nil {
		t.Fatal(err)
	}
	if err := fa.Verify(n.lookup, n.policy()); err != nil {
		t.Fatalf("forward Verify = %v", err)
	}
	if again, _ := fa.Marshal(); !bytes.Equal(again, fb) {
		t.Error("Marshal(UnmarshalForwardAttestation(b)) != b")
	}
	if oa, _ := fa.Origin.Marshal(); !bytes.Equal(oa, want) {
		t.Error("the forward's origin attestation differs from the bulletin's")
	}
	if fa.Statement.Forwarder != "BR" || fa.Statement.Recipient != "PE" {
		t.Errorf("statement = %+v", fa.Statement)
	}
}

func TestAttestationVerifyRefuses(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	lookupDown := errors.New("directory unreachable")
	relabelled := n.seal(t, "BR", body, "US")
	relabelled.Origin, relabelled.Signer = "MX", n.nodeID("MX")
	v2 := n.header("MX")
	v2.Version = seal.Version2
	sealedV2, err := seal.Seal(v2, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	otherSuite := n.policy()
	otherSuite.Allowed = []seal.Suite{{KEM: "X", KDF: "Y", AEAD: "Z", Sig: "W"}}
	for _, tt := range []struct {
		name   string
		s      *seal.Sealed
		lookup seal.SignerLookup
		pol    seal.Policy
		want   error
	}{
		{"another state's header re-labelled", relabelled, n.lookup, n.policy(), seal.ErrSigner},
		{"version 2 under the default policy", sealedV2, n.lookup, n.policy(), seal.ErrVersionRefused},
		{"suite not allowed", n.seal(t, "MX", body, "BR"), n.lookup, otherSuite, seal.ErrSuite},
		{"directory unreachable", n.seal(t, "MX", body, "BR"),
			func(string, string) (seal.SignerKey, error) { return seal.SignerKey{}, lookupDown }, n.policy(), lookupDown},
		{"key retired before creation", n.seal(t, "MX", body, "BR"), func(st, id string) (seal.SignerKey, error) {
			k, err := n.lookup(st, id)
			k.RetiredAt = created
			return k, err
		}, n.policy(), seal.ErrKeyRetired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := seal.UnmarshalAttestation(mustAttest(t, tt.s))
			if err != nil {
				t.Fatal(err)
			}
			err = a.Verify(tt.lookup, tt.pol)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	a, _ := sealedV2.Attest()
	if err := a.Verify(n.lookup, seal.Policy{TrustDomain: n.ca.TD, MinVersion: seal.Version2}); err != nil {
		t.Errorf("Verify(version 2, MinVersion 2) = %v", err)
	}
	v1 := n.header("MX")
	v1.Version = seal.Version1
	s1, err := seal.Seal(v1, body, n.public("BR"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Attest(); !errors.Is(err, seal.ErrVersionRefused) {
		t.Errorf("Attest(version 1) = %v, want ErrVersionRefused", err)
	}
}

// TestEveryByteFlipRejectedAttestation flips each bit of an attestation
// and of a forward attestation in turn: each is refused by the decoder
// or by Verify, never accepted.
func TestEveryByteFlipRejectedAttestation(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "PE")
	s := n.seal(t, "MX", body, "BR", "US")
	c, _ := s.For("BR")
	verify := map[string]func([]byte) error{
		"attestation": func(b []byte) error {
			a, err := seal.UnmarshalAttestation(b)
			if err == nil {
				err = a.Verify(n.lookup, n.policy())
			}
			return err
		},
		"forward attestation": func(b []byte) error {
			a, err := seal.UnmarshalForwardAttestation(b)
			if err == nil {
				err = a.Verify(n.lookup, n.policy())
			}
			return err
		},
	}
	for name, b := range map[string][]byte{
		"attestation":         mustAttest(t, s),
		"forward attestation": mustAttestForward(t, n.forward(t, c, "BR", "PE")),
	} {
		t.Run(name, func(t *testing.T) {
			if err := verify[name](b); err != nil {
				t.Fatalf("untouched: %v", err)
			}
			counts := map[string]int{}
			for i := range b {
				m := append([]byte(nil), b...)
				m[i] ^= 1 << (i % 8)
				err := verify[name](m)
				if err == nil {
					t.Fatalf("flipping bit %d of byte %d still verifies", i%8, i)
				}
				counts[sentinel(err)]++
			}
			t.Logf("%d bytes, refusals: %v", len(b), counts)
		})
	}
}

func TestGoldenAttestations(t *testing.T) {
	read := func(name string) []byte { return readGoldenIn(t, goldenDirV3, name) }
	c, err := seal.Unmarshal(read("copy-BR.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := seal.UnmarshalForwarded(read("forwarded-PE.bin"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"attestation-BR.bin": mustAttest(t, c), "forward-PE.bin": mustAttestForward(t, f)}
	if *update {
		if err := os.MkdirAll(goldenDirAttest, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(goldenDirAttest, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := map[string]*seal.NodeKeys{}
	for _, st := range []string{"MX", "BR"} {
		if keys[st], err = seal.ParsePrivate(read("keys-" + st + ".bin")); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if k, ok := keys[state]; ok {
			return goldenLookup(k)(state, keyID)
		}
		return seal.SignerKey{}, errors.New("unknown state")
	}
	for name, want := range files {
		got := readGoldenIn(t, goldenDirAttest, name)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the attestation of its golden bulletin", name)
		}
	}
	a, err := seal.UnmarshalAttestation(readGoldenIn(t, goldenDirAttest, "attestation-BR.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(lookup, seal.Policy{}); err != nil {
		t.Errorf("Verify(attestation-BR.bin) = %v", err)
	}
	fa, err := seal.UnmarshalForwardAttestation(readGoldenIn(t, goldenDirAttest, "forward-PE.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fa.Verify(lookup, seal.Policy{}); err != nil {
		t.Errorf("Verify(forward-PE.bin) = %v", err)
	}
	if fa.Statement.Reason != goldenReason || !fa.Statement.At.Equal(created.Add(time.Hour)) {
		t.Errorf("golden forward statement = %+v", fa.Statement)
	}
}
