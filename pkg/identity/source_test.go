package identity_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// pemFiles are the three files a FileSource reads.
type pemFiles struct{ cert, key, bundle string }

func newPEMFiles(tb testing.TB) pemFiles {
	dir := tb.TempDir()
	return pemFiles{filepath.Join(dir, "svid.pem"), filepath.Join(dir, "svid.key"), filepath.Join(dir, "bundle.pem")}
}

// write writes svid and ca's bundle and stamps the files with mtime, so a
// change is visible whatever the file system's timestamp resolution.
func (f pemFiles) write(tb testing.TB, ca *identitytest.CA, svid *x509svid.SVID, mtime time.Time) {
	tb.Helper()
	cert, key, err := svid.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	bundle, err := ca.Bundle().Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	for name, b := range map[string][]byte{f.cert: cert, f.key: key, f.bundle: bundle} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			tb.Fatal(err)
		}
	}
}

func svidID(tb testing.TB, s *identity.FileSource) spiffeid.ID {
	tb.Helper()
	svid, err := s.GetX509SVID()
	if err != nil {
		tb.Fatalf("GetX509SVID: %v", err)
	}
	return svid.ID
}

func TestLoadFiles(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	f := newPEMFiles(t)
	f.write(t, ca, ca.SVID(t, mxNode), time.Now())

	s, err := identity.LoadFiles(td, f.cert, f.key, f.bundle)
	if err != nil {
		t.Fatalf("LoadFiles = %v", err)
	}
	if got := svidID(t, s); got != mxNode.ID(td) {
		t.Errorf("GetX509SVID().ID = %v, want %v", got, mxNode.ID(td))
	}
	b, err := s.GetX509BundleForTrustDomain(td)
	if err != nil || !b.Equal(ca.Bundle()) {
		t.Errorf("GetX509BundleForTrustDomain(%v) = %v, %v, want the CA bundle", td, b, err)
	}
	other := spiffeid.RequireTrustDomainFromString("other.test")
	if _, err := s.GetX509BundleForTrustDomain(other); err == nil {
		t.Errorf("GetX509BundleForTrustDomain(%v) = nil error, want an error", other)
	}
}

func TestLoadFilesErrorsNameTheFile(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	f := newPEMFiles(t)
	f.write(t, ca, ca.SVID(t, mxNode), time.Now())
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	otherCA := identitytest.NewCA(t, "other.test")
	g := newPEMFiles(t)
	g.write(t, otherCA, otherCA.SVIDForID(t, spiffeid.RequireFromPath(otherCA.TD, "/state/MX/node/node")), time.Now())

	tests := []struct {
		name                      string
		cert, key, bundle, inside string
	}{
		{"missing cert", missing, f.key, f.bundle, missing},
		{"garbage key", f.cert, garbage, f.bundle, garbage},
		{"garbage bundle", f.cert, f.key, garbage, garbage},
		{"SVID of another trust domain", g.cert, g.key, f.bundle, g.cert},
		{"no cert", "", f.key, f.bundle, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := identity.LoadFiles(td, tt.cert, tt.key, tt.bundle)
			if err == nil || !strings.Contains(err.Error(), tt.inside) {
				t.Errorf("LoadFiles = %v, want an error naming %q", err, tt.inside)
			}
		})
	}
}

func TestFileSourceReload(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	f := newPEMFiles(t)
	t0 := time.Now().Add(-time.Hour)
	f.write(t, ca, ca.SVID(t, mxNode), t0)
	s, err := identity.LoadFiles(td, f.cert, f.key, f.bundle)
	if err != nil {
		t.Fatal(err)
	}

	f.write(t, ca, ca.SVID(t, jmNode), t0.Add(time.Minute))
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload = %v", err)
	}
	if got := svidID(t, s); got != jmNode.ID(td) {
		t.Errorf("after Reload, ID = %v, want %v", got, jmNode.ID(td))
	}

	// A half-written rotation (new key, old cert) fails and keeps the old SVID.
	if err := os.WriteFile(f.key, []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), f.cert) {
		t.Errorf("Reload of a torn key = %v, want an error naming the files", err)
	}
	if got := svidID(t, s); got != jmNode.ID(td) {
		t.Errorf("after a failed Reload, ID = %v, want the old %v", got, jmNode.ID(td))
	}
}

func TestFileSourceNoticesChanges(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	f := newPEMFiles(t)
	t0 := time.Now().Add(-time.Hour)
	f.write(t, ca, ca.SVID(t, mxNode), t0)
	s, err := identity.LoadFiles(td, f.cert, f.key, f.bundle)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, ca, ca.SVID(t, mxFocal), t0.Add(time.Minute))

	// Readers run concurrently with the change (for -race); the new SVID
	// must show within a few check intervals.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := s.GetX509SVID(); err != nil {
					t.Errorf("GetX509SVID: %v", err)
					return
				}
				if _, err := s.GetX509BundleForTrustDomain(td); err != nil {
					t.Errorf("GetX509BundleForTrustDomain: %v", err)
					return
				}
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	for svidID(t, s) != mxFocal.ID(td) {
		if ctx.Err() != nil {
			t.Fatalf("FileSource still serves %v after the files changed", svidID(t, s))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
