package nodeserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/metrics"
)

// MaxRecvMsgSize bounds a request a node accepts: a bulletin's body is
// limited far below it, so only abuse comes near.
const MaxRecvMsgSize = 2 << 20

// stopGrace is how long Stop lets calls in flight finish before it cuts
// them off.
const stopGrace = 5 * time.Second

// Config is what a node's gRPC server needs. TrustDomain, SVID, Bundle and
// Admit are required.
type Config struct {
	// TrustDomain is the network's SPIFFE trust domain.
	TrustDomain spiffeid.TrustDomain
	// SVID is the node's own identity, presented to callers.
	SVID x509svid.Source
	// Bundle holds the trust anchors callers' SVIDs must chain to.
	Bundle x509bundle.Source
	// ListenAddr is the listen address; default "127.0.0.1:0" (a free
	// loopback port, see [Server.Addr]).
	ListenAddr string
	// Admit decides which people may call this node (see [Admission]).
	Admit Admission
	// Membership holds the secretariat's signed documents as this node
	// verified them. When set, a caller whose certificate or SPIFFE ID the
	// deny list names is refused every call, its open streams end as soon
	// as the holder accepts a list that denies it (and any stream the
	// admission rule refuses by then), and the directory shows each
	// state's standing. Nil denies nobody.
	Membership *membership.Holder
	// Logger receives refusals and internal errors; nil discards them.
	Logger *slog.Logger
	// Metrics counts the calls answered and the callers refused; nil
	// counts nothing.
	Metrics *metrics.Node
}

// Server is a node's gRPC server: listening from [Listen], serving from
// [Server.Serve] until [Server.Stop].
type Server struct {
	cfg    Config
	log    *slog.Logger
	lis    net.Listener
	grpc   *grpc.Server
	health *health.Server

	streams streams       // open streaming calls
	done    chan struct{} // closed by Stop

	wg       sync.WaitGroup
	stopOnce sync.Once
	served   bool
}

// Listen validates cfg, listens, and returns a Server whose services the
// caller registers on [Server.GRPC] before [Server.Serve]. Health and
// reflection are registered already.
func Listen(cfg Config) (*Server, error) {
	switch {
	case cfg.TrustDomain.IsZero():
		return nil, errors.New("nodeserver: config: TrustDomain is required")
	case cfg.SVID == nil || cfg.Bundle == nil:
		return nil, errors.New("nodeserver: config: SVID and Bundle are required")
	case cfg.Admit == nil:
		return nil, errors.New("nodeserver: config: Admit is required")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	addr := cfg.ListenAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("nodeserver: listen: %w", err)
	}
	s.lis = lis
	s.grpc = grpc.NewServer(
		grpc.Creds(identity.ServerCredentials(cfg.SVID, cfg.Bundle, cfg.TrustDomain)),
		grpc.ChainUnaryInterceptor(s.unaryAuth),
		grpc.ChainStreamInterceptor(s.streamAuth),
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
	)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	return s, nil
}

// GRPC returns the gRPC server, to register services on before Serve.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Serve serves on a goroutine the Server owns until Stop.
func (s *Server) Serve() {
	s.served = true
	s.watchMembership()
	s.wg.Go(func() {
		if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("grpc serve", "err", err)
		}
	})
}

// Stop marks the server not serving in health checks, lets calls in
// flight finish for a few seconds, then cuts the rest off and waits for
// the serving goroutine. Streams that must end sooner are the caller's
// to end (e.g. by a closing channel they select on). It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.done)
		s.health.Shutdown()
		if !s.served {
			s.lis.Close()
			return
		}
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(stopGrace):
			s.grpc.Stop()
			<-stopped
		}
		s.wg.Wait()
	})
}
