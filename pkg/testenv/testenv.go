// Package testenv builds a whole IANT network in one process from a
// declarative setup: a development PKI, the embedded backbone, the
// secretariat node and one node per state, all on loopback. `iant demo`
// and the end-to-end tests run the same code.
//
//	nw, err := testenv.Start(ctx, testenv.Options{Dir: dir, States: []string{"AR", "MX", "US"}})
//	defer nw.Close()
//	conn, me, err := client.Dial(ctx, nw.Context(testenv.FocalPoint("MX")))
//
// # Concurrency
//
// A Network's methods may be called from several goroutines; StopNode and
// StartNode of one state must not race each other.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/dirlock"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv/linkcut"
)

// Options describe the network. Zero values mean the documented default.
type Options struct {
	// Dir holds the PKI (Dir/pki), the data (Dir/data) and the context
	// files (Dir/contexts). Required. An existing Dir is reused: its PKI
	// and data are kept. The network holds Dir's lock (see [dirlock])
	// until Close, so a second network on the same Dir is refused.
	Dir string
	// TrustDomain defaults to "iant.test".
	TrustDomain string
	// States defaults to every member state (region.Codes).
	States []string
	// BasePort, when non-zero, fixes the ports: the backbone listens on
	// BasePort, the secretariat node on BasePort+1 and the states' nodes on
	// the ports after it, in the order of States. Zero picks free ports.
	BasePort int
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
	// BackboneURLs, when set, name an external backbone (e.g. the cluster
	// of deploy/nats) instead of the embedded server: its users must be
	// the nodes of States and the secretariat, with certificates of the
	// PKI in PKIDir.
	BackboneURLs []string
	// BackboneReplicas is the replica count the secretariat provisions
	// with: 0 means 1; use 3 on a three-server cluster.
	BackboneReplicas int
	// PKIDir, when set, is an existing development PKI (made by "iant certs
	// init") to use instead of Dir/pki: the one an external backbone
	// trusts.
	PKIDir string
	// Retention is how long the backbone keeps what the secretariat
	// provisions; the state nodes are given the same inbox retention.
	// Zero fields mean the defaults.
	Retention backbone.Retention
	// Quotas bound what each state may put on the embedded backbone
	// (backbone.ServerConfig.Quotas); zero fields mean the defaults.
	Quotas backbone.QuotaConfig
	// Audit configures the delivery audit (e.g. short deadlines and
	// intervals in tests); state nodes check checkpoints at the same
	// interval, with the secretariat's verifier key.
	Audit secretariat.AuditConfig
	// NodeConfig, when set, adjusts the configuration of state cc's node
	// before it starts (e.g. a short PostWait or a small
	// MaxPendingCopies in a test).
	NodeConfig func(cc string, c *statenode.Config)
	// TAXII runs a TAXII 2.1 server at every state node (see
	// [Network.TAXIIURL]), on the ports after the nodes' when BasePort is
	// set.
	TAXII bool
	// Inspectors, for tests only, lets these identities outside IANT's
	// scheme read single stored copies of the embedded backbone's inbox
	// stream (see [backbone.ServerConfig.Inspectors]); no node, the
	// secretariat's included, may. `iant demo` sets none.
	Inspectors []spiffeid.ID
	// SVIDValidity is how long the SVIDs of a new PKI are valid; zero
	// means devpki.DefaultSVIDValidity (a day). Tests that move a node's
	// clock weeks ahead need longer.
	SVIDValidity time.Duration
	// Joining lists states that are not members at the network's start
	// (the genesis of the membership table is States) but may join it:
	// the PKI holds their nodes and people, and once the secretariat has
	// added one ([Network.Admin] calls AdminService.ChangeMembership), the
	// test starts its node with [Network.StartNode].
	Joining []string
	// LeafStates lists states (of States) whose nodes run behind their
	// own leaf node (store and forward). Each leaf's link to the
	// backbone's leaf node port passes a proxy that [Network.CutLink] and
	// [Network.RestoreLink] cut and restore, standing for the network.
	LeafStates []string
	// Idle lists states (of States) whose nodes do not start with the
	// network: their SVIDs and backbone users exist, nothing is published
	// in their name (no directory entry) until a test does, or
	// [Network.StartNode] starts them.
	Idle []string
	// SecretariatConfig, when set, adjusts the secretariat node's
	// configuration before it starts (at every start).
	SecretariatConfig func(c *secretariat.Config)
	// MetricsAddr, when set, serves the network's metrics (every node's
	// and the embedded backbone's, see [Network.Registry]) at
	// http://MetricsAddr/metrics; port 0 picks a free port
	// ([Network.MetricsURL]).
	MetricsAddr string
	// MinFreeDisk is the free disk space every node and the embedded
	// backbone keep (statenode.HealthConfig.MinFreeDisk); 0 means their
	// default.
	MinFreeDisk uint64
}

