package nodeserver

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/problem"
)

// Admission decides whether caller may call method at this node at all,
// before any handler runs. It returns "" to admit, or the id of the rule
// that refuses (e.g. "caller.own_state") and a public message.
type Admission func(caller identity.Principal, method string) (rule, msg string)

type callerKey struct{}

// Caller returns the authenticated caller of a call the Server admitted:
// the principal of the SPIFFE ID of the peer's verified certificate. It is
// the zero Principal outside such a call.
func Caller(ctx context.Context) identity.Principal {
	p, _ := ctx.Value(callerKey{}).(identity.Principal)
	return p
}

// openMethod reports whether any member of the trust domain may call
// method: health checks and server reflection carry no bulletin data.
func openMethod(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

// authenticate reads the caller's SPIFFE ID from the TLS connection (never
// from the request), refuses a certificate the deny list names, and asks
// the node's admission rule. It returns the caller and its certificate.
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, *x509.Certificate, error) {
	p, err := identity.PeerFromContext(ctx, s.cfg.TrustDomain)
	if err != nil {
		s.log.Warn("refused call", "method", method, "kind", "unauthenticated", "err", err)
		return nil, nil, problem.Unauthenticated("no valid IANT identity on the connection")
	}
	cert, err := identity.PeerCertificateFromContext(ctx)
	if err != nil {
		return nil, nil, problem.Unauthenticated("no valid IANT identity on the connection")
	}
	if err := s.admitted(p, cert, method); err != nil {
		s.log.Warn("refused call", "method", method, "peer", p.String(), "rule", err.Rule)
		return nil, nil, err
	}
	return context.WithValue(ctx, callerKey{}, p), cert, nil
}

// admitted decides whether p, presenting cert, may call method: not if the
// deny list names either (whatever the method), nor, beyond health and
// reflection, if p is not a person or the node's admission rule refuses.
func (s *Server) admitted(p identity.Principal, cert *x509.Certificate, method string) *problem.Error {
	if h := s.cfg.Membership; h != nil {
		if e, denied := h.DeniesCert(cert); denied {
			// The reason stays in the log: the caller may hold a stolen key.
			s.log.Warn("denied identity refused", "method", method, "peer", p.String(),
				"serial", membership.SerialString(cert.SerialNumber), "denied", e.Target(), "reason", e.Reason)
			return problem.Denied("caller.denied", "%s: this certificate or identity is denied network-wide by the secretariat", p)
		}
	}
	if openMethod(method) {
		return nil
	}
	if !p.Role.IsPerson() {
		return problem.Denied("caller.person", "%s is not a person; nodes do not call nodes", p)
	}
	if rule, msg := s.cfg.Admit(p, method); rule != "" {
		return problem.Denied(rule, "%s", msg)
	}
	return nil
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, _, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, s.answered(info.FullMethod, err)
	}
	resp, err := h(ctx, req)
	return resp, s.answered(info.FullMethod, err)
}

// answered maps err to its status (ToStatus) and counts the call, and
// the refusal by its rule when it is one.
func (s *Server) answered(method string, err error) error {
	if p := (*problem.Error)(nil); errors.As(err, &p) && p.Kind == problem.KindPermission {
		s.cfg.Metrics.Refused(p.Rule)
	}
	err = ToStatus(s.log, method, err)
	s.cfg.Metrics.Call(method, status.Code(err).String())
	return err
}

type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s authStream) Context() context.Context { return s.ctx }

// streamAuth admits a streaming call like unaryAuth, and keeps it among
// the open streams until it ends, so that [Server.Recheck] can end it when
// its caller is denied or refused meanwhile: the handler then sees its
// context cancelled, and the caller the refusal.
func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, cert, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return s.answered(info.FullMethod, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	o := &openStream{caller: Caller(ctx), cert: cert, method: info.FullMethod, cancel: cancel}
	s.streams.add(o)
	defer s.streams.remove(o)
	err = h(srv, authStream{ServerStream: ss, ctx: ctx})
	var refused *problem.Error
	if cause := context.Cause(ctx); errors.As(cause, &refused) {
		err = refused
	}
	return s.answered(info.FullMethod, err)
}

// RequireRole returns the caller if its role is one of roles, and refuses
// it otherwise with rule: "<a role> may not <action>".
func RequireRole(ctx context.Context, rule, action string, roles ...identity.Role) (identity.Principal, error) {
	p := Caller(ctx)
	for _, r := range roles {
		if p.Role == r {
			return p, nil
		}
	}
	return p, problem.Denied(rule, "%s may not %s", withArticle(p.Role.String()), action)
}

// withArticle prefixes a noun with "a" or "an".
func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// WithCaller returns ctx carrying p as the authenticated caller, for a
// server beside gRPC (the TAXII HTTPS server) that authenticated p from
// its own mTLS connection and admitted it like the gRPC server does; the
// node's handlers then see p through [Caller] and [RequireRole].
func WithCaller(ctx context.Context, p identity.Principal) context.Context {
	return context.WithValue(ctx, callerKey{}, p)
}
