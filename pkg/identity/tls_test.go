package identity_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

var (
	mxNode  = identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"}
	jmNode  = identity.Principal{State: "JM", Role: identity.RoleNode, Name: "node"}
	mxFocal = identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: "ana"}
)

// testServer is a gRPC health server behind bufconn whose interceptor
// records the principal PeerFromContext returns.
type testServer struct {
	lis *bufconn.Listener

	mu    sync.Mutex
	calls []identity.Principal
}

func startServer(tb testing.TB, svid x509svid.Source, bundle x509bundle.Source) *testServer {
	tb.Helper()
	ts := &testServer{lis: bufconn.Listen(1 << 16)}
	srv := grpc.NewServer(
		grpc.Creds(identity.ServerCredentials(svid, bundle, td)),
		grpc.UnaryInterceptor(ts.intercept),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ts.lis)
	}()
	tb.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ts
}

func (ts *testServer) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	p, err := identity.PeerFromContext(ctx, td)
	if err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	ts.mu.Lock()
	ts.calls = append(ts.calls, p)
	ts.mu.Unlock()
	return h(ctx, req)
}

func (ts *testServer) seen() []identity.Principal {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]identity.Principal(nil), ts.calls...)
}

// check calls Health.Check over a fresh connection with creds.
func (ts *testServer) check(tb testing.TB, creds credentials.TransportCredentials) error {
	tb.Helper()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ts.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(creds),
	)
	if err != nil {
		tb.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestMTLSAcceptsMember(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	ts := startServer(t, ca.SVID(t, mxNode), ca.Bundle())

	if err := ts.check(t, identity.ClientCredentials(ca.SVID(t, mxFocal), ca.Bundle(), mxNode.ID(td))); err != nil {
		t.Fatalf("Check with a valid SVID = %v, want nil", err)
	}
	if err := ts.check(t, identity.ClientCredentialsMemberOf(ca.SVID(t, jmNode), ca.Bundle(), td)); err != nil {
		t.Fatalf("Check with ClientCredentialsMemberOf = %v, want nil", err)
	}
	got := ts.seen()
	want := []identity.Principal{mxFocal, jmNode}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("server saw peers %v, want %v", got, want)
	}
}

func TestMTLSRefuses(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	stranger := identitytest.NewCA(t, "iant.test")
	other := identitytest.NewCA(t, "other.test")
	otherID := spiffeid.RequireFromPath(other.TD, "/state/MX/focal-point/ana")

	// federated trusts both trust domains, so a refusal of other.test's
	// peers comes from the authorizer, not from a missing bundle.
	federated := x509bundle.NewSet(ca.Bundle(), other.Bundle())

	tests := []struct {
		name         string
		serverSVID   *x509svid.SVID
		serverBundle x509bundle.Source
		client       credentials.TransportCredentials
		want         codes.Code
	}{
		{
			name:         "client cert from another CA",
			serverSVID:   ca.SVID(t, mxNode),
			serverBundle: ca.Bundle(),
			client:       identity.ClientCredentials(stranger.SVID(t, mxFocal), ca.Bundle(), mxNode.ID(td)),
			want:         codes.Unavailable,
		},
		{
			name:         "client of another trust domain",
			serverSVID:   ca.SVID(t, mxNode),
			serverBundle: federated,
			client:       identity.ClientCredentials(other.SVIDForID(t, otherID), federated, mxNode.ID(td)),
			want:         codes.Unavailable,
		},
		{
			name:         "server with an unexpected ID",
			serverSVID:   ca.SVID(t, jmNode),
			serverBundle: ca.Bundle(),
			client:       identity.ClientCredentials(ca.SVID(t, mxFocal), ca.Bundle(), mxNode.ID(td)),
			want:         codes.Unavailable,
		},
		{
			name:         "server of another trust domain",
			serverSVID:   other.SVIDForID(t, spiffeid.RequireFromPath(other.TD, "/state/MX/node/node")),
			serverBundle: federated,
			client:       identity.ClientCredentialsMemberOf(ca.SVID(t, mxFocal), federated, td),
			want:         codes.Unavailable,
		},
		{
			name:         "member outside the IANT scheme",
			serverSVID:   ca.SVID(t, mxNode),
			serverBundle: ca.Bundle(),
			client:       identity.ClientCredentials(ca.SVIDForID(t, spiffeid.RequireFromPath(td, "/workload/x")), ca.Bundle(), mxNode.ID(td)),
			want:         codes.PermissionDenied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.serverSVID, tt.serverBundle)
			err := ts.check(t, tt.client)
			if got := status.Code(err); got != tt.want {
				t.Errorf("Check = %v (%v), want %v", got, err, tt.want)
			}
			if seen := ts.seen(); len(seen) != 0 {
				t.Errorf("handler ran for refused peers %v", seen)
			}
		})
	}
}

func TestPeerFromContextNoPeer(t *testing.T) {
	p, err := identity.PeerFromContext(context.Background(), td)
	if !errors.Is(err, identity.ErrNoPeer) {
		t.Errorf("PeerFromContext(no peer) = %+v, %v, want %v", p, err, identity.ErrNoPeer)
	}
}

func TestTLSConfigs(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	srv := identity.ServerTLSConfig(ca.SVID(t, mxNode), ca.Bundle(), td)

	peer, err := handshake(srv, identity.ClientTLSConfig(ca.SVID(t, mxFocal), ca.Bundle(), mxNode.ID(td)))
	if err != nil {
		t.Fatalf("handshake = %v, want nil", err)
	}
	if got, err := identity.ParseString(td, peer); err != nil || got != mxFocal {
		t.Errorf("server saw peer %q (%v), want %v", peer, err, mxFocal)
	}

	if _, err := handshake(srv, identity.ClientTLSConfig(ca.SVID(t, mxFocal), ca.Bundle(), jmNode.ID(td))); err == nil {
		t.Error("handshake with a server of an unexpected ID succeeded")
	}
}

// handshake runs a TLS handshake over an in-memory pipe and returns the
// URI SAN of the client certificate the server verified.
func handshake(server, client *tls.Config) (string, error) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	type result struct {
		peer string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		s := tls.Server(c1, server)
		err := s.Handshake()
		var peer string
		if err == nil {
			if certs := s.ConnectionState().PeerCertificates; len(certs) > 0 && len(certs[0].URIs) == 1 {
				peer = certs[0].URIs[0].String()
			}
		}
		c1.Close() // unblock the client if the server gave up
		done <- result{peer, err}
	}()
	c := tls.Client(c2, client)
	cerr := c.Handshake()
	if cerr == nil {
		// In TLS 1.3 the server checks the client certificate after the
		// client is done; a read waits for its verdict.
		_, cerr = c.Read(make([]byte, 1))
		if errors.Is(cerr, io.EOF) {
			cerr = nil
		}
	}
	c2.Close()
	r := <-done
	return r.peer, errors.Join(cerr, r.err)
}
