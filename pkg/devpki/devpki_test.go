package devpki_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/identity"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	td     = spiffeid.RequireTrustDomainFromString("iant.test")
	fixed  = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	states = []string{"MX", "JM"}
)

// layoutCmp compares layouts; go-spiffe types compare with ==.
var layoutCmp = []cmp.Option{
	cmp.Comparer(func(a, b spiffeid.ID) bool { return a == b }),
	cmp.Comparer(func(a, b spiffeid.TrustDomain) bool { return a == b }),
}

func initPKI(tb testing.TB, dir string, states ...string) *devpki.Layout {
	tb.Helper()
	l, err := devpki.Init(context.Background(), devpki.Options{
		Dir: dir, TrustDomain: "iant.test", States: states, Now: func() time.Time { return fixed },
	})
	if err != nil {
		tb.Fatalf("Init = %v", err)
	}
	return l
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	l := initPKI(t, dir, states...)

	if l.Dir != dir || l.BundleFile != filepath.Join(dir, "bundle.pem") || l.TrustDomain != td {
		t.Errorf("Layout = %q, %q, %v, want %q, bundle.pem, %v", l.Dir, l.BundleFile, l.TrustDomain, dir, td)
	}
	if diff := cmp.Diff([]string{"JM", "MX"}, l.States); diff != "" {
		t.Errorf("Layout.States (-want +got):\n%s", diff)
	}
	if want := fixed.Add(devpki.DefaultValidity); !l.NotAfter.Equal(want) {
		t.Errorf("Layout.NotAfter = %v, want %v", l.NotAfter, want)
	}
	if got, want := len(l.Entries), 3+3*len(states); got != want {
		t.Fatalf("len(Entries) = %d, want %d", got, want)
	}
	checkMode(t, filepath.Join(dir, "ca"), 0o700|os.ModeDir)
	checkMode(t, filepath.Join(dir, "svid"), 0o700|os.ModeDir)
	checkMode(t, filepath.Join(dir, "ca", "ca.key"), 0o600)

	bundle, err := x509bundle.Load(td, l.BundleFile)
	if err != nil {
		t.Fatalf("x509bundle.Load = %v", err)
	}
	checkCA(t, bundle)
	for _, e := range l.Entries {
		t.Run(e.Stem, func(t *testing.T) {
			checkEntry(t, l, e, bundle)
		})
	}
}

func checkMode(tb testing.TB, name string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		tb.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		tb.Errorf("mode of %s = %v, want %v", name, got, want)
	}
}

func checkCA(tb testing.TB, bundle *x509bundle.Bundle) {
	tb.Helper()
	cas := bundle.X509Authorities()
	if len(cas) != 1 {
		tb.Fatalf("bundle holds %d certificates, want 1", len(cas))
	}
	ca := cas[0]
	if !ca.IsCA || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		tb.Errorf("CA: IsCA = %v, KeyUsage = %v, want a CA with CertSign|CRLSign", ca.IsCA, ca.KeyUsage)
	}
	if len(ca.URIs) != 1 || ca.URIs[0].String() != "spiffe://iant.test" {
		tb.Errorf("CA URIs = %v, want [spiffe://iant.test]", ca.URIs)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		tb.Errorf("CA is not self-signed: %v", err)
	}
	if pub, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		tb.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
}

func checkEntry(t *testing.T, l *devpki.Layout, e devpki.Entry, bundle *x509bundle.Bundle) {
	if e.ID != e.Principal.ID(td) || e.Stem != devpki.Stem(e.Principal) {
		t.Errorf("entry %+v: ID or Stem does not match the principal", e)
	}
	if got, ok := l.Find(e.Principal); !ok || got != e {
		t.Errorf("Find(%v) = %+v, %v, want the entry", e.Principal, got, ok)
	}
	checkMode(t, e.KeyFile, 0o600)
	checkPKCS8(t, e.KeyFile)
	svid, err := x509svid.Load(e.CertFile, e.KeyFile)
	if err != nil {
		t.Fatalf("x509svid.Load = %v", err)
	}
	if svid.ID != e.ID {
		t.Errorf("SVID ID = %v, want %v", svid.ID, e.ID)
	}
	if _, _, err := x509svid.Verify(svid.Certificates, bundle, x509svid.WithTime(fixed)); err != nil {
		t.Errorf("x509svid.Verify = %v", err)
	}
	leaf := svid.Certificates[0]
	switch {
	case len(svid.Certificates) != 1:
		t.Errorf("cert file holds %d certificates, want the leaf only", len(svid.Certificates))
	case len(leaf.URIs) != 1 || len(leaf.DNSNames) != 0 || len(leaf.IPAddresses) != 0 || len(leaf.EmailAddresses) != 0:
		t.Errorf("SANs: URIs %v, DNS %v, IP %v, email %v, want one URI", leaf.URIs, leaf.DNSNames, leaf.IPAddresses, leaf.EmailAddresses)
	case leaf.Subject.String() != "O=IANT development":
		t.Errorf("subject = %q, want O=IANT development", leaf.Subject)
	case leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature:
		t.Errorf("IsCA = %v, KeyUsage = %v, want a leaf with DigitalSignature", leaf.IsCA, leaf.KeyUsage)
	case !cmp.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}):
		t.Errorf("ExtKeyUsage = %v, want ServerAuth, ClientAuth", leaf.ExtKeyUsage)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key is %T, want ECDSA P-256", leaf.PublicKey)
	}
}

