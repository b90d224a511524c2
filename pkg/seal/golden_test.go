package seal_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/oas-cicte/iant/pkg/seal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Golden files of format version 1. They are never deleted: later versions
// add a directory beside them, and this test keeps proving that version 1
// bulletins, keys and entries still decode, verify and open.
const goldenDir = "testdata/v1"

var goldenBody = []byte(`{"title":"golden","body":"version 1 fixture"}`)

func TestGoldenV1(t *testing.T) {
	if *update && frozenMissing(t, goldenDir) {
		writeGoldenV1(t)
	}
	mx, err := seal.ParsePrivate(readGolden(t, "keys-MX.bin"))
	if err != nil {
		t.Fatal(err)
	}
	br, err := seal.ParsePrivate(readGolden(t, "keys-BR.bin"))
	if err != nil {
		t.Fatal(err)
	}
	b := readGolden(t, "sealed.bin")
	s, err := seal.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Marshal(); !bytes.Equal(again, b) {
		t.Error("Marshal(Unmarshal(golden)) != golden")
	}
	lookup := goldenLookup(mx)
	got, err := seal.Open(s, "BR", br, lookup, seal.Policy{MinVersion: seal.Version1}, s.CreatedAt)
	if err != nil || !bytes.Equal(got, goldenBody) {
		t.Errorf("Open(golden) = %q, %v, want %q", got, err, goldenBody)
	}
	if _, err := seal.Open(s, "BR", br, lookup, seal.Policy{}, s.CreatedAt); !errors.Is(err, seal.ErrVersionRefused) {
		t.Errorf("Open(golden) with the default policy = %v, want %v", err, seal.ErrVersionRefused)
	}

	ca, err := x509.ParseCertificate(readGolden(t, "bundle.der"))
	if err != nil {
		t.Fatal(err)
	}
	td := mustTD(t, "iant.test")
	at, err := time.Parse(time.RFC3339Nano, string(readGolden(t, "entry-time.txt")))
	if err != nil {
		t.Fatal(err)
	}
	e, err := seal.VerifyEntry(readGolden(t, "entry-MX.bin"), x509bundle.FromX509Authorities(td, []*x509.Certificate{ca}), td, at)
	if err != nil {
		t.Fatal(err)
	}
	if e.SignKeyID != mx.Public().SignKeyID || e.KEMKeyID != mx.Public().KEMKeyID {
		t.Error("golden entry does not publish the golden MX keys")
	}
}

// frozenMissing reports whether the golden directory of an old format is
// missing. Old fixtures are frozen: -update never rewrites them, since
// today's code writes some of their files (the node keys) in a newer
// format, and they exist to prove the old bytes still decode.
func frozenMissing(tb testing.TB, dir string) bool {
	tb.Helper()
	_, err := os.Stat(dir)
	if err == nil {
		tb.Logf("%s is frozen; -update leaves it alone", dir)
	}
	return errors.Is(err, os.ErrNotExist)
}

// goldenLookup vouches for the signing keys of k, current and retired.
func goldenLookup(k *seal.NodeKeys) seal.SignerLookup {
	return func(state, keyID string) (seal.SignerKey, error) {
		if p := k.Public(); state == k.State() && keyID == p.SignKeyID {
			return seal.SignerKey{Public: p.SignPublic}, nil
		}
		for _, r := range k.RetiredSignKeys() {
			if state == k.State() && keyID == r.KeyID {
				return seal.SignerKey{Public: r.Public, RetiredAt: r.RetiredAt}, nil
			}
		}
		return seal.SignerKey{}, errors.New("unknown key")
	}
}

func readGolden(tb testing.TB, name string) []byte {
	tb.Helper()
	return readGoldenIn(tb, goldenDir, name)
}

func readGoldenIn(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatalf("%v (run go test -run TestGoldenV1 -update)", err)
	}
	return b
}

func writeGoldenV1(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1) // stable keys and bulletin across updates
	n := newNetwork(t)
	mx, br := n.add(t, "MX"), n.add(t, "BR")
	hdr := n.header("MX")
	hdr.ExpiresAt = time.Time{}
	hdr.Version = seal.Version1
	s, err := seal.Seal(hdr, goldenBody, []seal.PublicKeys{br.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	entry, err := seal.SignEntry(mx.Entry(n.nodeID("MX"), now, now.Add(seal.MaxEntryLifetime), 1), n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":    mx.MarshalPrivate,
		"keys-BR.bin":    br.MarshalPrivate,
		"sealed.bin":     s.Marshal,
		"entry-MX.bin":   func() ([]byte, error) { return entry, nil },
		"entry-time.txt": func() ([]byte, error) { return []byte(now.Add(time.Minute).Format(time.RFC3339Nano)), nil },
		"bundle.der":     func() ([]byte, error) { return n.ca.Bundle().X509Authorities()[0].Raw, nil },
	}
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		b, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Golden files of format version 2: a bulletin sealed for BR and US, and
// BR's copy of it, which carries only the hash of US's wrapped key.
const goldenDirV2 = "testdata/v2"

func TestGoldenV2(t *testing.T) {
	if *update && frozenMissing(t, goldenDirV2) {
		writeGoldenV2(t)
	}
	mx, err := seal.ParsePrivate(readGoldenIn(t, goldenDirV2, "keys-MX.bin"))
	if err != nil {
		t.Fatal(err)
	}
	br, err := seal.ParsePrivate(readGoldenIn(t, goldenDirV2, "keys-BR.bin"))
	if err != nil {
		t.Fatal(err)
	}
	lookup := goldenLookup(mx)
	for _, name := range []string{"sealed.bin", "copy-BR.bin"} {
		b := readGoldenIn(t, goldenDirV2, name)
		s, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s) = %v", name, err)
		}
		if s.Version != seal.Version2 {
			t.Errorf("%s: version %d, want %d", name, s.Version, seal.Version2)
		}
		if again, _ := s.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("Marshal(Unmarshal(%s)) != golden", name)
		}
		got, err := seal.Open(s, "BR", br, lookup, seal.Policy{MinVersion: seal.Version2}, s.CreatedAt)
		if err != nil || !bytes.Equal(got, goldenBody) {
			t.Errorf("Open(%s) = %q, %v, want %q", name, got, err, goldenBody)
		}
		if _, err := seal.Open(s, "BR", br, lookup, seal.Policy{}, s.CreatedAt); !errors.Is(err, seal.ErrVersionRefused) {
			t.Errorf("Open(%s) with the default policy = %v, want %v", name, err, seal.ErrVersionRefused)
		}
	}
}

func writeGoldenV2(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 2) // stable keys and bulletin across updates
	n := newNetwork(t)
	mx, br, us := n.add(t, "MX"), n.add(t, "BR"), n.add(t, "US")
	hdr := n.header("MX")
	hdr.ExpiresAt = time.Time{}
	hdr.Version = seal.Version2
	s, err := seal.Seal(hdr, goldenBody, []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.For("BR")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin": mx.MarshalPrivate,
		"keys-BR.bin": br.MarshalPrivate,
		"sealed.bin":  s.Marshal,
		"copy-BR.bin": c.Marshal,
	}
	if err := os.MkdirAll(goldenDirV2, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		b, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirV2, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
