package devpki_test

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/identity"
)

// TestRenew: SVIDs are short-lived; Renew issues new ones (new key, new
// serial) that a running source takes without a restart, every SVID or
// only those asked for, never beyond the CA.
func TestRenew(t *testing.T) {
	dir := t.TempDir()
	l := initPKI(t, dir, "MX")
	if want := fixed.Add(devpki.DefaultSVIDValidity); !l.SVIDNotAfter.Equal(want) {
		t.Errorf("SVIDNotAfter = %v, want %v (a day)", l.SVIDNotAfter, want)
	}
	focal, _ := l.Find(identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: devpki.FocalPointName})
	node, _ := l.Find(identity.Principal{State: "MX", Role: identity.RoleNode, Name: devpki.NodeName})
	src, err := identity.LoadFiles(td, focal.CertFile, focal.KeyFile, l.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := src.GetX509SVID()
	nodeSrc, _ := identity.LoadFiles(td, node.CertFile, node.KeyFile, l.BundleFile)
	oldNode, _ := nodeSrc.GetX509SVID()

	later := fixed.Add(20 * time.Hour)
	r, err := devpki.Renew(context.Background(), dir, devpki.RenewOptions{Only: []spiffeid.ID{focal.ID}, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Reload(); err != nil {
		t.Fatal(err)
	}
	got, _ := src.GetX509SVID()
	switch {
	case got.Certificates[0].SerialNumber.Cmp(old.Certificates[0].SerialNumber) == 0:
		t.Error("Renew kept the serial number")
	case !got.Certificates[0].NotAfter.Equal(later.Add(devpki.DefaultSVIDValidity)):
		t.Errorf("renewed SVID expires %v, want %v", got.Certificates[0].NotAfter, later.Add(devpki.DefaultSVIDValidity))
	case got.Certificates[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(old.Certificates[0].PublicKey):
		t.Error("Renew kept the key: a stolen key would still work with the new certificate")
	}
	if !r.SVIDNotAfter.Equal(oldNode.Certificates[0].NotAfter) {
		t.Errorf("SVIDNotAfter = %v, want the node's unrenewed %v", r.SVIDNotAfter, oldNode.Certificates[0].NotAfter)
	}
	_ = nodeSrc.Reload()
	if n, _ := nodeSrc.GetX509SVID(); n.Certificates[0].SerialNumber.Cmp(oldNode.Certificates[0].SerialNumber) != 0 {
		t.Error("Renew(Only focal) renewed the node too")
	}

	// Every SVID, and never past the CA.
	nearCAEnd := l.NotAfter.Add(-time.Hour)
	if r, err = devpki.Renew(context.Background(), dir, devpki.RenewOptions{Now: func() time.Time { return nearCAEnd }}); err != nil {
		t.Fatal(err)
	}
	if !r.SVIDNotAfter.Equal(l.NotAfter) {
		t.Errorf("SVIDNotAfter = %v, want the CA's %v", r.SVIDNotAfter, l.NotAfter)
	}
	if _, err := devpki.Renew(context.Background(), dir, devpki.RenewOptions{Now: func() time.Time { return l.NotAfter }}); err == nil {
		t.Error("Renew after the CA expired: no error")
	}
}
