package backbone

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// Client defaults.
const (
	// DefaultRetryDelay is the first redelivery delay after a [Handler]
	// error; see [ClientConfig.RetryDelay].
	DefaultRetryDelay = time.Second
	// maxRetryDelay caps the doubling redelivery delay.
	maxRetryDelay = time.Minute
	// defaultTimeout bounds a request whose ctx has no deadline.
	defaultTimeout = 5 * time.Second
	// publishAttemptTimeout bounds one attempt of a publish; a synced
	// publish normally takes milliseconds.
	publishAttemptTimeout = 2 * time.Second
	// ElectionGrace is how long a publish keeps trying while no server
	// answers for the stream: a cluster elects a new stream leader within
	// seconds of losing one.
	ElectionGrace = 10 * time.Second
	// publishTimeout bounds a publish whose ctx has no deadline.
	publishTimeout = 15 * time.Second
	// ReconnectGrace is how long a publish waits for a lost connection to
	// come back before it fails with [ErrUnavailable].
	ReconnectGrace = 2 * time.Second
	// closeTimeout bounds the drain in [Client.Close].
	closeTimeout = 10 * time.Second
)

// ClientConfig configures a backbone connection of one node.
type ClientConfig struct {
	// URLs are the backbone servers, e.g. "tls://127.0.0.1:4222". Required,
	// unless Leaf is set: then it must be empty.
	URLs []string
	// TrustDomain is the SPIFFE trust domain of the node and the servers.
	// Required.
	TrustDomain spiffeid.TrustDomain
	// SVID is the node's X.509 SVID source; its SPIFFE ID is the node's
	// identity on the backbone. Required.
	SVID x509svid.Source
	// Bundle is the source of trust bundles the server's SVID is verified
	// against. Required.
	Bundle x509bundle.Source
	// Name is the connection name shown by the server; "" means the
	// principal, e.g. "MX/node/main".
	Name string
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// Replicas is the replica count [Client.Provision] gives the stream and
	// consumers: 0 means 1 (the embedded server); use 3 on a cluster.
	Replicas int
	// Retention is how long the streams [Client.Provision] makes keep
	// their messages; zero fields mean the defaults (see [Retention]).
	Retention Retention
	// RetryDelay is the redelivery delay after a [Handler] fails with a
	// transient error, doubled on each further delivery up to one minute;
	// 0 means [DefaultRetryDelay].
	RetryDelay time.Duration
	// Leaf, for a state node, runs it behind a leaf node embedded in this
	// process (store and forward; see [LeafConfig]); nil connects to URLs.
	Leaf *LeafConfig
}

// validate reports the first bad field of c.
func (c ClientConfig) validate() error {
	switch {
	case len(c.URLs) == 0 && c.Leaf == nil:
		return fmt.Errorf("%w: URLs is empty", ErrInvalidConfig)
	case len(c.URLs) > 0 && c.Leaf != nil:
		return fmt.Errorf("%w: URLs and Leaf both set: a node behind a leaf node reaches the backbone only through it", ErrInvalidConfig)
	case c.TrustDomain.IsZero():
		return fmt.Errorf("%w: TrustDomain is required", ErrInvalidConfig)
	case c.SVID == nil:
		return fmt.Errorf("%w: SVID is required", ErrInvalidConfig)
	case c.Bundle == nil:
		return fmt.Errorf("%w: Bundle is required", ErrInvalidConfig)
	case c.Replicas < 0 || c.Replicas > 5:
		return fmt.Errorf("%w: Replicas %d out of range (0 to 5)", ErrInvalidConfig, c.Replicas)
	case c.RetryDelay < 0:
		return fmt.Errorf("%w: RetryDelay %s is negative", ErrInvalidConfig, c.RetryDelay)
	}
	if err := c.Retention.Validate(); err != nil {
		return err
	}
	if c.Leaf != nil {
		return c.Leaf.validate()
	}
	return nil
}

// Client is one node's connection to the backbone.
type Client struct {
	self       identity.Principal
	log        *slog.Logger
	nc         *nats.Conn
	js         jetstream.JetStream
	replicas   int
	retention  Retention
	retryDelay time.Duration

	// Behind a leaf node only: the leaf server, its own JetStream (js then
	// addresses the backbone's as HubDomain) and the directory entries
	// kept there.
	leaf   *server.Server
	local  jetstream.JetStream
	keptMu sync.Mutex
	kept   map[string][]byte

	// life ends when Close starts; it stops running ConsumeInbox calls.
	life     context.Context
	endLife  context.CancelFunc
	closedCh chan struct{} // closed by nats when the connection is closed

	mu        sync.Mutex
	closing   bool
	consumers sync.WaitGroup // running ConsumeInbox calls

	refused atomic.Bool // the server refused the node's user since it last connected

	closeOnce sync.Once
	closeErr  error

	// batchOff is when, in Unix nanoseconds, atomic batches are worth
	// trying again after the stream refused them ([Client.BatchEnabled]).
	batchOff atomic.Int64
	// eventBatchOff is batchOff for receipts on [EventStream]
	// ([Client.EventBatchEnabled]).
	eventBatchOff atomic.Int64
	// backlog is the inbox consumer's backlog as last seen (backlog.go).
	backlog atomic.Pointer[Backlog]
}

