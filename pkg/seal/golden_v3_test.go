package seal_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Golden files of format version 3 and of the formats that came with it
// (frozen since version 4):
// a bulletin MX sealed for BR and US, BR's copy, BR's forward of it to PE,
// MX's node keys in private format 2 after a signing-key rotation, MX's
// version 2 directory entry publishing the retired key, and BR's KEM key
// alone.
const goldenDirV3 = "testdata/v3"

// goldenReason is the forward statement's reason in the golden forward.
const goldenReason = "policy forward.onward: golden fixture"

func TestGoldenV3(t *testing.T) {
	if *update && frozenMissing(t, goldenDirV3) {
		writeGoldenV3(t)
	}
	read := func(name string) []byte { return readGoldenIn(t, goldenDirV3, name) }
	keys := map[string]*seal.NodeKeys{}
	for _, st := range []string{"MX", "BR", "PE"} {
		b := read("keys-" + st + ".bin")
		k, err := seal.ParsePrivate(b)
		if err != nil {
			t.Fatal(err)
		}
		if again := mustPrivate(t, k); !bytes.Equal(again, b) {
			t.Errorf("MarshalPrivate(ParsePrivate(keys-%s.bin)) != golden", st)
		}
		keys[st] = k
	}
	if len(keys["MX"].RetiredSignKeys()) != 1 {
		t.Fatalf("golden MX keys have %d retired signing keys, want 1", len(keys["MX"].RetiredSignKeys()))
	}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if k, ok := keys[state]; ok {
			return goldenLookup(k)(state, keyID)
		}
		return seal.SignerKey{}, errors.New("unknown state")
	}
	for _, name := range []string{"sealed.bin", "copy-BR.bin"} {
		b := read(name)
		s, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s) = %v", name, err)
		}
		if s.Version != seal.Version3 {
			t.Errorf("%s: version %d, want %d", name, s.Version, seal.Version3)
		}
		if again, _ := s.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("Marshal(Unmarshal(%s)) != golden", name)
		}
		got, err := seal.Open(s, "BR", keys["BR"], lookup, seal.Policy{}, s.CreatedAt)
		if err != nil || !bytes.Equal(got, goldenBody) {
			t.Errorf("Open(%s) = %q, %v, want %q", name, got, err, goldenBody)
		}
	}
	testGoldenForward(t, read("forwarded-PE.bin"), keys["PE"], lookup)
	testGoldenKEMKey(t, read("kem-BR.bin"), read("copy-BR.bin"), lookup)
	testGoldenEntryV2(t, read, keys["MX"])
}

func testGoldenForward(t *testing.T, b []byte, pe *seal.NodeKeys, lookup seal.SignerLookup) {
	f, err := seal.UnmarshalForwarded(b)
	if err != nil {
		t.Fatalf("UnmarshalForwarded(forwarded-PE.bin) = %v", err)
	}
	if again, _ := f.Marshal(); !bytes.Equal(again, b) {
		t.Error("Marshal(UnmarshalForwarded(forwarded-PE.bin)) != golden")
	}
	if f.Statement.Forwarder != "BR" || f.Statement.Recipient != "PE" || f.Statement.Reason != goldenReason {
		t.Errorf("golden statement = %+v", f.Statement)
	}
	got, err := seal.OpenForwarded(f, "PE", pe, lookup, seal.Policy{}, f.Statement.At)
	if err != nil || !bytes.Equal(got, goldenBody) {
		t.Errorf("OpenForwarded(forwarded-PE.bin) = %q, %v, want %q", got, err, goldenBody)
	}
}

func testGoldenKEMKey(t *testing.T, b, copyBR []byte, lookup seal.SignerLookup) {
	k, err := seal.ParseKEMPrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := k.MarshalPrivate(); !bytes.Equal(again, b) {
		t.Error("MarshalPrivate(ParseKEMPrivate(kem-BR.bin)) != golden")
	}
	s, err := seal.Unmarshal(copyBR)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(s, "BR", seal.Ring{k}, lookup, seal.Policy{}, s.CreatedAt); err != nil {
		t.Errorf("Open(copy-BR.bin) with kem-BR.bin = %v", err)
	}
}

func testGoldenEntryV2(t *testing.T, read func(string) []byte, mx *seal.NodeKeys) {
	ca, err := x509.ParseCertificate(read("bundle.der"))
	if err != nil {
		t.Fatal(err)
	}
	td := mustTD(t, "iant.test")
	at, err := time.Parse(time.RFC3339Nano, string(read("entry-time.txt")))
	if err != nil {
		t.Fatal(err)
	}
	e, err := seal.VerifyEntry(read("entry-MX.bin"), x509bundle.FromX509Authorities(td, []*x509.Certificate{ca}), td, at)
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != seal.Version2 || e.SignKeyID != mx.Public().SignKeyID {
		t.Errorf("golden entry is version %d for key %s, want version 2 for %s", e.Version, e.SignKeyID, mx.Public().SignKeyID)
	}
	if diff := cmp.Diff(mx.RetiredSignKeys(), e.RetiredSign); diff != "" {
		t.Errorf("golden entry's retired keys differ from the golden keys' (-keys +entry):\n%s", diff)
	}
}

func writeGoldenV3(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 3) // stable keys and bulletin across updates
	n := newNetwork(t)
	mx, br, us, pe := n.add(t, "MX"), n.add(t, "BR"), n.add(t, "US"), n.add(t, "PE")
	mx, err := mx.RotateSign(created.Add(-24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hdr := n.header("MX")
	hdr.ExpiresAt = time.Time{}
	s, err := seal.Seal(hdr, goldenBody, []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.For("BR")
	if err != nil {
		t.Fatal(err)
	}
	st := seal.ForwardStatement{Signer: n.nodeID("BR"), Reason: goldenReason, At: created.Add(time.Hour)}
	f, err := seal.Forward(c, "BR", br, pe.Public(), st, br)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	entry, err := seal.SignEntry(mx.Entry(n.nodeID("MX"), now, now.Add(seal.MaxEntryLifetime), 2), n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":      mx.MarshalPrivate,
		"keys-BR.bin":      br.MarshalPrivate,
		"keys-PE.bin":      pe.MarshalPrivate,
		"kem-BR.bin":       br.KEMKey().MarshalPrivate,
		"sealed.bin":       s.Marshal,
		"copy-BR.bin":      c.Marshal,
		"forwarded-PE.bin": f.Marshal,
		"entry-MX.bin":     func() ([]byte, error) { return entry, nil },
		"entry-time.txt":   func() ([]byte, error) { return []byte(now.Add(time.Minute).Format(time.RFC3339Nano)), nil },
		"bundle.der":       func() ([]byte, error) { return n.ca.Bundle().X509Authorities()[0].Raw, nil },
	}
	if err := os.MkdirAll(goldenDirV3, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fn := range files {
		b, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirV3, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