// Network is a running network.
type Network struct {
	opts        Options
	TD          spiffeid.TrustDomain
	PKI         *devpki.Layout
	Backbone    *backbone.Server // the embedded server; nil on an external backbone
	Secretariat *secretariat.Node

	bbCfg backbone.ServerConfig // the embedded server's, for StartBackbone
	// membershipKey is the secretariat's membership verifier key, made
	// before anything starts: the backbone and every state node are
	// configured with it.
	membershipKey string

	lock *dirlock.DirLock // on opts.Dir

	mu    sync.Mutex
	nodes map[string]*statenode.Node
	// addrs holds each node's address once it listens, keyed by state
	// ("" for the secretariat); a restarted node listens there again.
	addrs map[string]string
	taxii map[string]string         // TAXII listen addresses of the state nodes
	links map[string]*linkcut.Proxy // leaf states' links to the backbone
	met   metricsState
}

// FocalPoint, Analyst and Auditor name the demo people of the development
// PKI.
func FocalPoint(cc string) identity.Principal {
	return identity.Principal{State: cc, Role: identity.RoleFocalPoint, Name: devpki.FocalPointName}
}

// Analyst names the development PKI's analyst of state cc.
func Analyst(cc string) identity.Principal {
	return identity.Principal{State: cc, Role: identity.RoleAnalyst, Name: devpki.AnalystName}
}

// Auditor names the development PKI's secretariat auditor.
func Auditor() identity.Principal {
	return identity.Principal{Role: identity.RoleAuditor, Name: devpki.AuditorName}
}

// NodePrincipal names the node of state cc ("" for the secretariat).
func NodePrincipal(cc string) identity.Principal {
	if cc == "" {
		return identity.Principal{Role: identity.RoleSecretariatNode, Name: devpki.NodeName}
	}
	return identity.Principal{State: cc, Role: identity.RoleNode, Name: devpki.NodeName}
}

// Start builds the PKI if needed and starts the backbone and every node.
func Start(ctx context.Context, opts Options) (*Network, error) {
	if opts.Dir == "" {
		return nil, errors.New("testenv: Dir is required")
	}
	if opts.TrustDomain == "" {
		opts.TrustDomain = "iant.test"
	}
	if len(opts.States) == 0 {
		opts.States = region.Codes()
	}
	for _, s := range append(slices.Clone(opts.States), opts.Joining...) {
		if !region.IsMember(s) {
			return nil, fmt.Errorf("testenv: unknown state code %q", s)
		}
	}
	for _, s := range opts.Joining {
		if slices.Contains(opts.States, s) {
			return nil, fmt.Errorf("testenv: Joining: %s is one of States, a member from the start", s)
		}
	}
	for _, s := range append(slices.Clone(opts.LeafStates), opts.Idle...) {
		if !slices.Contains(opts.States, s) {
			return nil, fmt.Errorf("testenv: LeafStates, Idle: %q is not one of the network's states", s)
		}
	}
	td, err := spiffeid.TrustDomainFromString(opts.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("testenv: trust domain: %w", err)
	}
	lock, err := dirlock.Lock(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	nw := &Network{opts: opts, TD: td, lock: lock, nodes: map[string]*statenode.Node{}, addrs: map[string]string{}, taxii: map[string]string{}, links: map[string]*linkcut.Proxy{}}
	if nw.PKI, err = loadOrInitPKI(ctx, opts); err != nil {
		lock.Unlock()
		return nil, err
	}
	if err := nw.serveMetrics(opts.MetricsAddr); err != nil {
		lock.Unlock()
		return nil, err
	}
	if err := nw.start(ctx); err != nil {
		nw.Close()
		return nil, err
	}
	return nw, nil
}

func loadOrInitPKI(ctx context.Context, opts Options) (*devpki.Layout, error) {
	dir := filepath.Join(opts.Dir, "pki")
	if opts.PKIDir != "" {
		dir = opts.PKIDir
	}
	if _, err := os.Stat(filepath.Join(dir, "pki.json")); err == nil || opts.PKIDir != "" {
		l, err := devpki.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("testenv: %w", err)
		}
		for _, s := range append(slices.Clone(opts.States), opts.Joining...) {
			if _, ok := l.Find(NodePrincipal(s)); !ok {
				return nil, fmt.Errorf("testenv: the PKI in %s has no node for %s; remove the directory or choose its states", dir, s)
			}
		}
		return l, nil
	}
	l, err := devpki.Init(ctx, devpki.Options{Dir: dir, TrustDomain: opts.TrustDomain, States: append(slices.Clone(opts.States), opts.Joining...),
		SVIDValidity: opts.SVIDValidity})
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return l, nil
}

