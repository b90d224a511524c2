package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/deploy/policies"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// Config is everything a node needs. Zero values mean the documented default.
type Config struct {
	// TrustDomain is the SPIFFE trust domain of the network. Required.
	TrustDomain spiffeid.TrustDomain
	// SVID is the node's own identity (file or Workload API source). Its
	// SPIFFE ID decides whose node this is: state/<CC>/node/<name> or
	// secretariat/node/<name>. Required.
	SVID x509svid.Source
	// Bundle holds the trust anchors of the trust domain. Required.
	Bundle x509bundle.Source
	// ListenAddr is the gRPC listen address; default "127.0.0.1:0" (a free
	// loopback port, see [Node.Addr]).
	ListenAddr string
	// DataDir holds the node's SQLite database. Required.
	DataDir string
	// BackboneURLs are the NATS URLs of the backbone (tls://host:port).
	// Required, unless Leaf is set: then it must be empty.
	BackboneURLs []string
	// BackboneReplicas is how many servers keep each stream and consumer
	// the secretariat node provisions: 0 means 1 (one embedded server);
	// 3 on a three-server cluster.
	BackboneReplicas int
	// Leaf, for a state node, runs it behind a NATS leaf node embedded in
	// the node's process (store and forward, see [backbone.LeafConfig]):
	// posting succeeds while the link to the backbone is cut, and the
	// copies are forwarded, in order, when it returns. Leaf.StoreDir
	// defaults to DataDir/leaf. Nil connects to BackboneURLs.
	Leaf *backbone.LeafConfig
	// ProvisionStates lists the states whose inboxes the secretariat node
	// provisions; default every member state. Ignored by state nodes.
	ProvisionStates []string
	// Directory lists the network's nodes for the directory call. It is
	// called on every call, so it can answer addresses known only once the
	// nodes listen (free ports); [StaticDirectory] lists fixed ones. Nil
	// lists no nodes.
	Directory func() []DirectoryEntry
	// Policy is the network policy engine deciding post, release, read and
	// forward; nil runs the reviewed default set embedded from
	// deploy/policies.
	Policy *policy.Engine
	// People holds attributes of this state's people that the policy reads
	// (e.g. law enforcement), keyed by SPIFFE ID; absent people have none.
	People map[string]policy.PersonAttrs
	// KeyRotation is how often a state node rotates its HPKE key; zero
	// never rotates on a schedule (see [Node.RotateKeys]).
	KeyRotation time.Duration
	// Audit configures the delivery audit: checkpoint and escalation
	// cadence, acknowledgement deadlines, the audit log's key.
	Audit AuditConfig
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DirectoryEntry is one node as the directory lists it.
type DirectoryEntry struct {
	ID      spiffeid.ID
	Address string
}

// StaticDirectory is a Config.Directory that always lists entries (e.g.
// from a configuration file).
func StaticDirectory(entries []DirectoryEntry) func() []DirectoryEntry {
	return func() []DirectoryEntry { return entries }
}

// Validate names the first missing or bad field.
func (c Config) Validate() error {
	switch {
	case c.TrustDomain.IsZero():
		return errors.New("node: config: TrustDomain is required")
	case c.SVID == nil:
		return errors.New("node: config: SVID is required")
	case c.Bundle == nil:
		return errors.New("node: config: Bundle is required")
	case c.DataDir == "":
		return errors.New("node: config: DataDir is required")
	case len(c.BackboneURLs) == 0 && c.Leaf == nil:
		return errors.New("node: config: BackboneURLs is required")
	}
	if err := c.validateLeaf(); err != nil {
		return err
	}
	for _, s := range c.ProvisionStates {
		if !region.IsMember(s) {
			return fmt.Errorf("node: config: ProvisionStates: unknown state code %q", s)
		}
	}
	return c.Audit.validate()
}

// Node is a running IANT node.
type Node struct {
	cfg    Config
	self   identity.Principal
	log    *slog.Logger
	now    func() time.Time
	store  *store.Store
	bb     *backbone.Client
	lis    net.Listener
	grpc   *grpc.Server
	health *health.Server
	hub    *hub
	policy *policy.Engine
	keys   *keyring // sealing keys; state nodes only
	dir    entries  // verified directory entries of other states
	// entryDeferred: the directory entry could not be published at start
	// (behind a leaf node whose link was cut); it is published later.
	entryDeferred bool
	audit         auditState

	// closing is closed by Close so that open subscriptions end and the
	// gRPC server can stop gracefully.
	closing   chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start opens the store, connects to the backbone, provisions it (at the
// secretariat), listens and serves until Close. It returns once the node
// serves.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	svid, err := cfg.SVID.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("node: get own SVID: %w", err)
	}
	self, err := identity.Parse(cfg.TrustDomain, svid.ID)
	if err != nil {
		return nil, fmt.Errorf("node: own identity: %w", err)
	}
	if self.Role != identity.RoleNode && self.Role != identity.RoleSecretariatNode {
		return nil, fmt.Errorf("node: own identity %s is a %s, not a node", svid.ID, self.Role)
	}
	n := &Node{cfg: cfg, self: self, log: cfg.Logger, now: cfg.Now, hub: newHub(), closing: make(chan struct{})}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n.log = n.log.With("node", self.String())
	if n.now == nil {
		n.now = time.Now
	}
	if n.policy = cfg.Policy; n.policy == nil {
		set, err := policy.Parse(policies.Network, policies.Schema)
		if err != nil {
			return nil, fmt.Errorf("node: embedded policy set: %w", err)
		}
		n.policy = policy.NewEngine(set)
	}
	if err := n.open(ctx); err != nil {
		n.release()
		return nil, err
	}
	n.serve()
	n.log.Info("node serving", "addr", n.lis.Addr().String())
	return n, nil
}

// open acquires the node's resources in order; release frees them.
func (n *Node) open(ctx context.Context) error {
	if err := os.MkdirAll(n.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("node: data dir: %w", err)
	}
	dbPath := filepath.Join(n.cfg.DataDir, "node.db")
	if err := n.markRebuild(dbPath); err != nil {
		return err
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.store = st
	bb, err := backbone.Connect(ctx, n.backboneConfig())
	if err != nil {
		return fmt.Errorf("node: connect backbone: %w", err)
	}
	n.bb = bb
	if err := n.openAudit(ctx); err != nil {
		return err
	}
	if n.self.Role == identity.RoleNode {
		if n.keys, err = loadKeys(n.cfg.DataDir, n.self.State); err != nil {
			return fmt.Errorf("node: %w", err)
		}
		if err := n.publishEntry(ctx); err != nil && !n.deferEntry(err) {
			return fmt.Errorf("node: publish directory entry: %w", err)
		}
	}
	if n.self.Role == identity.RoleSecretariatNode {
		states := n.cfg.ProvisionStates
		if len(states) == 0 {
			states = region.Codes()
		}
		if err := bb.Provision(ctx, states); err != nil {
			return fmt.Errorf("node: provision backbone: %w", err)
		}
	}
	addr := n.cfg.ListenAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("node: listen: %w", err)
	}
	n.lis = lis
	return nil
}

func (n *Node) serve() {
	n.grpc = grpc.NewServer(
		grpc.Creds(identity.ServerCredentials(n.cfg.SVID, n.cfg.Bundle, n.cfg.TrustDomain)),
		grpc.ChainUnaryInterceptor(n.unaryAuth),
		grpc.ChainStreamInterceptor(n.streamAuth),
		grpc.MaxRecvMsgSize(2<<20),
	)
	iantv1.RegisterBulletinServiceServer(n.grpc, &bulletinService{n: n})
	iantv1.RegisterDirectoryServiceServer(n.grpc, &directoryService{n: n})
	n.registerAudit()
	n.health = health.NewServer()
	healthpb.RegisterHealthServer(n.grpc, n.health)
	reflection.Register(n.grpc)

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.runAudit(ctx)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.log.Error("grpc serve", "err", err)
		}
	}()
	if n.self.Role == identity.RoleNode {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.rebuild(ctx) // a new store first takes back what was received
			if err := n.bb.ConsumeInbox(ctx, n.receive); err != nil {
				n.log.Error("inbox consumer stopped", "err", err)
			}
		}()
		n.publishDeferredEntry(ctx)
		if n.cfg.KeyRotation > 0 {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				n.rotateEvery(ctx, n.cfg.KeyRotation)
			}()
		}
	}
}

// rotateEvery rotates the node's KEM key every d until ctx ends.
func (n *Node) rotateEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.RotateKeys(ctx); err != nil {
				n.log.Error("scheduled key rotation failed", "err", err)
			}
		}
	}
}

// Addr returns the address the node serves on.
func (n *Node) Addr() string { return n.lis.Addr().String() }

// Principal returns the node's own identity.
func (n *Node) Principal() identity.Principal { return n.self }

// Close stops serving, ends open subscriptions, stops the inbox consumer
// and closes the backbone connection and the store. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.log.Info("node stopping")
		close(n.closing)
		if n.health != nil {
			n.health.Shutdown()
		}
		if n.grpc != nil {
			stopped := make(chan struct{})
			go func() { n.grpc.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				n.grpc.Stop()
				<-stopped
			}
		}
		if n.cancel != nil {
			n.cancel()
		}
		n.wg.Wait()
		n.closeErr = n.release()
	})
	return n.closeErr
}

func (n *Node) release() error {
	var errs []error
	if n.lis != nil && n.grpc == nil {
		errs = append(errs, n.lis.Close())
	}
	if n.bb != nil {
		errs = append(errs, n.bb.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	errs = append(errs, n.closeAudit())
	return errors.Join(errs...)
}