// Connect connects to the backbone as the node named by cfg.SVID. The SVID's
// SPIFFE ID must be a state node or a secretariat node ([ErrNotNode]); the
// server then grants only that node's permissions. Connect fails if no
// server can be reached before ctx ends; once connected, the client
// reconnects on its own. Errors wrap [ErrInvalidConfig] or [ErrNotNode], or
// nats' errors (nats.ErrAuthorization when the server knows no such node).
//
// With cfg.Leaf set, Connect starts the node's leaf node and connects to
// it in-process, then waits a few seconds at most for the leaf's link to
// the backbone: a node may start while the link is cut (its copies wait in
// its own outbox until the link returns).
func Connect(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	self, err := nodePrincipal(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Leaf != nil && self.Role != identity.RoleNode {
		return nil, fmt.Errorf("%w: Leaf: only a state node runs behind a leaf node, not %s", ErrInvalidConfig, self)
	}
	c := &Client{
		self: self, log: cfg.Logger, replicas: max(cfg.Replicas, 1), retention: cfg.Retention.WithDefaults(), retryDelay: cfg.RetryDelay,
		closedCh: make(chan struct{}), kept: map[string][]byte{},
	}
	if c.log == nil {
		c.log = discard
	}
	if c.retryDelay == 0 {
		c.retryDelay = DefaultRetryDelay
	}
	c.life, c.endLife = context.WithCancel(context.Background())
	if err := c.connect(ctx, cfg); err != nil {
		c.endLife()
		if c.nc != nil {
			c.nc.Close()
		}
		if c.leaf != nil {
			c.leaf.Shutdown()
			c.leaf.WaitForShutdown()
		}
		return nil, err
	}
	if c.leaf == nil {
		c.log.Info("backbone connected", "url", c.nc.ConnectedUrlRedacted())
		return c, nil
	}
	if c.waitHubLink(ctx) {
		c.log.Info("backbone connected through the leaf node", "domain", LeafDomain(self))
	} else {
		c.log.Warn("backbone not reachable from the leaf node yet", "domain", LeafDomain(self))
	}
	return c, nil
}

// connect opens the connection (and, behind a leaf node, starts the leaf
// and provisions its own JetStream) and the JetStream contexts.
func (c *Client) connect(ctx context.Context, cfg ClientConfig) error {
	var err error
	url := strings.Join(cfg.URLs, ",")
	opts := c.natsOptions(ctx, cfg)
	if cfg.Leaf != nil {
		if c.leaf, err = startLeaf(ctx, cfg, c.self, c.log); err != nil {
			return err
		}
		url = ""
		opts = append(opts, nats.InProcessServer(c.leaf))
	} else {
		opts = append(opts, nats.Secure(tlsconfig.MTLSClientConfig(cfg.SVID, cfg.Bundle, authorizeServer(cfg.TrustDomain))))
	}
	if c.nc, err = nats.Connect(url, opts...); err != nil {
		return fmt.Errorf("backbone: connect as %s: %w", c.self, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("backbone: connect as %s: %w", c.self, err)
	}
	if c.leaf == nil {
		c.js, err = jetstream.New(c.nc, jetstream.WithDefaultTimeout(defaultTimeout))
		if err != nil {
			return fmt.Errorf("backbone: jetstream: %w", err)
		}
		return nil
	}
	// The leaf's own JetStream answers "$JS.API..." (the link denies that
	// prefix both ways); the backbone's is reached by domain.
	if c.local, err = jetstream.New(c.nc, jetstream.WithDefaultTimeout(defaultTimeout)); err != nil {
		return fmt.Errorf("backbone: leaf jetstream: %w", err)
	}
	if c.js, err = jetstream.NewWithDomain(c.nc, HubDomain, jetstream.WithDefaultTimeout(defaultTimeout)); err != nil {
		return fmt.Errorf("backbone: jetstream: %w", err)
	}
	return c.provisionLeaf(ctx)
}

// nodePrincipal reads the node's identity from its SVID.
func nodePrincipal(cfg ClientConfig) (identity.Principal, error) {
	svid, err := cfg.SVID.GetX509SVID()
	if err != nil {
		return identity.Principal{}, fmt.Errorf("backbone: get svid: %w", err)
	}
	self, err := identity.Parse(cfg.TrustDomain, svid.ID)
	if err != nil {
		return identity.Principal{}, fmt.Errorf("%w: %w", ErrNotNode, err)
	}
	if self.Role != identity.RoleNode && self.Role != identity.RoleSecretariatNode {
		return identity.Principal{}, fmt.Errorf("%w: %s is a %s", ErrNotNode, self, self.Role)
	}
	return self, nil
}

// natsOptions returns the connection options but the transport: the
// principal's own reply prefix, endless reconnects and logging.
func (c *Client) natsOptions(ctx context.Context, cfg ClientConfig) []nats.Option {
	name := cfg.Name
	if name == "" {
		name = c.self.String()
	}
	timeout := defaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(min(time.Until(d), timeout), time.Millisecond)
	}
	return []nats.Option{
		nats.Name(name),
		nats.Timeout(timeout),
		nats.CustomInboxPrefix(ReplyPrefix(c.self.State)),
		nats.MaxReconnects(-1),
		// A server gone silent (a cut link drops packets and sends no
		// reset) is left for another after three unanswered pings, within
		// a minute rather than the default's minutes (tests/wan).
		nats.PingInterval(serverPingInterval), nats.MaxPingsOutstanding(3),
		nats.ReconnectWait(250 * time.Millisecond),
		// A node whose state is suspended, or whose SVID is denied, is
		// refused as it reconnects; it keeps trying (nats.go would give up
		// after the same refusal twice), so that once reinstated or given
		// a new SVID it is back without a restart.
		nats.IgnoreAuthErrorAbort(),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closedCh) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("backbone disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.refused.Store(false)
			c.log.Info("backbone reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrAuthorization) {
				c.refused.Store(true) // see Refused
			}
			c.log.Warn("backbone error", "err", err)
		}),
	}
}

