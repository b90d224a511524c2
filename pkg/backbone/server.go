package backbone

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
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

// Server is a running embedded backbone server.
type Server struct {
	ns   *server.Server
	opts *server.Options
	log  *slog.Logger
	cfg  ServerConfig

	access *access
	gov    governance // the secretariat's documents, when cfg.MembershipKey is set
	disk   diskGuard
	// peers is the number of cluster members, 0 alone.
	peers int
	// keeper is the quota keeper's in-process user, in every users config
	// (a reload keeps it); quota enforces the quotas through it.
	keeper keeperUser
	quota  *quotaKeeper

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
	s := &Server{log: log, cfg: cfg, access: newAccess(cfg.TrustDomain, log), keeper: newKeeperUser()}
	users, err := s.openGovernance()
	if err != nil {
		return nil, err
	}
	opts, err := cfg.options(users, s.watcherID(), s.keeper, s.access)
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("backbone: new server: %w", err)
	}
	s.disk = diskGuard{min: cmp.Or(cfg.MinFreeDisk, DefaultMinFreeDisk)}
	if cfg.Cluster != nil {
		s.peers = len(cfg.Cluster.Peers)
	}
	sl := &serverLogger{log: log, outOfSpace: &s.disk.writeFailed}
	ns.SetLoggerV2(sl, log.Enabled(ctx, slog.LevelDebug), false, false)
	ns.Start() // returns once the accept loop runs in the background
	s.ns, s.opts = ns, opts
	if err := s.waitReady(ctx, sl); err != nil {
		s.shutdown()
		return nil, fmt.Errorf("backbone: start server: %w", err)
	}
	if s.quota, err = startQuotaKeeper(ns, cfg.Quotas, s.keeper, log); err != nil {
		s.shutdown()
		return nil, fmt.Errorf("backbone: start server: %w", err)
	}
	s.watchDisk()
	log.Info("backbone server ready", "url", s.ClientURL(), "nodes", len(cfg.Nodes), "users", len(users))
	s.watchGovernance()
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

// options builds the nats-server options: users (the server's own
// watcher, when not zero, and the quota keeper's in-process user too) and
// their permissions as config text, then TLS (guarded by a), JetStream
// and the listener set in Go.
func (c ServerConfig) options(users []spiffeid.ID, watcher spiffeid.ID, keeper keeperUser, a *access) (*server.Options, error) {
	text, err := c.authConfig(users, watcher, keeper)
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
	opts.TLSConfig = a.guard(tlsconfig.MTLSServerConfig(c.SVID, c.Bundle, tlsconfig.AuthorizeMemberOf(c.TrustDomain)))
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
		opts.LeafNode.TLSConfig = a.guard(tlsconfig.MTLSServerConfig(c.SVID, c.Bundle, tlsconfig.AuthorizeMemberOf(c.TrustDomain)))
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
// subject DN, which SPIRE gives every SVID alike. The server's own
// watcher, unless zero or a node user already, gets a user that may only
// read the secretariat's documents; the quota keeper an in-process nkey
// user.
func (c ServerConfig) authConfig(ids []spiffeid.ID, watcher spiffeid.ID, keeper keeperUser) (string, error) {
	type perm struct {
		Allow []string `json:"allow"`
	}
	type perms struct {
		Publish   perm `json:"publish"`
		Subscribe perm `json:"subscribe"`
		Respond   bool `json:"allow_responses,omitempty"`
	}
	type user struct {
		User        string   `json:"user,omitempty"`
		Nkey        string   `json:"nkey,omitempty"`
		Permissions perms    `json:"permissions"`
		Types       []string `json:"allowed_connection_types,omitempty"`
	}
	users := make([]user, 0, len(ids)+len(c.Inspectors)+1)
	add := func(id spiffeid.ID, p permissions) {
		users = append(users, user{User: id.String(), Permissions: perms{
			Publish: perm{p.Publish}, Subscribe: perm{p.Subscribe}, Respond: p.Respond,
		}})
	}
	for _, id := range ids {
		pr, err := identity.Parse(c.TrustDomain, id)
		if err != nil || pr.Role != identity.RoleNode && pr.Role != identity.RoleSecretariatNode {
			return "", fmt.Errorf("%w: user %q is not a node", ErrInvalidConfig, id)
		}
		add(id, permissionsFor(pr))
	}
	for _, id := range c.Inspectors {
		add(id, inspectorPermissions())
	}
	if !watcher.IsZero() && !slices.Contains(ids, watcher) {
		add(watcher, watcherPermissions())
	}
	kp := keeperPermissions()
	users = append(users, user{Nkey: keeper.public(), Types: []string{"IN_PROCESS"},
		Permissions: perms{Publish: perm{kp.Publish}, Subscribe: perm{kp.Subscribe}, Respond: kp.Respond}})
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
		s.stopGovernance()
		if s.quota != nil {
			s.quota.close()
		}
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
