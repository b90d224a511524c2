package secretariat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Config is everything the secretariat's node needs. Zero values mean the
// documented default.
type Config struct {
	// TrustDomain is the SPIFFE trust domain of the network. Required.
	TrustDomain spiffeid.TrustDomain
	// SVID is the node's own identity (file or Workload API source): its
	// SPIFFE ID must be secretariat/node/<name>. Required.
	SVID x509svid.Source
	// Bundle holds the trust anchors of the trust domain. Required.
	Bundle x509bundle.Source
	// ListenAddr is the gRPC listen address; default "127.0.0.1:0" (a free
	// loopback port, see [Node.Addr]).
	ListenAddr string
	// DataDir holds the audit log and its key. Required.
	DataDir string
	// BackboneURLs are the NATS URLs of the backbone (tls://host:port).
	// Required.
	BackboneURLs []string
	// BackboneReplicas is how many servers keep each stream and consumer
	// the node provisions: 0 means 1 (one embedded server); 3 on a
	// three-server cluster.
	BackboneReplicas int
	// ProvisionStates lists the states whose inboxes the node provisions;
	// default every member state. They are also the genesis of the
	// membership table (all active), which the node signs on its first
	// start; later the table decides, and the node provisions the inboxes
	// of its states as well.
	ProvisionStates []string
	// Retention is how long the backbone keeps the messages of the
	// streams the node provisions (copies, receipts, checkpoints,
	// witnessed checkpoints); zero fields mean the backbone's defaults
	// ([backbone.DefaultInboxRetention] and the others), none may be
	// shorter than [backbone.MinRetention]. The state nodes keep their
	// KEM keys for Retention.Inbox plus a margin, so they must be given
	// the same inbox retention (statenode.Config.InboxRetention).
	Retention backbone.Retention
	// Directory lists the network's nodes for the directory call. It is
	// called on every call, so it can answer addresses known only once the
	// nodes listen (free ports); [nodeserver.StaticDirectory] lists fixed
	// ones. Nil lists no nodes.
	Directory func() []nodeserver.DirectoryEntry
	// Audit configures the delivery audit: checkpoint and escalation
	// cadence and acknowledgement deadlines.
	Audit AuditConfig
	// Verifiers check the evidence receipts carry (the origin's signed
	// header, a forwarder's statement). Zero means pkg/seal's
	// attestations, verified with the signing keys (current or retired)
	// of the directory on the backbone.
	Verifiers audit.Verifiers
	// Health configures the node's health checks (health.go).
	Health HealthConfig
	// Metrics is the registry the node registers its metrics with, under
	// the label node=secretariat (package metrics); nil registers none.
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
		return errors.New("secretariat: config: TrustDomain is required")
	case c.SVID == nil:
		return errors.New("secretariat: config: SVID is required")
	case c.Bundle == nil:
		return errors.New("secretariat: config: Bundle is required")
	case c.DataDir == "":
		return errors.New("secretariat: config: DataDir is required")
	case len(c.BackboneURLs) == 0:
		return errors.New("secretariat: config: BackboneURLs is required")
	}
	for _, s := range c.ProvisionStates {
		if !region.IsMember(s) {
			return fmt.Errorf("secretariat: config: ProvisionStates: unknown state code %q", s)
		}
	}
	if err := c.Retention.Validate(); err != nil {
		return fmt.Errorf("secretariat: config: %w", err)
	}
	if err := c.Health.Validate(); err != nil {
		return fmt.Errorf("secretariat: config: %w", err)
	}
	return c.Audit.validate()
}