// listenAddr is where the node of state cc ("" for the secretariat)
// listens: its previous address, else its port after BasePort, else a
// free port.
func (nw *Network) listenAddr(cc string) string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if a, ok := nw.addrs[cc]; ok {
		return a
	}
	i := 1
	if cc != "" {
		i = 2 + slices.Index(nw.allStates(), cc)
	}
	return nw.portAddr(i)
}

// taxiiAddr is where state cc's node serves TAXII: its previous address,
// else its port after the nodes' ports, else a free port; "" when the
// network runs no TAXII servers.
func (nw *Network) taxiiAddr(cc string) string {
	if !nw.opts.TAXII {
		return ""
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if a, ok := nw.taxii[cc]; ok {
		return a
	}
	return nw.portAddr(2 + len(nw.allStates()) + slices.Index(nw.allStates(), cc))
}

// portAddr is the loopback address of port BasePort+i, or a free port
// when BasePort is 0.
func (nw *Network) portAddr(i int) string {
	if nw.opts.BasePort == 0 {
		// A node stopped and started again keeps its address.
		if p, err := quietPort(); err == nil {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		}
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(nw.opts.BasePort+i))
}

// listening records the address a node listens on, and state cc's node
// n (nil for the secretariat's).
func (nw *Network) listening(cc, addr string, n *statenode.Node) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.addrs[cc] = addr
	if n != nil {
		nw.nodes[cc] = n
		if a := n.TAXIIAddr(); a != "" {
			nw.taxii[cc] = a
		}
	}
}

func (nw *Network) source(p identity.Principal) (*identity.FileSource, error) {
	e, ok := nw.PKI.Find(p)
	if !ok {
		return nil, fmt.Errorf("testenv: no SVID for %s in the PKI", p)
	}
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return src, nil
}

