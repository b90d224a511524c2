package statenode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/deploy/policies"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/store"
)

// Config is everything a member state's node needs. Zero values mean the
// documented default.
type Config struct {
	// TrustDomain is the SPIFFE trust domain of the network. Required.
	TrustDomain spiffeid.TrustDomain
	// SVID is the node's own identity (file or Workload API source): its
	// SPIFFE ID must be state/<CC>/node/<name>, and decides whose node
	// this is. Required.
	SVID x509svid.Source
	// Bundle holds the trust anchors of the trust domain. Required.
	Bundle x509bundle.Source
	// ListenAddr is the gRPC listen address; default "127.0.0.1:0" (a free
	// loopback port, see [Node.Addr]).
	ListenAddr string
	// DataDir holds the node's SQLite database. Required.
	DataDir string
	// KeyFile is the node's sealing key file (package keystore); default
	// DataDir/node.keys. Put it outside DataDir, on another disk, and back
	// it up: the database can be rebuilt from the backbone, the keys
	// cannot. It must be an absolute path: a key file that is not found
	// is created afresh, and a path that depends on the working directory
	// would silently give the node new keys.
	KeyFile string
	// BackboneURLs are the NATS URLs of the backbone (tls://host:port).
	// Required, unless Leaf is set: then it must be empty.
	BackboneURLs []string
	// BackboneReplicas is how many servers keep the streams of the node's
	// leaf node: 0 means 1.
	BackboneReplicas int
	// Leaf runs the node behind a NATS leaf node embedded in its process
	// (see [backbone.LeafConfig]), which keeps the directory entries
	// sealing needs while the link to the backbone is cut; copies wait in
	// the node's outbox as they do while a direct backbone is down.
	// Leaf.StoreDir defaults to DataDir/leaf. Nil connects to BackboneURLs.
	Leaf *backbone.LeafConfig
	// PostWait bounds how long a post, once committed, waits for its
	// copies to be published before it answers with those still pending
	// (the answer is a success either way); default [DefaultPostWait].
	PostWait time.Duration
	// MaxPendingCopies bounds the copies waiting in the node's outbox for
	// the backbone: while that many wait, posts and forwards are refused
	// (Unavailable) rather than queued. Default [DefaultMaxPendingCopies].
	MaxPendingCopies int
	// Directory lists the network's nodes for the directory call. It is
	// called on every call, so it can answer addresses known only once the
	// nodes listen (free ports); [nodeserver.StaticDirectory] lists fixed
	// ones. Nil lists no nodes.
	Directory func() []nodeserver.DirectoryEntry
	// Policy is the network policy engine deciding post, release, read and
	// forward; nil runs the reviewed default set embedded from
	// deploy/policies.
	Policy *policy.Engine
	// People holds attributes of this state's people that the policy reads
	// (e.g. law enforcement), keyed by SPIFFE ID; absent people have none.
	People map[string]policy.PersonAttrs
	// Languages holds the preferred language of this state's people,
	// keyed by SPIFFE ID: every bulletin read through the API carries it
	// (StoredBulletin.preferred_language), and clients show a bulletin's
	// translation into it when there is one. Absent people have none.
	Languages map[string]bulletin.Language
	// EntryWait is how long after it was published a copy whose signer's
	// state's directory cannot vouch for its signing key yet (no entry
	// published, or an entry that does not verify now) waits, parked,
	// before it is rejected (see receive.go); default [DefaultEntryWait].
	// A directory that cannot be read is waited out without bound; an
	// entry that does not publish the key is a verdict at once.
	EntryWait time.Duration
	// Park bounds the copies the node parks per publishing state: copies
	// it cannot decide yet, kept until it can (park.go).
	Park ParkConfig
	// KeyRotation is how often the node rotates its HPKE (KEM) key; zero
	// never rotates on a schedule (see [Node.RotateKeys]). A retired KEM
	// key is kept for InboxRetention plus [KeyRetentionMargin].
	KeyRotation time.Duration
	// SignKeyRotation is how often the node rotates its Ed25519 origin
	// signing key; zero never rotates on a schedule (see
	// [Node.RotateSignKey]). The directory entry lists the last
	// [seal.MaxRetiredSignKeys] retired keys, so that what they signed
	// still verifies; it may therefore not be shorter than
	// [MinSignKeyRotation] of InboxRetention.
	SignKeyRotation time.Duration
	// InboxRetention is how long the backbone keeps a copy in the inbox
	// stream: the secretariat's Retention.Inbox, which the node cannot
	// read, so configure both alike; default
	// [backbone.DefaultInboxRetention]. A shorter value than the
	// secretariat's prunes KEM keys that copies still in the inbox need.
	InboxRetention time.Duration
	// OutboxRetention is how long the node's database keeps the rows of
	// copies published and receipts sent, as markers that keep them from
	// being queued twice; default [DefaultOutboxRetention]. Neither
	// retention may be shorter than [backbone.MinRetention].
	OutboxRetention time.Duration
	// ExpiredRetention is how long an expired bulletin stays at the node
	// (its origin's focal points still read it; nobody else lists,
	// searches or is pushed it) before it is purged, leaving nothing in
	// the node's files; default [DefaultExpiredRetention].
	ExpiredRetention time.Duration
	// Audit configures the node's part in the delivery audit.
	Audit AuditConfig
	// MembershipKey is the secretariat's membership verifier key (its
	// membership.vkey, "<trust domain>/membership+<hash>+<key>"): the node
	// accepts a membership table or a deny list only signed with it.
	// Required: a key offered by the backbone is never trusted.
	MembershipKey string
	// Admission bounds the work the node takes before it refuses posts
	// with ResourceExhausted (admit.go); zero fields mean the defaults.
	Admission AdmissionConfig
	// TAXII configures the node's TAXII 2.1 server; zero runs none.
	TAXII TAXIIConfig
	// Health configures the node's health checks (health.go).
	Health HealthConfig
	// Metrics is the registry the node registers its metrics with, under
	// the label node=<state code> (package metrics); nil registers none.
	Metrics prometheus.Registerer
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate names the first missing or bad field.
func (c Config) Validate() error {
	switch {
	case c.TrustDomain.IsZero():
		return errors.New("statenode: config: TrustDomain is required")
	case c.SVID == nil:
		return errors.New("statenode: config: SVID is required")
	case c.Bundle == nil:
		return errors.New("statenode: config: Bundle is required")
	case c.DataDir == "":
		return errors.New("statenode: config: DataDir is required")
	case len(c.BackboneURLs) == 0 && c.Leaf == nil:
		return errors.New("statenode: config: BackboneURLs is required")
	case c.PostWait < 0:
		return errors.New("statenode: config: PostWait is negative")
	case c.MaxPendingCopies < 0:
		return errors.New("statenode: config: MaxPendingCopies is negative")
	case c.EntryWait < 0:
		return errors.New("statenode: config: EntryWait is negative")
	case c.KeyFile != "" && !filepath.IsAbs(c.KeyFile):
		return fmt.Errorf("statenode: config: KeyFile %q is relative; give an absolute path", c.KeyFile)
	}
	if err := c.validateLeaf(); err != nil {
		return err
	}
	if err := c.Park.validate(); err != nil {
		return err
	}
	if err := c.validateRetention(); err != nil {
		return err
	}
	if err := c.Health.Validate(); err != nil {
		return fmt.Errorf("statenode: config: %w", err)
	}
	if c.MembershipKey == "" {
		return errors.New("statenode: config: MembershipKey is required: the secretariat's membership verifier key (its membership.vkey)")
	}
	if _, err := membership.NewVerifier(c.TrustDomain.Name(), c.MembershipKey); err != nil {
		return fmt.Errorf("statenode: config: MembershipKey: %w", err)
	}
	if err := c.Admission.validate(); err != nil {
		return err
	}
	return c.Audit.validate()
}

// Node is a running member state's node.
type Node struct {
	cfg    Config
	self   identity.Principal
	log    *slog.Logger
	now    func() time.Time
	store  *store.Store
	bb     *backbone.StateClient
	srv    *nodeserver.Server
	hub    *hub
	policy *policy.Engine
	keys   *keyring // sealing keys
	dir    entries  // verified directory entries of other states
	// members holds the secretariat's membership table and deny list.
	members *membership.Holder
	// entryDeferred: the directory entry could not be published at start
	// (behind a leaf node whose link was cut); it is published later.
	entryDeferred bool
	audit         auditState
	out           copyOutbox // sealed copies waiting for the backbone
	admitted      admission  // admission control of posts (admit.go)
	taxii         taxiiState
	parked        parkState // copies not decidable yet (park.go)
	ops           opsState  // metrics and health (health.go)
	// rebuildRevoked, while a rebuild replays the inbox, holds the
	// revocations it found there (rebuild.go).
	rebuildRevoked atomic.Pointer[revoked]

	// closing is closed by Close so that open subscriptions end and the
	// gRPC server can stop gracefully.
	closing   chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start opens the store, connects to the backbone, publishes the node's
// directory entry, listens and serves until Close. It returns once the
// node serves.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	self, err := identity.SelfFrom(cfg.SVID, cfg.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("statenode: %w", err)
	}
	if self.Role != identity.RoleNode {
		return nil, fmt.Errorf("statenode: own identity %s is a %s, not a member state's node", self, self.Role)
	}
	n := &Node{cfg: cfg, self: self, log: cfg.Logger, now: cfg.Now, hub: newHub(), closing: make(chan struct{})}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n.log = n.log.With("node", self.String())
	n.newCopyOutbox()
	n.parked.init()
	if n.now == nil {
		n.now = time.Now
	}
	if n.policy = cfg.Policy; n.policy == nil {
		set, err := policy.Parse(policies.Network, policies.Schema)
		if err != nil {
			return nil, fmt.Errorf("statenode: embedded policy set: %w", err)
		}
		n.policy = policy.NewEngine(set, policy.WithClock(n.now))
	}
	if err := n.initOps(cfg.Metrics); err != nil {
		return nil, err
	}
	if err := n.open(ctx); err != nil {
		n.release()
		return nil, err
	}
	n.serve()
	n.log.Info("node serving", "addr", n.srv.Addr())
	return n, nil
}

