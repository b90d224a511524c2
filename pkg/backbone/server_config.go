package backbone

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
)

// ServerConfig configures an embedded backbone server: one nats-server with
// JetStream, TLS on the client port and one NATS user per node.
type ServerConfig struct {
	// Host is the address the client port listens on; "" means
	// [DefaultHost], loopback only.
	Host string
	// Port is the client port; 0 means [DefaultPort], -1 a random free port
	// (see [Server.ClientURL]).
	Port int
	// StoreDir is the JetStream file store directory. Required.
	StoreDir string
	// TrustDomain is the SPIFFE trust domain of every node. Required.
	TrustDomain spiffeid.TrustDomain
	// SVID is the server's own X.509 SVID source. Required.
	SVID x509svid.Source
	// Bundle is the source of trust bundles that client SVIDs are verified
	// against. Required.
	Bundle x509bundle.Source
	// Nodes are the SPIFFE IDs of every node allowed to connect: state
	// nodes (spiffe://<td>/state/<CC>/node/<name>) and secretariat nodes
	// (spiffe://<td>/secretariat/node/<name>). Any other member of the
	// trust domain completes the TLS handshake but is refused with an
	// authorization violation. At least one is required.
	Nodes []spiffeid.ID
	// Inspectors are SPIFFE IDs of the trust domain outside IANT's
	// identity scheme (no node, no person, e.g.
	// spiffe://<td>/test/inspector) that may read single stored copies of
	// the inbox stream, sealed, as the servers hold them on disk, and do
	// nothing else. It exists for tests (backbonetest, testenv's Inspect
	// option) that check what the backbone stores; no production
	// configuration sets it, and no IANT principal can be one.
	Inspectors []spiffeid.ID
	// Name is the server's name, unique within a cluster; "" means
	// "iant-backbone".
	Name string
	// Cluster makes the server one member of a JetStream cluster; nil runs
	// it alone.
	Cluster *ClusterConfig
	// LeafNodes opens a port that state leaf nodes connect to; nil opens
	// none.
	LeafNodes *ListenConfig
	// MembershipKey is the secretariat's membership verifier key (its
	// membership.vkey). When set, the server reads the signed membership
	// table and deny list on [MembershipStream] through a connection of
	// its own, made with its SVID, and applies them by reloading its
	// configuration (no restart; nobody else's connection is touched): a
	// state node is a user only while its state is active (the nodes the
	// table names for an active state become users too), a denied SPIFFE
	// ID is no user, a denied certificate fails the TLS handshake, and
	// open connections of identities that lost their user or were denied
	// are cut, leaf node connections included. Empty applies neither:
	// Nodes alone decide.
	MembershipKey string
	// MinFreeDisk is the free space, in bytes, the server keeps on the
	// filesystem of StoreDir: below it JetStream refuses new messages
	// until space returns (see disk.go). 0 means [DefaultMinFreeDisk].
	MinFreeDisk uint64
	// Quotas bound what each state may put on the backbone (quota.go);
	// zero fields mean the defaults. Every server of a cluster enforces
	// them for the publishes it receives.
	Quotas QuotaConfig
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// ClusterConfig makes a server one member of a JetStream cluster (the
// "hub"): three servers, each listing the others' route URLs, with R3
// streams (see [ClientConfig.Replicas]).
type ClusterConfig struct {
	// Name is the cluster's name, the same on every member. Required.
	Name string
	// Host and Port are where the route listener binds; "" means
	// [DefaultHost], Port 0 means [DefaultRoutePort], -1 a random port.
	Host string
	Port int
	// Routes are the route URLs of the members, e.g.
	// "nats-route://10.0.0.2:6222"; listing the server's own URL is fine.
	Routes []string
	// Peers are the SPIFFE IDs of every cluster member. A route is
	// accepted or dialled only when the other end's SVID is one of them
	// (checked in the TLS handshake). Each must be a secretariat node ID,
	// since nodes trust only the secretariat's side to run the backbone.
	// Required.
	Peers []spiffeid.ID
}

// ListenConfig is a listener address.
type ListenConfig struct {
	// Host is the bind address; "" means [DefaultHost].
	Host string
	// Port is the port; 0 means the listener's default port, -1 a random
	// one.
	Port int
	// NoAdvertise, on a leaf node listener, keeps the server from telling
	// leaf nodes the leaf node URLs of the backbone's servers, which they
	// would otherwise also dial when their own URLs fail: set it when leaf
	// nodes must come only the way they were configured (a proxy, a NAT).
	NoAdvertise bool
}

// Validate reports the first bad field of c, wrapping [ErrInvalidConfig].
func (c ServerConfig) Validate() error {
	switch {
	case c.SVID == nil:
		return fmt.Errorf("%w: SVID is required", ErrInvalidConfig)
	case c.Bundle == nil:
		return fmt.Errorf("%w: Bundle is required", ErrInvalidConfig)
	}
	return c.ValidateSettings()
}

// ValidateSettings is [ServerConfig.Validate] without the SVID sources: for
// a configuration file checked before its sources are opened.
func (c ServerConfig) ValidateSettings() error {
	switch {
	case c.StoreDir == "":
		return fmt.Errorf("%w: StoreDir is required", ErrInvalidConfig)
	case c.TrustDomain.IsZero():
		return fmt.Errorf("%w: TrustDomain is required", ErrInvalidConfig)
	case c.Port < -1 || c.Port > 65535:
		return fmt.Errorf("%w: Port %d out of range (-1 to 65535)", ErrInvalidConfig, c.Port)
	case len(c.Nodes) == 0:
		return fmt.Errorf("%w: Nodes is empty: no node could connect", ErrInvalidConfig)
	}
	if _, err := c.principals(); err != nil {
		return err
	}
	if err := c.validateInspectors(); err != nil {
		return err
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if err := c.Quotas.validate(); err != nil {
		return err
	}
	if l := c.LeafNodes; l != nil && (l.Port < -1 || l.Port > 65535) {
		return fmt.Errorf("%w: LeafNodes.Port %d out of range (-1 to 65535)", ErrInvalidConfig, l.Port)
	}
	if c.MembershipKey != "" {
		if _, err := membership.NewVerifier(c.TrustDomain.Name(), c.MembershipKey); err != nil {
			return fmt.Errorf("%w: MembershipKey: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// validateInspectors refuses an inspector that is outside the trust
// domain, an IANT principal (node or person, so never one of Nodes) or
// listed twice.
func (c ServerConfig) validateInspectors() error {
	seen := map[string]bool{}
	for _, id := range c.Inspectors {
		switch _, err := identity.Parse(c.TrustDomain, id); {
		case !id.MemberOf(c.TrustDomain):
			return fmt.Errorf("%w: Inspectors: %q is not in trust domain %s", ErrInvalidConfig, id, c.TrustDomain)
		case err == nil:
			return fmt.Errorf("%w: Inspectors: %q is an IANT principal; an inspector must be outside the identity scheme", ErrInvalidConfig, id)
		case seen[id.String()]:
			return fmt.Errorf("%w: Inspectors: %q listed twice", ErrInvalidConfig, id)
		}
		seen[id.String()] = true
	}
	return nil
}

// validateCluster checks the Cluster section, if any.
func (c ServerConfig) validateCluster() error {
	cl := c.Cluster
	if cl == nil {
		return nil
	}
	if err := checkToken(cl.Name); err != nil {
		return fmt.Errorf("%w: Cluster.Name: %v", ErrInvalidConfig, err)
	}
	if cl.Port < -1 || cl.Port > 65535 {
		return fmt.Errorf("%w: Cluster.Port %d out of range (-1 to 65535)", ErrInvalidConfig, cl.Port)
	}
	if len(cl.Peers) == 0 {
		return fmt.Errorf("%w: Cluster.Peers is empty: no route could be authorized", ErrInvalidConfig)
	}
	for _, id := range cl.Peers {
		p, err := identity.Parse(c.TrustDomain, id)
		if err != nil {
			return fmt.Errorf("%w: Cluster.Peers: %w", ErrInvalidConfig, err)
		}
		if p.Role != identity.RoleSecretariatNode {
			return fmt.Errorf("%w: Cluster.Peers: %q is a %s, not a secretariat node", ErrInvalidConfig, id, p.Role)
		}
	}
	if _, err := routeURLs(cl.Routes); err != nil {
		return err
	}
	return nil
}

// routeURLs parses the cluster's route URLs.
func routeURLs(routes []string) ([]*url.URL, error) {
	return parseURLs("Cluster.Routes", "nats-route://host:6222", routes, nil)
}

// parseURLs parses server URLs, each with a host and a port and, when
// schemes is not nil, one of those schemes; an error wraps
// [ErrInvalidConfig] and names field and the example.
func parseURLs(field, example string, raw, schemes []string) ([]*url.URL, error) {
	us := make([]*url.URL, 0, len(raw))
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" || u.Port() == "" || (schemes != nil && !slices.Contains(schemes, u.Scheme)) {
			return nil, fmt.Errorf("%w: %s: %q is not a URL like %s", ErrInvalidConfig, field, r, example)
		}
		us = append(us, u)
	}
	return us, nil
}

// principals parses Nodes, refusing duplicates and non-node identities.
func (c ServerConfig) principals() (map[string]identity.Principal, error) {
	ps := make(map[string]identity.Principal, len(c.Nodes))
	for _, id := range c.Nodes {
		p, err := identity.Parse(c.TrustDomain, id)
		if err != nil {
			return nil, fmt.Errorf("%w: Nodes: %w", ErrInvalidConfig, err)
		}
		if p.Role != identity.RoleNode && p.Role != identity.RoleSecretariatNode {
			return nil, fmt.Errorf("%w: Nodes: %q is a %s, not a node", ErrInvalidConfig, id, p.Role)
		}
		if _, dup := ps[id.String()]; dup {
			return nil, fmt.Errorf("%w: Nodes: %q listed twice", ErrInvalidConfig, id)
		}
		ps[id.String()] = p
	}
	return ps, nil
}
