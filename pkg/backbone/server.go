package backbone

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// Defaults of [ServerConfig].
const (
	DefaultHost      = "127.0.0.1"
	DefaultPort      = 4222
	DefaultRoutePort = 6222
	DefaultLeafPort  = 7422
)

// HubDomain is the JetStream domain of the backbone's servers. A node
// behind a leaf node reaches the backbone's JetStream as this domain, since
// its leaf runs a JetStream of its own.
const HubDomain = "hub"

// defaultStartTimeout bounds [StartServer] when ctx has no deadline.
const defaultStartTimeout = 10 * time.Second

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
	// Name is the server's name, unique within a cluster; "" means
	// "iant-backbone".
	Name string
	// Cluster makes the server one member of a JetStream cluster; nil runs
	// it alone.
	Cluster *ClusterConfig
	// LeafNodes opens a port that state leaf nodes connect to; nil opens
	// none.
	LeafNodes *ListenConfig
	// MinFreeDisk is the free space, in bytes, the server keeps on the
	// filesystem of StoreDir: below it JetStream refuses new messages
	// until space returns (see disk.go). 0 means [DefaultMinFreeDisk].
	MinFreeDisk uint64
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
	if err := c.validateCluster(); err != nil {
		return err
	}
	if l := c.LeafNodes; l != nil && (l.Port < -1 || l.Port > 65535) {
		return fmt.Errorf("%w: LeafNodes.Port %d out of range (-1 to 65535)", ErrInvalidConfig, l.Port)
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

// Server is a running embedded backbone server.
type Server struct {
	ns   *server.Server
	opts *server.Options
	log  *slog.Logger
	disk diskGuard
	// peers is the number of cluster members, 0 alone.
	peers int

	closeOnce sync.Once
}

// StartServer validates cfg, starts the server and blocks until it accepts
// connections with JetStream enabled, ctx ends or start-up fails. Errors
// wrap [ErrInvalidConfig] for a bad cfg.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = discard
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("backbone: new server: %w", err)
	}
	s := &Server{ns: ns, opts: opts, log: log, disk: diskGuard{min: cmp.Or(cfg.MinFreeDisk, DefaultMinFreeDisk)}}
	if cfg.Cluster != nil {
		s.peers = len(cfg.Cluster.Peers)
	}
	sl := &serverLogger{log: log, outOfSpace: &s.disk.writeFailed}
	ns.SetLoggerV2(sl, log.Enabled(ctx, slog.LevelDebug), false, false)
	ns.Start() // returns once the accept loop runs in the background
	if err := s.waitReady(ctx, sl); err != nil {
		s.shutdown()
		return nil, fmt.Errorf("backbone: start server: %w", err)
	}
	s.watchDisk()
	log.Info("backbone server ready", "url", s.ClientURL(), "nodes", len(cfg.Nodes))
	return s, nil
}

// waitReady polls until the server listens with JetStream on, a fatal
// error is logged, or ctx (or the default timeout) ends.
func (s *Server) waitReady(ctx context.Context, sl *serverLogger) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	for {
		if err := sl.fatalErr(); err != nil {
			return err
		}
		if s.ns.ReadyForConnections(25 * time.Millisecond) {
			if !s.ns.JetStreamEnabled() {
				return errors.New("jetstream not enabled")
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("not ready: %w", err)
		}
	}
}