func (nw *Network) start(ctx context.Context) error {
	sec, err := nw.source(NodePrincipal(""))
	if err != nil {
		return err
	}
	// The secretariat's membership key is made (or read) first, as an
	// operator makes it before configuring anything with it.
	if _, nw.membershipKey, err = membership.LoadOrCreateKey(nw.secretariatDir(), nw.TD.Name()); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	ids := []spiffeid.ID{NodePrincipal("").ID(nw.TD)}
	for _, s := range nw.opts.States {
		ids = append(ids, NodePrincipal(s).ID(nw.TD))
	}
	if len(nw.opts.BackboneURLs) == 0 {
		// Tests stop the backbone and start it again on the same ports.
		port := nw.opts.BasePort
		if port == 0 {
			if port, err = quietPort(); err != nil {
				return err
			}
		}
		var leafPort *backbone.ListenConfig
		if len(nw.opts.LeafStates) > 0 {
			// Leaf nodes come only through their links, which tests cut.
			lp, err := quietPort()
			if err != nil {
				return err
			}
			leafPort = &backbone.ListenConfig{Port: lp, NoAdvertise: true}
		}
		nw.bbCfg = backbone.ServerConfig{
			Port: port, StoreDir: filepath.Join(nw.opts.Dir, "data", "backbone"), TrustDomain: nw.TD,
			SVID: sec, Bundle: sec, Nodes: ids, Inspectors: nw.opts.Inspectors, LeafNodes: leafPort, Logger: nw.logger("backbone"),
			MembershipKey: nw.membershipKey, MinFreeDisk: nw.minFreeDisk(), Quotas: nw.opts.Quotas,
		}
		nw.Backbone, err = backbone.StartServer(ctx, nw.bbCfg)
		for try := 0; err != nil && addrInUse(err) && nw.opts.BasePort == 0 && try < 5; try++ {
			if err = nw.repickBackbonePorts(); err != nil {
				return err
			}
			nw.Backbone, err = backbone.StartServer(ctx, nw.bbCfg)
		}
		if err != nil {
			return fmt.Errorf("testenv: %w", err)
		}
		if err := nw.registerBackbone(nw.Backbone); err != nil {
			return err
		}
	}
	nw.Secretariat, err = secretariat.Start(ctx, nw.secretariatConfig(sec))
	for try := 0; err != nil && addrInUse(err) && nw.opts.BasePort == 0 && try < 5; try++ {
		nw.Secretariat, err = secretariat.Start(ctx, nw.secretariatConfig(sec))
	}
	if err != nil {
		return fmt.Errorf("testenv: secretariat: %w", err)
	}
	nw.listening("", nw.Secretariat.Addr(), nil)
	for _, s := range nw.opts.States {
		if slices.Contains(nw.opts.Idle, s) {
			continue
		}
		if err := nw.StartNode(ctx, s); err != nil {
			return err
		}
	}
	return nw.writeContexts()
}

func (nw *Network) logger(component string) *slog.Logger {
	if nw.opts.Logger == nil {
		return nil
	}
	return nw.opts.Logger.With("component", component)
}

// directory lists every node of the network that has listened, with the
// address it listens on: every node's directory call asks it afresh, so
// free ports (BasePort 0) are listed as they are, never as port 0.
func (nw *Network) directory() []nodeserver.DirectoryEntry {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []nodeserver.DirectoryEntry
	for _, s := range append([]string{""}, nw.allStates()...) {
		if a, ok := nw.addrs[s]; ok {
			out = append(out, nodeserver.DirectoryEntry{ID: NodePrincipal(s).ID(nw.TD), Address: a})
		}
	}
	return out
}