func checkPKCS8(tb testing.TB, name string) {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		tb.Fatalf("%s is not one PEM PRIVATE KEY block", name)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		tb.Errorf("%s: %v", name, err)
	}
}

func TestInitStems(t *testing.T) {
	l := initPKI(t, t.TempDir(), "MX")
	var got []string
	for _, e := range l.Entries {
		got = append(got, e.Stem)
	}
	want := []string{
		"secretariat-node-node", "secretariat-auditor-auditor", "secretariat-admin-admin",
		"mx-node-node", "mx-focal-point-focal", "mx-analyst-analyst",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stems (-want +got):\n%s", diff)
	}
	if e := l.Entries[4]; filepath.Base(e.CertFile) != "mx-focal-point-focal.pem" || filepath.Base(e.KeyFile) != "mx-focal-point-focal.key" {
		t.Errorf("files = %s, %s, want mx-focal-point-focal.pem and .key", e.CertFile, e.KeyFile)
	}
	if _, ok := l.Find(identity.Principal{State: "JM", Role: identity.RoleNode, Name: devpki.NodeName}); ok {
		t.Error("Find(JM node) found an entry in a PKI without JM")
	}
}

func TestInitHubs(t *testing.T) {
	l, err := devpki.Init(context.Background(), devpki.Options{Dir: t.TempDir(), TrustDomain: "iant.test", Hubs: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		p := identity.Principal{Role: identity.RoleSecretariatNode, Name: devpki.HubName(i)}
		e, ok := l.Find(p)
		if !ok {
			t.Fatalf("no SVID for %v", p)
		}
		if want := fmt.Sprintf("spiffe://iant.test/secretariat/node/hub-%d", i); e.ID.String() != want || e.Stem != fmt.Sprintf("secretariat-node-hub-%d", i) {
			t.Errorf("hub %d: id %s stem %s, want %s", i, e.ID, e.Stem, want)
		}
	}
	if _, ok := l.Find(identity.Principal{Role: identity.RoleSecretariatNode, Name: devpki.HubName(4)}); ok {
		t.Error("found hub-4 in a PKI of 3 hubs")
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	l := initPKI(t, dir, states...)
	before, err := os.ReadFile(l.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = devpki.Init(context.Background(), devpki.Options{Dir: dir, TrustDomain: "iant.test", States: states})
	want := "devpki: PKI already exists in " + dir + " (use --force to replace it)"
	if err == nil || err.Error() != want {
		t.Fatalf("second Init = %v, want %q", err, want)
	}
	if after, _ := os.ReadFile(l.BundleFile); !bytes.Equal(before, after) {
		t.Error("refused Init changed bundle.pem")
	}

	// A manifest alone also counts as a PKI.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "pki.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := devpki.Init(context.Background(), devpki.Options{Dir: other, TrustDomain: "iant.test"}); err == nil {
		t.Error("Init over a pki.json succeeded, want an error")
	}
}

func TestInitForce(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := initPKI(t, dir, "MX", "JM")
	before, err := os.ReadFile(old.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := devpki.Init(context.Background(), devpki.Options{Dir: dir, TrustDomain: "iant.test", States: []string{"MX"}, Force: true})
	if err != nil {
		t.Fatalf("Init with Force = %v", err)
	}
	if after, _ := os.ReadFile(l.BundleFile); bytes.Equal(before, after) {
		t.Error("Init with Force kept the old CA")
	}
	jm, _ := old.Find(identity.Principal{State: "JM", Role: identity.RoleNode, Name: devpki.NodeName})
	if _, err := os.Stat(jm.KeyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s) = %v, want the old state's key removed", jm.KeyFile, err)
	}
	if _, err := os.Stat(readme); err != nil {
		t.Errorf("Init with Force removed README.md: %v", err)
	}
	bundle, err := x509bundle.Load(td, l.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries {
		svid, err := x509svid.Load(e.CertFile, e.KeyFile)
		if err != nil {
			t.Fatalf("x509svid.Load(%s) = %v", e.Stem, err)
		}
		if _, _, err := x509svid.Verify(svid.Certificates, bundle); err != nil {
			t.Errorf("%s does not verify against the new bundle: %v", e.Stem, err)
		}
	}
}

func TestInitBadOptions(t *testing.T) {
	tests := []struct {
		name   string
		opts   devpki.Options
		inside string
	}{
		{"unknown state", devpki.Options{TrustDomain: "iant.test", States: []string{"MX", "FR"}}, `"FR"`},
		{"lower-case state", devpki.Options{TrustDomain: "iant.test", States: []string{"mx"}}, `"mx"`},
		{"duplicate state", devpki.Options{TrustDomain: "iant.test", States: []string{"MX", "MX"}}, `"MX" is listed twice`},
		{"bad trust domain", devpki.Options{TrustDomain: "IANT Test"}, `trust domain "IANT Test"`},
		{"no trust domain", devpki.Options{}, "no trust domain"},
		{"negative hubs", devpki.Options{TrustDomain: "iant.test", Hubs: -1}, "hubs -1"},
		{"too many hubs", devpki.Options{TrustDomain: "iant.test", Hubs: 10}, "hubs 10"},
		{"negative validity", devpki.Options{TrustDomain: "iant.test", Validity: -time.Hour}, "validity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "certs")
			tt.opts.Dir = dir
			_, err := devpki.Init(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.inside) || !strings.HasPrefix(err.Error(), "devpki: ") {
				t.Fatalf("Init = %v, want a devpki error naming %s", err, tt.inside)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Init with bad options created %s", dir)
			}
		})
	}
	if _, err := devpki.Init(context.Background(), devpki.Options{TrustDomain: "iant.test"}); err == nil {
		t.Error("Init without Dir succeeded, want an error")
	}
}

func TestInitCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := devpki.Init(ctx, devpki.Options{Dir: dir, TrustDomain: "iant.test", States: states}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Init(canceled) = %v, want %v", err, context.Canceled)
	}
	for _, name := range []string{"pki.json", "bundle.pem", "ca", "svid"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("canceled Init left %s behind", name)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	want := initPKI(t, dir, states...)
	got, err := devpki.Load(dir)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if diff := cmp.Diff(want, got, layoutCmp...); diff != "" {
		t.Errorf("Load(Init) (-want +got):\n%s", diff)
	}

	// A relative directory gives absolute paths too.
	t.Chdir(filepath.Dir(dir))
	got, err = devpki.Load(filepath.Base(dir))
	if err != nil {
		t.Fatalf("Load(relative) = %v", err)
	}
	if diff := cmp.Diff(want, got, layoutCmp...); diff != "" {
		t.Errorf("Load(relative) (-want +got):\n%s", diff)
	}
}

func TestLoadManifestGolden(t *testing.T) {
	dir := t.TempDir()
	initPKI(t, dir, states...)
	got, err := os.ReadFile(filepath.Join(dir, "pki.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pki.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("pki.json (-%s +got):\n%s", golden, diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, dir, manifest string) string
		inside string
	}{
		{"no manifest", func(t *testing.T, dir, m string) string { return "" }, "pki.json"},
		{"not JSON", func(t *testing.T, dir, m string) string { return "{" }, "pki.json"},
		{"unknown version", func(t *testing.T, dir, m string) string {
			return strings.Replace(m, `"version": 1`, `"version": 2`, 1)
		}, "version 2"},
		{"path outside", func(t *testing.T, dir, m string) string {
			return strings.Replace(m, `"svid/mx-node-node.key"`, `"../mx-node-node.key"`, 1)
		}, `"../mx-node-node.key" is not inside`},
		{"missing key", func(t *testing.T, dir, m string) string {
			if err := os.Remove(filepath.Join(dir, "svid", "jm-analyst-analyst.key")); err != nil {
				t.Fatal(err)
			}
			return m
		}, "jm-analyst-analyst.key is missing"},
		{"ID outside the scheme", func(t *testing.T, dir, m string) string {
			return strings.Replace(m, "spiffe://iant.test/state/MX/node/node", "spiffe://iant.test/state/FR/node/node", 1)
		}, `entry "spiffe://iant.test/state/FR/node/node"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			initPKI(t, dir, states...)
			name := filepath.Join(dir, "pki.json")
			m, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if edited := tt.edit(t, dir, string(m)); edited == "" {
				os.Remove(name)
			} else if err := os.WriteFile(name, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := devpki.Load(dir); err == nil || !strings.Contains(err.Error(), tt.inside) {
				t.Errorf("Load = %v, want an error naming %s", err, tt.inside)
			}
		})
	}
}

func ExampleInit() {
	dir, err := os.MkdirTemp("", "devpki")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	l, err := devpki.Init(context.Background(), devpki.Options{Dir: dir, TrustDomain: "iant.test", States: []string{"MX"}})
	if err != nil {
		panic(err)
	}
	for _, e := range l.Entries {
		rel, _ := filepath.Rel(dir, e.CertFile)
		fmt.Println(e.ID, filepath.ToSlash(rel))
	}
	// Output:
	// spiffe://iant.test/secretariat/node/node svid/secretariat-node-node.pem
	// spiffe://iant.test/secretariat/auditor/auditor svid/secretariat-auditor-auditor.pem
	// spiffe://iant.test/secretariat/admin/admin svid/secretariat-admin-admin.pem
	// spiffe://iant.test/state/MX/node/node svid/mx-node-node.pem
	// spiffe://iant.test/state/MX/focal-point/focal svid/mx-focal-point-focal.pem
	// spiffe://iant.test/state/MX/analyst/analyst svid/mx-analyst-analyst.pem
}