// options builds the nats-server options: users and permissions as config
// text, then TLS, JetStream and the listener set in Go.
func (c ServerConfig) options() (*server.Options, error) {
	text, err := c.authConfig()
	if err != nil {
		return nil, err
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigString(text); err != nil {
		return nil, fmt.Errorf("backbone: users config: %w", err)
	}
	opts.ServerName = c.Name
	if opts.ServerName == "" {
		opts.ServerName = "iant-backbone"
	}
	opts.Host, opts.Port = c.Host, c.Port
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	opts.NoSigs = true // the embedding process owns its signals
	// A silent peer (a route, a leaf node or a client behind a cut link)
	// is found dead after three unanswered pings, under a minute, not
	// the default's four to six minutes of two-minute pings (tests/wan).
	opts.PingInterval, opts.MaxPingsOut = serverPingInterval, 3
	opts.MaxPayload = MaxMsgSize
	opts.DisableJetStreamBanner = true

	// Clients must present an SVID of the trust domain (checked in the
	// handshake by go-spiffe), and the URI SAN of that SVID names the NATS
	// user (TLSMap); a member of the trust domain that is not a node maps to
	// no user and gets an authorization violation.
	opts.TLSConfig = tlsconfig.MTLSServerConfig(c.SVID, c.Bundle, tlsconfig.AuthorizeMemberOf(c.TrustDomain))
	opts.TLSMap = true

	opts.JetStream = true
	opts.StoreDir = c.StoreDir
	opts.JetStreamMaxStore = storeLimit(c.StoreDir)
	// sync_interval: always. A publish acknowledgement is our commit point,
	// so the server must have fsynced the message before it acks. The
	// default syncs about every two minutes, and the 2025 Jepsen analysis
	// of NATS 2.12.1 lost acknowledged writes that way (facts.md §3).
	opts.SyncAlways = true
	opts.JetStreamDomain = HubDomain
	if err := c.clusterOptions(opts); err != nil {
		return nil, err
	}
	if l := c.LeafNodes; l != nil {
		opts.LeafNode.Host, opts.LeafNode.Port = l.Host, l.Port
		if opts.LeafNode.Host == "" {
			opts.LeafNode.Host = DefaultHost
		}
		if opts.LeafNode.Port == 0 {
			opts.LeafNode.Port = DefaultLeafPort
		}
		// A leaf node connects with its state node's SVID, which maps to
		// that node's user (the leafnodes block has no users of its own,
		// so the account's users apply): its permissions are read from the
		// leaf's side, publish being what it may send into the backbone
		// and subscribe what the backbone forwards to it (facts.md §1.3).
		opts.LeafNode.TLSConfig = tlsconfig.MTLSServerConfig(c.SVID, c.Bundle, tlsconfig.AuthorizeMemberOf(c.TrustDomain))
		opts.LeafNode.TLSMap = true
		opts.LeafNode.NoAdvertise = l.NoAdvertise
	}
	return opts, nil
}

// clusterOptions sets the route listener and routes of a cluster member.
// Routes use one TLS config that both accepts and dials, so it carries
// both certificate callbacks, and the peer is checked against
// Cluster.Peers in the handshake by go-spiffe: a server with a valid SVID
// that is not a listed peer gets no route.
func (c ServerConfig) clusterOptions(opts *server.Options) error {
	cl := c.Cluster
	if cl == nil {
		return nil
	}
	routes, err := routeURLs(cl.Routes)
	if err != nil {
		return err
	}
	opts.Cluster.Name = cl.Name
	opts.Cluster.Host, opts.Cluster.Port = cl.Host, cl.Port
	if opts.Cluster.Host == "" {
		opts.Cluster.Host = DefaultHost
	}
	if opts.Cluster.Port == 0 {
		opts.Cluster.Port = DefaultRoutePort
	}
	opts.Cluster.TLSConfig = &tls.Config{
		MinVersion:           tls.VersionTLS12,
		ClientAuth:           tls.RequireAnyClientCert,
		GetCertificate:       tlsconfig.GetCertificate(c.SVID),
		GetClientCertificate: tlsconfig.GetClientCertificate(c.SVID),
		// The standard verification is replaced by the SPIFFE one below,
		// which checks the chain against the bundle and the peer's ID.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: tlsconfig.VerifyPeerCertificate(c.Bundle, tlsconfig.AuthorizeOneOf(cl.Peers...)),
	}
	opts.Cluster.TLSTimeout = 2
	opts.Routes = routes
	return nil
}

// authConfig renders the node users and their permissions as nats-server
// config text (JSON is valid config syntax and quotes every SPIFFE ID and
// "$JS..." subject safely). Users are named by the full SPIFFE URI of their
// certificate, the only name verify_and_map can match safely: never by
// subject DN, which SPIRE gives every SVID alike.
func (c ServerConfig) authConfig() (string, error) {
	ps, err := c.principals()
	if err != nil {
		return "", err
	}
	type perm struct {
		Allow []string `json:"allow"`
	}
	type perms struct {
		Publish   perm `json:"publish"`
		Subscribe perm `json:"subscribe"`
		Respond   bool `json:"allow_responses,omitempty"`
	}
	type user struct {
		User        string `json:"user"`
		Permissions perms  `json:"permissions"`
	}
	users := make([]user, 0, len(ps))
	for _, id := range c.Nodes {
		p := permissionsFor(ps[id.String()])
		users = append(users, user{User: id.String(), Permissions: perms{
			Publish: perm{p.Publish}, Subscribe: perm{p.Subscribe}, Respond: p.Respond,
		}})
	}
	conf := map[string]any{
		"accounts": map[string]any{
			account: map[string]any{"jetstream": "enabled", "users": users},
		},
	}
	// No HTML escaping: the config parser knows no \u escapes, and ">"
	// must stay itself.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(conf); err != nil {
		return "", fmt.Errorf("backbone: users config: %w", err)
	}
	return b.String(), nil
}

// RouteURL returns the URL other cluster members route to, e.g.
// "nats-route://127.0.0.1:6222", or "" when the server is not clustered.
func (s *Server) RouteURL() string {
	addr := s.ns.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats-route://" + addr.String()
}

// LeafURL returns the URL leaf nodes connect to, e.g.
// "tls://127.0.0.1:7422", or "" when the server has no leaf node port.
func (s *Server) LeafURL() string {
	// The server writes the real port back into its options once the
	// listener is up (before it is ready for connections).
	if s.opts.LeafNode.Port == 0 {
		return ""
	}
	return fmt.Sprintf("tls://%s:%d", s.opts.LeafNode.Host, s.opts.LeafNode.Port)
}

// NumRoutes returns the number of cluster members this server has a route
// to.
func (s *Server) NumRoutes() int { return s.ns.NumRoutes() }

// JetStreamReady reports whether the server's JetStream is current: alone
// always once started; in a cluster, once a meta leader is known and this
// server has caught up with it.
func (s *Server) JetStreamReady() bool { return s.ns.JetStreamIsCurrent() }

// ClientURL returns the URL clients connect to, e.g. "tls://127.0.0.1:4222",
// with the real port when the config asked for a random one.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Close shuts the server down and waits until it has stopped. It is
// idempotent and always returns nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.shutdown()
		s.log.Info("backbone server stopped")
	})
	return nil
}

func (s *Server) shutdown() {
	s.stopDiskWatch()
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