// open acquires the node's resources in order; release frees them.
func (n *Node) open(ctx context.Context) error {
	if err := os.MkdirAll(n.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("statenode: data dir: %w", err)
	}
	dbPath := filepath.Join(n.cfg.DataDir, "node.db")
	if err := n.markRebuild(dbPath); err != nil {
		return err
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	n.store = st
	if n.bb, err = backbone.ConnectState(ctx, n.backboneConfig()); err != nil {
		return fmt.Errorf("statenode: connect backbone: %w", err)
	}
	if err := n.openAudit(ctx); err != nil {
		return err
	}
	if err := n.openMembership(); err != nil {
		return err
	}
	if err := n.takeLegacyOutbox(ctx); err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	if n.keys, err = loadKeys(n.keyFile(), n.self.State, n.cfg.keyRetention(), n.now, n.log); err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	if err := n.withdrawAtStart(ctx); err != nil {
		return fmt.Errorf("statenode: withdraw what compromised keys signed: %w", err)
	}
	if err := n.publishEntry(ctx); err != nil && !n.deferEntry(err) {
		return fmt.Errorf("statenode: publish directory entry: %w", err)
	}
	n.srv, err = nodeserver.Listen(nodeserver.Config{
		TrustDomain: n.cfg.TrustDomain, SVID: n.cfg.SVID, Bundle: n.cfg.Bundle,
		ListenAddr: n.cfg.ListenAddr, Admit: n.admit, Logger: n.log, Membership: n.members, Metrics: n.ops.met,
	})
	if err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	return n.listenTAXII()
}

// admit lets only people of the node's own state call it, and none while
// the state is not an active member.
func (n *Node) admit(p identity.Principal, _ string) (rule, msg string) {
	if p.State != n.self.State {
		return "caller.own_state", fmt.Sprintf("%s may not call the node of %s", p, n.self.State)
	}
	return n.admitState()
}

func (n *Node) serve() {
	iantv1.RegisterBulletinServiceServer(n.srv.GRPC(), &bulletinService{n: n})
	n.srv.RegisterDirectory(n.cfg.Directory)

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.runAudit(ctx)
	n.wg.Go(func() { n.watchMembership(ctx) })
	n.wg.Go(func() { n.watchDirectory(ctx) })
	n.wg.Go(func() { n.watchRefusal(ctx) })
	n.wg.Go(func() { n.drainCopies(ctx) })
	n.startHealth(ctx)
	n.srv.Serve()
	n.serveTAXII()
	n.wg.Go(func() { n.runPark(ctx) })
	n.wg.Go(func() {
		n.rebuild(ctx) // a new store first takes back what was received
		if err := n.bb.ConsumeInbox(ctx, n.receive); err != nil {
			n.log.Error("inbox consumer stopped", "err", err)
		}
	})
	n.publishDeferredEntry(ctx)
	n.runKeys(ctx)
}

// Addr returns the address the node serves on.
func (n *Node) Addr() string { return n.srv.Addr() }

// Principal returns the node's own identity.
func (n *Node) Principal() identity.Principal { return n.self }

// Close stops serving, ends open subscriptions, stops the inbox consumer
// and the drainers (what they did not publish stays committed in the
// outboxes, for the next start) and closes the backbone connection and
// the store. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.log.Info("node stopping")
		close(n.closing)
		if n.srv != nil {
			n.srv.Stop()
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
	if n.ops.unregister != nil {
		n.ops.unregister()
	}
	n.stopTAXII()
	if n.srv != nil {
		n.srv.Stop()
	}
	if n.bb != nil {
		errs = append(errs, n.bb.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}
