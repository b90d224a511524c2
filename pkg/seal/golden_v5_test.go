package seal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Golden files of format version 5 (a confidential audience): MX's
// bulletin sealed for BR and US (the origin's value, every opening),
// BR's copy of it, and the header attestations of both. -update rewrites
// them until version 6 freezes them.
const goldenDirV5 = "testdata/v5"

func TestGoldenV5(t *testing.T) {
	if *update {
		writeGoldenV5(t)
	}
	read := func(name string) []byte { return readGoldenIn(t, goldenDirV5, name) }
	keys := map[string]*seal.NodeKeys{}
	for _, st := range []string{"MX", "BR"} {
		k, err := seal.ParsePrivate(read("keys-" + st + ".bin"))
		if err != nil {
			t.Fatal(err)
		}
		keys[st] = k
	}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if k, ok := keys[state]; ok {
			return goldenLookup(k)(state, keyID)
		}
		return seal.SignerKey{}, errors.New("unknown state")
	}
	for _, g := range []struct{ name, recipients string }{{"sealed.bin", "BR,US"}, {"copy-BR.bin", "BR"}} {
		b := read(g.name)
		s, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s) = %v", g.name, err)
		}
		if again, _ := s.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("Marshal(Unmarshal(%s)) != golden", g.name)
		}
		if got := strings.Join(s.Recipients, ","); s.Version != seal.Version5 || got != g.recipients || len(s.Audience) != seal.AudienceSize {
			t.Errorf("%s: version %d, recipients %q, %d audience entries", g.name, s.Version, got, len(s.Audience))
		}
		if got, err := seal.Open(s, "BR", keys["BR"], lookup, seal.Policy{}, s.CreatedAt); err != nil || !bytes.Equal(got, goldenBody) {
			t.Errorf("Open(%s) at BR = %q, %v", g.name, got, err)
		}
	}
	for _, g := range []struct{ name, recipients string }{{"attestation.bin", "BR,US"}, {"attestation-BR.bin", "BR"}} {
		a, err := seal.UnmarshalAttestation(read(g.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Verify(lookup, seal.Policy{}); err != nil || strings.Join(a.Header.Recipients, ",") != g.recipients {
			t.Errorf("%s: Verify = %v, recipients %v, want %s", g.name, err, a.Header.Recipients, g.recipients)
		}
	}
}

func writeGoldenV5(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 5) // stable keys and messages across updates
	n := newNetwork(t)
	mx, br, us := n.add(t, "MX"), n.add(t, "BR"), n.add(t, "US")
	h := n.header("MX")
	h.Version = seal.Version5
	s, err := seal.Seal(h, goldenBody, []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.For("BR")
	if err != nil {
		t.Fatal(err)
	}
	att, err := s.Attest()
	if err != nil {
		t.Fatal(err)
	}
	attBR, err := c.Attest()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":        mx.MarshalPrivate,
		"keys-BR.bin":        br.MarshalPrivate,
		"sealed.bin":         s.Marshal,
		"copy-BR.bin":        c.Marshal,
		"attestation.bin":    att.Marshal,
		"attestation-BR.bin": attBR.Marshal,
	}
	if err := os.MkdirAll(goldenDirV5, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fn := range files {
		b, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirV5, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