// authorizeServer accepts a server SVID of the trust domain that is not a
// member state's: an embedded server runs with the secretariat's SVID, a
// cluster with IDs of its own, but a state node must never be able to pose
// as the backbone to the other states.
func authorizeServer(td spiffeid.TrustDomain) tlsconfig.Authorizer {
	member := tlsconfig.AuthorizeMemberOf(td)
	return func(id spiffeid.ID, chains [][]*x509.Certificate) error {
		if err := member(id, chains); err != nil {
			return err
		}
		// Only the secretariat's side runs the backbone: a member state's
		// node or any person presenting a server certificate is refused.
		p, err := identity.Parse(td, id)
		if err != nil || p.Role != identity.RoleSecretariatNode {
			return fmt.Errorf("backbone: server SVID %q is not a secretariat node", id)
		}
		return nil
	}
}

// Principal returns the node's identity, read from its SVID at Connect.
func (c *Client) Principal() identity.Principal { return c.self }

// PubAck is the server's acknowledgement of a stored copy: the commit point.
type PubAck struct {
	// Stream is the stream that stored the copy, [InboxStream].
	Stream string
	// Seq is the copy's stream sequence; for a duplicate, the original's.
	Seq uint64
	// Duplicate reports that the same copy (same recipient, origin, id and
	// bytes: the same Nats-Msg-Id, see msgID) was already stored within
	// [DuplicateWindow]: this node's own earlier publish, whose
	// acknowledgement was lost or not yet recorded. Nothing new was
	// stored; Seq is the earlier copy's.
	Duplicate bool
}