// StartNode (re)starts the node of state cc on its previous address, with
// its previous data.
func (nw *Network) StartNode(ctx context.Context, cc string) error {
	if !slices.Contains(nw.allStates(), cc) {
		return fmt.Errorf("testenv: %s is not in this network", cc)
	}
	src, err := nw.source(NodePrincipal(cc))
	if err != nil {
		return err
	}
	cfg := statenode.Config{
		TrustDomain: nw.TD, SVID: src, Bundle: src, ListenAddr: nw.listenAddr(cc),
		DataDir: filepath.Join(nw.opts.Dir, "data", strings.ToLower(cc)), BackboneURLs: nw.BackboneURLs(),
		Directory: nw.directory, Logger: nw.logger(strings.ToLower(cc)), Audit: nw.stateAudit(),
		TAXII: statenode.TAXIIConfig{ListenAddr: nw.taxiiAddr(cc)}, InboxRetention: nw.opts.Retention.Inbox,
		MembershipKey: nw.membershipKey, Metrics: nw.met.reg,
		Health: statenode.HealthConfig{MinFreeDisk: nw.opts.MinFreeDisk},
	}
	if slices.Contains(nw.opts.LeafStates, cc) {
		link, err := nw.link(cc)
		if err != nil {
			return err
		}
		cfg.BackboneURLs = nil
		cfg.Leaf = &backbone.LeafConfig{HubURLs: []string{link.URL()}}
	}
	if nw.opts.NodeConfig != nil {
		nw.opts.NodeConfig(cc, &cfg)
	}
	n, err := statenode.Start(ctx, cfg)
	// A free port picked for a first start can be taken by another test
	// before the node binds it: pick again. A node's earlier address is
	// kept (clients know it).
	for try := 0; err != nil && addrInUse(err) && !nw.hasAddr(cc) && try < 5; try++ {
		cfg.ListenAddr, cfg.TAXII.ListenAddr = nw.listenAddr(cc), nw.taxiiAddr(cc)
		n, err = statenode.Start(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("testenv: node %s: %w", cc, err)
	}
	nw.listening(cc, n.Addr(), n)
	if slices.Contains(nw.opts.Joining, cc) {
		return nw.writeContexts() // its people's contexts name its address now
	}
	return nil
}

func (nw *Network) secretariatConfig(svid *identity.FileSource) secretariat.Config {
	c := secretariat.Config{
		TrustDomain: nw.TD, SVID: svid, Bundle: svid, ListenAddr: nw.listenAddr(""),
		DataDir: nw.secretariatDir(), BackboneURLs: nw.BackboneURLs(),
		BackboneReplicas: nw.opts.BackboneReplicas, ProvisionStates: nw.opts.States, Directory: nw.directory,
		Logger: nw.logger("secretariat"), Audit: nw.opts.Audit, Retention: nw.opts.Retention, Metrics: nw.met.reg,
		Health: secretariat.HealthConfig{MinFreeDisk: nw.opts.MinFreeDisk},
	}
	if nw.opts.SecretariatConfig != nil {
		nw.opts.SecretariatConfig(&c)
	}
	return c
}

// stateAudit is the audit configuration of a state node.
func (nw *Network) stateAudit() statenode.AuditConfig {
	return statenode.AuditConfig{
		CheckpointInterval: nw.opts.Audit.CheckpointInterval,
		VerifierKey:        nw.Secretariat.AuditVerifierKey(),
	}
}

// BackboneURLs returns the URLs the nodes connect to: the external
// backbone's, or the embedded server's.
func (nw *Network) BackboneURLs() []string {
	if len(nw.opts.BackboneURLs) > 0 {
		return nw.opts.BackboneURLs
	}
	return []string{nw.Backbone.ClientURL()}
}

// StopSecretariat stops the secretariat node; its data stays, and
// nw.Secretariat keeps answering Addr until StartSecretariat replaces it.
func (nw *Network) StopSecretariat() error { return nw.Secretariat.Close() }

// StartSecretariat restarts the secretariat node stopped by StopSecretariat
// on its previous address, with its previous data. It must not race other
// uses of nw.Secretariat.
func (nw *Network) StartSecretariat(ctx context.Context) error {
	sec, err := nw.source(NodePrincipal(""))
	if err != nil {
		return err
	}
	n, err := secretariat.Start(ctx, nw.secretariatConfig(sec))
	if err != nil {
		return fmt.Errorf("testenv: secretariat: %w", err)
	}
	nw.Secretariat = n
	return nil
}

// StopNode stops the node of state cc; its data stays.
func (nw *Network) StopNode(cc string) error {
	nw.mu.Lock()
	n := nw.nodes[cc]
	delete(nw.nodes, cc)
	nw.mu.Unlock()
	if n == nil {
		return fmt.Errorf("testenv: node %s is not running", cc)
	}
	return n.Close()
}

// Node returns the running node of state cc, or nil.
func (nw *Network) Node(cc string) *statenode.Node {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.nodes[cc]
}

// TAXIIURL returns the discovery URL of the TAXII server of state cc's
// node (https://ADDR/taxii2/), or "" when the network runs none.
func (nw *Network) TAXIIURL(cc string) string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if a := nw.taxii[cc]; a != "" && !strings.HasSuffix(a, ":0") {
		return "https://" + a + "/taxii2/"
	}
	return ""
}

// States lists the network's states.
func (nw *Network) States() []string { return slices.Clone(nw.opts.States) }

// Close stops every node, then the backbone.
func (nw *Network) Close() error {
	var errs []error
	nw.mu.Lock()
	nodes := nw.nodes
	nw.nodes = map[string]*statenode.Node{}
	nw.mu.Unlock()
	for _, n := range nodes {
		errs = append(errs, n.Close())
	}
	if nw.Secretariat != nil {
		errs = append(errs, nw.Secretariat.Close())
	}
	for _, l := range nw.links {
		errs = append(errs, l.Close())
	}
	if nw.Backbone != nil {
		errs = append(errs, nw.Backbone.Close())
	}
	errs = append(errs, nw.closeMetrics(), nw.lock.Unlock())
	return errors.Join(errs...)
}
