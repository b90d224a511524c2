package seal_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Golden files of the formats that name a compromised signing key beyond
// the retired ones: MX's node keys in private format 4 and its version 4
// directory entry, after a rotation as compromised and
// seal.MaxRetiredSignKeys ordinary ones.
const goldenDirDropped = "testdata/compromised4"

func TestGoldenDroppedCompromised(t *testing.T) {
	if *update {
		writeGoldenDropped(t)
	}
	read := func(name string) []byte { return readGoldenIn(t, goldenDirDropped, name) }
	b := read("keys-MX.bin")
	mx, err := seal.ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustPrivate(t, mx); !bytes.Equal(again, b) || b[8] != 4 || len(mx.CompromisedSignKeys()) != 1 {
		t.Errorf("keys-MX.bin: version %d, named %v, or MarshalPrivate(ParsePrivate) != golden", b[8], mx.CompromisedSignKeys())
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
	if e.Version != seal.Version4 || len(e.RetiredSign) != seal.MaxRetiredSignKeys || !slices.Equal(e.CompromisedSign, mx.CompromisedSignKeys()) {
		t.Errorf("golden entry: version %d, %d retired, compromised %v", e.Version, len(e.RetiredSign), e.CompromisedSign)
	}
}

func writeGoldenDropped(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 5)
	n := newNetwork(t)
	mx, err := n.add(t, "MX").RotateSignCompromised(created.Add(-48 * time.Hour))
	for i := 0; err == nil && i < seal.MaxRetiredSignKeys; i++ {
		mx, err = mx.RotateSign(created.Add(time.Duration(i-47) * time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	entry, err := seal.SignEntry(mx.Entry(n.nodeID("MX"), now, now.Add(seal.MaxEntryLifetime), 12), n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":    mx.MarshalPrivate,
		"entry-MX.bin":   func() ([]byte, error) { return entry, nil },
		"entry-time.txt": func() ([]byte, error) { return []byte(now.Add(time.Minute).Format(time.RFC3339Nano)), nil },
		"bundle.der":     func() ([]byte, error) { return n.ca.Bundle().X509Authorities()[0].Raw, nil },
	}
	if err := os.MkdirAll(goldenDirDropped, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fn := range files {
		b, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirDropped, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
