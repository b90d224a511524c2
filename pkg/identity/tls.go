package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffegrpc/grpccredentials"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ErrNoPeer is returned by [PeerFromContext] when the context carries no
// SPIFFE peer: the call did not come over a connection made with this
// package's credentials, or the peer presented no SPIFFE ID.
var ErrNoPeer = errors.New("identity: no SPIFFE peer on the connection")

// ServerCredentials returns mTLS gRPC server credentials presenting the
// SVID from svid and accepting any client whose SVID verifies against
// bundle and belongs to trust domain td. Which member may do what is decided
// per call from [PeerFromContext]; the TLS layer only keeps strangers out.
//
// The credentials are gRPC's own TLS credentials over go-spiffe's mTLS
// configuration (the SPIFFE chain check runs in the handshake), so that a
// handler can read the peer's verified certificate itself
// ([PeerCertificateFromContext]), e.g. its serial number.
func ServerCredentials(svid x509svid.Source, bundle x509bundle.Source, td spiffeid.TrustDomain) credentials.TransportCredentials {
	return credentials.NewTLS(tlsconfig.MTLSServerConfig(svid, bundle, tlsconfig.AuthorizeMemberOf(td)))
}

// ClientCredentials returns mTLS gRPC client credentials presenting the
// SVID from svid and accepting only a server whose SVID verifies against
// bundle and carries exactly the SPIFFE ID server. Dial a passthrough
// target; the server's host name is not checked, its SPIFFE ID is.
func ClientCredentials(svid x509svid.Source, bundle x509bundle.Source, server spiffeid.ID) credentials.TransportCredentials {
	return grpccredentials.MTLSClientCredentials(svid, bundle, tlsconfig.AuthorizeID(server))
}

// ClientCredentialsMemberOf is [ClientCredentials] accepting any server of
// trust domain td. Use it only where any member may answer (the caller then
// checks the server's role itself).
func ClientCredentialsMemberOf(svid x509svid.Source, bundle x509bundle.Source, td spiffeid.TrustDomain) credentials.TransportCredentials {
	return grpccredentials.MTLSClientCredentials(svid, bundle, tlsconfig.AuthorizeMemberOf(td))
}

// ServerTLSConfig is [ServerCredentials] as a *tls.Config, for servers that
// are not gRPC (NATS). The peer's SPIFFE ID is then in the verified leaf
// certificate of the connection state.
func ServerTLSConfig(svid x509svid.Source, bundle x509bundle.Source, td spiffeid.TrustDomain) *tls.Config {
	return tlsconfig.MTLSServerConfig(svid, bundle, tlsconfig.AuthorizeMemberOf(td))
}

// ClientTLSConfig is [ClientCredentials] as a *tls.Config, for clients that
// are not gRPC (NATS): it accepts only the server with SPIFFE ID server.
func ClientTLSConfig(svid x509svid.Source, bundle x509bundle.Source, server spiffeid.ID) *tls.Config {
	return tlsconfig.MTLSClientConfig(svid, bundle, tlsconfig.AuthorizeID(server))
}

// PeerFromContext returns the principal at the other end of the gRPC
// connection ctx belongs to (a server handler's or interceptor's context),
// read from the peer's verified certificate, never from the request. It
// returns [ErrNoPeer] when there is no SPIFFE peer, and the errors of [Parse]
// ([ErrTrustDomain], [ErrScheme], [ErrState]) when the peer's ID is not an
// IANT principal of td.
func PeerFromContext(ctx context.Context, td spiffeid.TrustDomain) (Principal, error) {
	cert, err := PeerCertificateFromContext(ctx)
	if err != nil {
		return Principal{}, err
	}
	id, err := x509svid.IDFromCert(cert)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrNoPeer, err)
	}
	return Parse(td, id)
}

// PeerCertificateFromContext returns the leaf certificate the peer of the
// gRPC connection ctx belongs to presented, verified in the handshake by
// [ServerCredentials]. It returns [ErrNoPeer] when the connection carries
// none.
func PeerCertificateFromContext(ctx context.Context) (*x509.Certificate, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, ErrNoPeer
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || !info.State.HandshakeComplete || len(info.State.PeerCertificates) == 0 {
		return nil, ErrNoPeer
	}
	return info.State.PeerCertificates[0], nil
}
