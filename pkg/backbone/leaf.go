package backbone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	"github.com/oas-cicte/iant/pkg/identity"
)

// Leaf node timings.
const (
	// leafReconnect is how soon a leaf node dials the backbone again after
	// its link was lost (nats-server's default too).
	leafReconnect = time.Second
	// linkWait bounds how long [Connect] waits for a leaf node's link to
	// the backbone before it returns anyway.
	linkWait = 5 * time.Second
)

// LeafConfig runs a state node behind a NATS leaf node embedded in the
// node's process. The leaf has a JetStream of its own ([LeafDomain]) in
// StoreDir and one link to the backbone's leaf node port, authenticated
// with the node's SVID, so the backbone applies the node's own permissions
// to the link. The node's client connects to the leaf in-process (nothing
// else can reach it: the leaf listens on no port).
//
// Everything (copies, the inbox, directory entries, receipts, checkpoints)
// goes to the backbone through the link, addressing its JetStream as
// [HubDomain]. While the link is cut, [Client.PublishInbox] fails at once
// with [ErrUnavailable]: the node keeps its copies in its own outbox and
// publishes them when the link returns, exactly as a node connected
// directly does while the backbone is down. What the leaf adds is the
// directory entries kept in its own JetStream ([KeptDirectoryStream]), so
// that the node can seal while the link is cut.
type LeafConfig struct {
	// HubURLs are the backbone servers' leaf node URLs, e.g.
	// "tls://hub-1.example:7422". Required.
	HubURLs []string
	// StoreDir is the leaf's JetStream file store. Required; keep it on
	// durable storage, as it holds the directory entries sealing falls
	// back on during a cut.
	StoreDir string
}

// validate reports the first bad field of l.
func (l *LeafConfig) validate() error {
	switch {
	case len(l.HubURLs) == 0:
		return fmt.Errorf("%w: Leaf.HubURLs is empty", ErrInvalidConfig)
	case l.StoreDir == "":
		return fmt.Errorf("%w: Leaf.StoreDir is required", ErrInvalidConfig)
	}
	_, err := l.hubURLs()
	return err
}

// hubURLs parses HubURLs.
func (l *LeafConfig) hubURLs() ([]*url.URL, error) {
	return parseURLs("Leaf.HubURLs", "tls://host:7422", l.HubURLs, leafSchemes)
}

// leafSchemes are the URL schemes of a backbone's leaf node port.
var leafSchemes = []string{"tls", "nats-leaf"}

// IsLeafURL reports whether s can be one of [LeafConfig.HubURLs]: a tls://
// or nats-leaf:// URL with a host and a port.
func IsLeafURL(s string) bool {
	_, err := parseURLs("", "", []string{s}, leafSchemes)
	return err == nil
}

// startLeaf starts the node's leaf server and waits until it is ready.
func startLeaf(ctx context.Context, cfg ClientConfig, self identity.Principal, log *slog.Logger) (*server.Server, error) {
	opts, err := leafOptions(cfg, self)
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("backbone: new leaf node: %w", err)
	}
	sl := &serverLogger{log: log.With("component", "leaf")}
	ns.SetLoggerV2(sl, log.Enabled(ctx, slog.LevelDebug), false, false)
	ns.Start()
	s := &Server{ns: ns, opts: opts, log: log}
	if err := s.waitReady(ctx, sl); err != nil {
		s.shutdown()
		return nil, fmt.Errorf("backbone: start leaf node: %w", err)
	}
	return ns, nil
}

// leafOptions are the options of node self's leaf server: no listener,
// JetStream in its own domain with every write synced, and one remote to
// the backbone.
func leafOptions(cfg ClientConfig, self identity.Principal) (*server.Options, error) {
	urls, err := cfg.Leaf.hubURLs()
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "iant-leaf-" + self.State + "-" + self.Name,
		// Only the node's own client, in-process, may use the leaf: it has
		// no users, so it must listen on no port.
		DontListen:             true,
		NoSigs:                 true,
		MaxPayload:             MaxMsgSize,
		DisableJetStreamBanner: true,
		JetStream:              true,
		JetStreamDomain:        LeafDomain(self),
		StoreDir:               cfg.Leaf.StoreDir,
		// The kept directory entries must survive a crash: sync before
		// acking, as on the backbone (facts.md §3).
		SyncAlways: true,
	}
	opts.LeafNode.ReconnectInterval = leafReconnect
	// A link whose far end went silent (a WAN cut drops packets, it sends
	// no reset) is found dead after two unanswered pings: seconds, where
	// the default two-minute pings took minutes (tests/wan).
	opts.PingInterval, opts.MaxPingsOut = leafPingInterval, 2
	opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{
		URLs: urls,
		TLS:  true,
		// The link presents the node's SVID, which the backbone maps to the
		// node's user, and accepts only the secretariat's servers, like
		// the node's own client connection would.
		TLSConfig:  tlsconfig.MTLSClientConfig(cfg.SVID, cfg.Bundle, authorizeServer(cfg.TrustDomain)),
		TLSTimeout: 2,
	}}
	return opts, nil
}

// LeafConnected reports whether the client runs behind a leaf node whose
// link to the backbone is up. It is false for a client connected to the
// backbone directly.
func (c *Client) LeafConnected() bool {
	return c.leaf != nil && c.leaf.NumLeafNodes() > 0
}

// waitHubLink waits until a request crosses the leaf's link to the
// backbone's JetStream and back (the link is up and the backbone's
// interest has reached the leaf), for at most [linkWait] or until ctx
// ends. It reports whether it did.
func (c *Client) waitHubLink(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, linkWait)
	defer cancel()
	wait := newBackoff()
	for {
		if c.LeafConnected() {
			rctx, rcancel := context.WithTimeout(ctx, time.Second)
			_, err := c.js.Stream(rctx, DirectoryStream)
			rcancel()
			// Any answer of the backbone's JetStream, even "not found"
			// before provisioning, proves the way there and back.
			if err == nil || errors.Is(err, jetstream.ErrStreamNotFound) {
				return true
			}
		}
		if !wait.sleep(ctx) {
			return false
		}
	}
}
