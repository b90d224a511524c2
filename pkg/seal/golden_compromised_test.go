package seal_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Golden files of the formats that flag a compromised signing key: MX's
// node keys in private format 3 after a rotation as compromised and an
// ordinary one, and MX's version 3 directory entry publishing both
// retired keys, the older flagged.
const goldenDirCompromised = "testdata/compromised"

func TestGoldenCompromised(t *testing.T) {
	if *update {
		writeGoldenCompromised(t)
	}
	read := func(name string) []byte { return readGoldenIn(t, goldenDirCompromised, name) }
	b := read("keys-MX.bin")
	mx, err := seal.ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustPrivate(t, mx); !bytes.Equal(again, b) || b[8] != 3 {
		t.Errorf("keys-MX.bin: version %d, or MarshalPrivate(ParsePrivate) != golden", b[8])
	}
	r := mx.RetiredSignKeys()
	if len(r) != 2 || r[0].Compromised || !r[1].Compromised {
		t.Fatalf("golden MX keys retired %+v, want two, the older compromised", r)
	}
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
	if e.Version != seal.Version3 || e.SignKeyID != mx.Public().SignKeyID || len(e.RetiredSign) != 2 ||
		e.RetiredSign[0].Compromised || !e.RetiredSign[1].Compromised || e.RetiredSign[1].KeyID != r[1].KeyID {
		t.Errorf("golden entry: version %d, key %s, retired %+v", e.Version, e.SignKeyID, e.RetiredSign)
	}
}

func writeGoldenCompromised(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 4)
	n := newNetwork(t)
	mx, err := n.add(t, "MX").RotateSignCompromised(created.Add(-48 * time.Hour))
	if err == nil {
		mx, err = mx.RotateSign(created.Add(-24 * time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	entry, err := seal.SignEntry(mx.Entry(n.nodeID("MX"), now, now.Add(seal.MaxEntryLifetime), 3), n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":    mx.MarshalPrivate,
		"entry-MX.bin":   func() ([]byte, error) { return entry, nil },
		"entry-time.txt": func() ([]byte, error) { return []byte(now.Add(time.Minute).Format(time.RFC3339Nano)), nil },
		"bundle.der":     func() ([]byte, error) { return n.ca.Bundle().X509Authorities()[0].Raw, nil },
	}
	if err := os.MkdirAll(goldenDirCompromised, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fn := range files {
		b, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirCompromised, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
