package backbone

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/membership"
)

// TestDeniedCertificateCannotResume: a node that connected once holds
// whatever the server's TLS offers for next time; once its certificate
// is denied by serial, its next handshake is refused even when it
// presents its earlier session (a resumed handshake would skip the
// certificate check).
func TestDeniedCertificateCannotResume(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	srvSVID := ca.SVID(t, identity.Principal{Role: identity.RoleSecretariatNode, Name: "node"})
	mx := ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"})
	a := newAccess(ca.TD, discard)
	srv := a.guard(tlsconfig.MTLSServerConfig(srvSVID, ca.Bundle(), tlsconfig.AuthorizeMemberOf(ca.TD)))
	cli := tlsconfig.MTLSClientConfig(mx, ca.Bundle(), tlsconfig.AuthorizeMemberOf(ca.TD))
	cli.ClientSessionCache = tls.NewLRUClientSessionCache(4)

	handshake := func() (resumed bool, err error) {
		c, s := net.Pipe()
		defer c.Close()
		defer s.Close()
		srvErr := make(chan error, 1)
		go func() {
			ts := tls.Server(s, srv)
			if err := ts.Handshake(); err != nil {
				srvErr <- err
				return
			}
			_, err := ts.Write([]byte("x")) // after any session ticket
			srvErr <- err
		}()
		tc := tls.Client(c, cli)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return false, err
		}
		if _, err := tc.Read(make([]byte, 1)); err != nil {
			return false, err
		}
		return tc.ConnectionState().DidResume, <-srvErr
	}
	if _, err := handshake(); err != nil {
		t.Fatalf("first handshake: %v", err)
	}
	list, err := membership.DenyList{}.With("iant.test", membership.DenyEntry{Serial: membership.SerialString(mx.Certificates[0].SerialNumber),
		Reason: "stolen", By: "spiffe://iant.test/secretariat/admin/admin"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.deny.Store(&list)
	if resumed, err := handshake(); err == nil {
		t.Errorf("handshake with the denied certificate succeeded (resumed %v), want it refused", resumed)
	}
}
