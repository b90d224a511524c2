package node

import (
	"context"
	"strings"

	"google.golang.org/grpc"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
)

type callerKey struct{}

// callerFrom returns the authenticated caller that the interceptors stored.
func callerFrom(ctx context.Context) identity.Principal {
	p, _ := ctx.Value(callerKey{}).(identity.Principal)
	return p
}

// openMethod reports whether any member of the trust domain may call
// method: health checks and server reflection carry no bulletin data.
func openMethod(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

// authenticate reads the caller's SPIFFE ID from the TLS connection (never
// from the request) and checks that the caller belongs to this node: a
// person of the node's own state, or a secretariat person at the
// secretariat node.
func (n *Node) authenticate(ctx context.Context, method string) (context.Context, error) {
	p, err := identity.PeerFromContext(ctx, n.cfg.TrustDomain)
	if err != nil {
		n.log.Warn("refused call", "method", method, "kind", "unauthenticated", "err", err)
		return nil, problem.Unauthenticated("no valid IANT identity on the connection")
	}
	if openMethod(method) {
		return context.WithValue(ctx, callerKey{}, p), nil
	}
	rule := ""
	switch {
	case !p.Role.IsPerson():
		rule = "caller.person"
	case n.self.Role == identity.RoleSecretariatNode && !p.Role.IsSecretariat() &&
		!(p.Role == identity.RoleFocalPoint && method == auditReportMethod): // checked against the origin there
		rule = "caller.secretariat"
	case n.self.Role == identity.RoleNode && p.State != n.self.State:
		rule = "caller.own_state"
	}
	if rule != "" {
		n.log.Warn("refused call", "method", method, "peer", p.String(), "rule", rule)
		return nil, problem.Denied(rule, "%s may not call the node of %s", p, n.whose())
	}
	return context.WithValue(ctx, callerKey{}, p), nil
}

// whose names the node's owner for messages.
func (n *Node) whose() string {
	if n.self.Role == identity.RoleSecretariatNode {
		return "the secretariat"
	}
	return n.self.State
}

func (n *Node) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := n.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, toStatus(err)
	}
	resp, err := h(ctx, req)
	return resp, n.statusOf(info.FullMethod, err)
}

type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s authStream) Context() context.Context { return s.ctx }

func (n *Node) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := n.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return toStatus(err)
	}
	return n.statusOf(info.FullMethod, h(srv, authStream{ServerStream: ss, ctx: ctx}))
}

// requireRole refuses callers whose role is not one of roles.
func requireRole(ctx context.Context, rule, action string, roles ...identity.Role) (identity.Principal, error) {
	p := callerFrom(ctx)
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