// Node is the running secretariat node.
type Node struct {
	cfg   Config
	self  identity.Principal
	log   *slog.Logger
	now   func() time.Time
	bb    *backbone.SecretariatClient
	srv   *nodeserver.Server
	audit auditState
	gov   govState // the membership table and deny list it signs
	ops   opsState // metrics and health (health.go)

	// closing is closed by Close so that open streams end and the gRPC
	// server can stop gracefully.
	closing   chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start opens the audit log, connects to the backbone, provisions it,
// listens and serves until Close. It returns once the node serves.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	self, err := identity.SelfFrom(cfg.SVID, cfg.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("secretariat: %w", err)
	}
	if self.Role != identity.RoleSecretariatNode {
		return nil, fmt.Errorf("secretariat: own identity %s is a %s, not the secretariat's node", self, self.Role)
	}
	n := &Node{cfg: cfg, self: self, log: cfg.Logger, now: cfg.Now, closing: make(chan struct{})}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n.log = n.log.With("node", self.String())
	if n.now == nil {
		n.now = time.Now
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
		return fmt.Errorf("secretariat: data dir: %w", err)
	}
	var err error
	n.bb, err = backbone.ConnectSecretariat(ctx, backbone.ClientConfig{
		URLs: n.cfg.BackboneURLs, TrustDomain: n.cfg.TrustDomain, SVID: n.cfg.SVID, Bundle: n.cfg.Bundle,
		Name: n.self.String(), Logger: n.log, Replicas: n.cfg.BackboneReplicas, Retention: n.cfg.Retention,
	})
	if err != nil {
		return fmt.Errorf("secretariat: connect backbone: %w", err)
	}
	if err := n.openAudit(ctx); err != nil {
		return err
	}
	states, err := n.openMembership(ctx)
	if err != nil {
		return err
	}
	if err := n.bb.Provision(ctx, states); err != nil {
		return fmt.Errorf("secretariat: provision backbone: %w", err)
	}
	n.srv, err = nodeserver.Listen(nodeserver.Config{
		TrustDomain: n.cfg.TrustDomain, SVID: n.cfg.SVID, Bundle: n.cfg.Bundle,
		ListenAddr: n.cfg.ListenAddr, Admit: admit, Logger: n.log, Membership: n.gov.holder, Metrics: n.ops.met,
	})
	if err != nil {
		return fmt.Errorf("secretariat: %w", err)
	}
	return nil
}

// admit lets secretariat people call the node, and a state's focal point
// the methods that serve it (each checks the bulletin's origin).
func admit(p identity.Principal, method string) (rule, msg string) {
	if p.Role.IsSecretariat() || p.Role == identity.RoleFocalPoint && slices.Contains(focalPointMethods, method) {
		return "", ""
	}
	return "caller.secretariat", fmt.Sprintf("%s may not call the node of the secretariat", p)
}

func (n *Node) serve() {
	iantv1.RegisterAuditServiceServer(n.srv.GRPC(), &auditService{n: n})
	iantv1.RegisterAdminServiceServer(n.srv.GRPC(), &adminService{n: n})
	n.srv.RegisterDirectory(n.cfg.Directory)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.runAudit(ctx)
	n.wg.Go(func() { n.republishEvery(ctx) })
	n.wg.Go(func() { n.watchDirectory(ctx) })
	n.startHealth(ctx)
	n.srv.Serve()
}

// Addr returns the address the node serves on.
func (n *Node) Addr() string { return n.srv.Addr() }

// Close stops serving, stops the audit goroutines and closes the backbone
// connection and the audit log. It is idempotent.
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
	if n.srv != nil {
		n.srv.Stop()
	}
	if n.bb != nil {
		errs = append(errs, n.bb.Close())
	}
	errs = append(errs, n.closeAudit())
	return errors.Join(errs...)
}

// refused logs a refusal of person p's call and, when it is about a
// bulletin of known origin, appends it to the audit log. It returns err
// unchanged: every refusal passes through here so that it is explicit and
// recorded.
func (n *Node) refused(p identity.Principal, bulletinID, origin string, err error) error {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return err
	}
	n.log.Warn("refused", "action", "audit", "peer", p.String(), "bulletin_id", bulletinID, "rule", pe.Rule)
	if bulletinID == "" || origin == "" {
		return err
	}
	e := audit.Event{Kind: audit.EventRefused, BulletinID: bulletinID, Origin: origin, State: p.State,
		Actor: p.ID(n.cfg.TrustDomain).String(), Rule: pe.Rule, Detail: "audit report", At: n.now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	defer cancel()
	if _, aerr := n.audit.log.Append(ctx, e); aerr != nil {
		n.log.Warn("refusal not logged", "bulletin_id", bulletinID, "err", aerr)
	}
	return err
}

// appendTimeout bounds an append of the node's own events to its log.
const appendTimeout = 5 * time.Second