// PublishInbox stores the copy of bulletin id from origin in recipient's
// inbox and returns once the server has synced it (behind a leaf node, the
// backbone's server, through the leaf's link). The Nats-Msg-Id binds
// recipient, origin, id and the copy's bytes (msgID), so publishing the
// same copy again (a retry) stores nothing new and reports Duplicate, and
// no other state can make the backbone drop this copy as a duplicate. A
// state node may publish only as its own origin and the secretariat not
// at all ([ErrForbidden]). Behind a leaf node whose link is down it fails
// at once with [ErrUnavailable]: the caller keeps the copy and publishes it
// again later. Errors wrap [ErrInvalidSubject], [ErrTooLarge],
// [ErrForbidden], [ErrNotProvisioned], [ErrUnavailable], [ErrClosed] or
// the context's error. When ctx has no deadline a default timeout of 5 s
// applies.
func (c *Client) PublishInbox(ctx context.Context, recipient, origin, id string, data []byte) (PubAck, error) {
	if err := c.checkPublish(recipient, origin, id, data); err != nil {
		return PubAck{}, err
	}
	if c.isClosing() {
		return PubAck{}, ErrClosed
	}
	subj := InboxSubject(recipient, origin, id)
	if c.leaf != nil && !c.LeafConnected() {
		return PubAck{}, fmt.Errorf("%w: publish %s: the leaf node's link to the backbone is down", ErrUnavailable, subj)
	}
	ack, err := c.publish(ctx, subj, data, jetstream.WithMsgID(msgID(recipient, origin, id, data)), jetstream.WithExpectStream(InboxStream))
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode == quotaErrCode:
		return PubAck{}, fmt.Errorf("backbone: publish %s: %w", subj, throttledErr(apiErr.Description))
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return PubAck{}, fmt.Errorf("%w: publish %s", ErrNotProvisioned, subj)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return PubAck{}, fmt.Errorf("%w: publish %s", ErrClosed, subj)
	case err != nil:
		return PubAck{}, fmt.Errorf("backbone: publish %s: %w", subj, err)
	}
	c.log.Debug("copy published", "recipient", recipient, "bulletin_id", id, "seq", ack.Sequence, "duplicate", ack.Duplicate)
	return PubAck{Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// publish sends one message and waits for its PubAck, sending it again
// when an attempt gets no answer in time (a request written just before a
// disconnect is lost, not resent by nats.go) or finds no server for the
// stream (in a cluster, while the stream elects a new leader after a
// server died) for up to [ElectionGrace]. Resending is safe because the
// message carries a Nats-Msg-Id. Without a ctx deadline, [publishTimeout]
// applies.
func (c *Client) publish(ctx context.Context, subj string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return c.publishTo(ctx, c.js, subj, data, opts...)
}

// publishTo is publish through js.
func (c *Client) publishTo(ctx context.Context, js jetstream.JetStream, subj string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	start := time.Now()
	wait := newBackoff()
	var noStream error // the last "no server for the stream" answer
	for {
		if err := c.awaitConnected(ctx); err != nil {
			return nil, err
		}
		actx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
		ack, err := js.Publish(actx, subj, data, opts...)
		timedOut := actx.Err() != nil
		cancel()
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			noStream = err
		}
		electing := noStream != nil && time.Since(start) < ElectionGrace
		switch {
		case err == nil:
			return ack, nil
		case storageFull(err):
			return nil, fmt.Errorf("%w: the backbone refuses new messages: %w", ErrStorageFull, err)
		case ctx.Err() != nil && noStream != nil:
			return nil, noStream
		case !(timedOut || electing) || ctx.Err() != nil:
			return nil, err
		}
		c.log.Debug("publish not acknowledged, resending", "subject", subj, "err", err)
		if !wait.sleep(ctx) {
			return nil, cmp.Or(noStream, err)
		}
	}
}

// awaitConnected returns at once when the client is connected, and
// otherwise waits up to [ReconnectGrace] for it to reconnect (a failover to
// another cluster server takes well under that): a publish while no server
// can be reached fails fast with [ErrUnavailable] instead of waiting for
// its deadline.
func (c *Client) awaitConnected(ctx context.Context) error {
	if c.nc.IsConnected() {
		return nil
	}
	grace := time.NewTimer(ReconnectGrace)
	defer grace.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-grace.C:
			return fmt.Errorf("%w: not connected to any backbone server for %s", ErrUnavailable, ReconnectGrace)
		case <-tick.C:
			if c.nc.IsConnected() {
				return nil
			}
			if c.nc.IsClosed() {
				return ErrClosed
			}
		}
	}
}

// checkPublish validates PublishInbox's arguments before anything is sent.
func (c *Client) checkPublish(recipient, origin, id string, data []byte) error {
	switch {
	case c.self.Role != identity.RoleNode:
		return fmt.Errorf("%w: %s has no origin to publish as", ErrForbidden, c.self)
	case origin != c.self.State:
		return fmt.Errorf("%w: %s may not publish as origin %q", ErrForbidden, c.self, origin)
	case !region.IsMember(recipient):
		return fmt.Errorf("%w: recipient %q is not a member state", ErrInvalidSubject, recipient)
	case len(data) > MaxDataSize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxDataSize)
	}
	if err := checkToken(id); err != nil {
		return fmt.Errorf("%w: bulletin id: %v", ErrInvalidSubject, err)
	}
	return nil
}

// isClosing reports whether Close has started.
func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// Close stops running [Client.ConsumeInbox] calls and waits for them, then
// drains the connection (pending acks and publishes are flushed) and waits
// until it is closed; behind a leaf node, it then stops the leaf. It is
// idempotent; later calls return the first result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.endLife()
		c.consumers.Wait()
		if err := c.nc.Drain(); err != nil {
			c.nc.Close()
		}
		select {
		case <-c.closedCh:
		case <-time.After(closeTimeout):
			c.nc.Close()
			<-c.closedCh
			c.closeErr = errors.New("backbone: close: drain timed out")
		}
		if c.leaf != nil {
			c.leaf.Shutdown()
			c.leaf.WaitForShutdown()
		}
		c.log.Info("backbone connection closed")
	})
	return c.closeErr
}
