// Package backbonetest runs a real embedded backbone server in the test
// process (JetStream on a t.TempDir store, a random port, real mTLS with
// SVIDs from [identitytest.CA]) and connects node clients to it.
//
//	ca := identitytest.NewCA(t, "iant.test")
//	srv := backbonetest.StartServer(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"), backbonetest.Node("CA"))
//	backbonetest.Provision(t, ca, srv, "MX", "CA")
//	mx := backbonetest.Connect(t, ca, srv, backbonetest.Node("MX"))
//
// Everything is stopped by t.Cleanup.
package backbonetest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/testenv/linkcut"
)

// Timeout bounds each helper's work (start, connect, provision).
const Timeout = 10 * time.Second

// Secretariat is the secretariat node principal the helpers use.
var Secretariat = identity.Principal{Role: identity.RoleSecretariatNode, Name: "secretariat"}

// ServerPrincipal is the identity of the test server's own SVID. It is not
// a configured node, so it cannot connect as a client.
var ServerPrincipal = identity.Principal{Role: identity.RoleSecretariatNode, Name: "backbone"}

// Node returns the node principal of state, named "node".
func Node(state string) identity.Principal {
	return identity.Principal{State: state, Role: identity.RoleNode, Name: "node"}
}

// Logger returns a debug logger that keeps what it logs in memory and
// writes it to the test log only if tb has failed by cleanup time, so a
// flaky failure comes with its story and a passing test stays quiet.
func Logger(tb testing.TB) *slog.Logger {
	tb.Helper()
	buf := &lockedBuffer{}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("backbone log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Config returns a server config with a random port, a fresh t.TempDir
// store, the given nodes as the only allowed nodes, the test inspector
// ([InspectorID]) and a [Logger].
func Config(tb testing.TB, ca *identitytest.CA, nodes ...identity.Principal) backbone.ServerConfig {
	tb.Helper()
	ids := make([]spiffeid.ID, len(nodes))
	for i, p := range nodes {
		ids[i] = p.ID(ca.TD)
	}
	return backbone.ServerConfig{
		Port:        -1,
		StoreDir:    tb.TempDir(),
		TrustDomain: ca.TD,
		SVID:        ca.SVID(tb, ServerPrincipal),
		Bundle:      ca.Bundle(),
		Nodes:       ids,
		Inspectors:  []spiffeid.ID{InspectorID(ca.TD)},
		Logger:      Logger(tb).With("component", "server"),
	}
}

// StartServer starts a server allowing nodes, waits until it is ready and
// registers its shutdown with tb.Cleanup.
func StartServer(tb testing.TB, ca *identitytest.CA, nodes ...identity.Principal) *backbone.Server {
	tb.Helper()
	return StartServerConfig(tb, Config(tb, ca, nodes...))
}

// StartServerConfig starts a server from cfg (see [Config]) and registers
// its shutdown with tb.Cleanup. Starting twice from one config restarts
// the backbone on the same store.
func StartServerConfig(tb testing.TB, cfg backbone.ServerConfig) *backbone.Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	srv, err := backbone.StartServer(ctx, cfg)
	if err != nil {
		tb.Fatalf("backbone.StartServer: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// ClientConfig returns the client config of principal p on srv, with an
// SVID minted by ca, a short retry delay and a [Logger].
func ClientConfig(tb testing.TB, ca *identitytest.CA, srv *backbone.Server, p identity.Principal) backbone.ClientConfig {
	tb.Helper()
	return backbone.ClientConfig{
		URLs:        []string{srv.ClientURL()},
		TrustDomain: ca.TD,
		SVID:        ca.SVID(tb, p),
		Bundle:      ca.Bundle(),
		RetryDelay:  50 * time.Millisecond,
		Logger:      Logger(tb).With("peer", p.String()),
	}
}

// LeafClientConfig returns the client config of state node p running
// behind its own leaf node, linked to the backbone's leaf node URLs
// hubLeafURLs (see [backbone.Server.LeafURL], or a [linkcut.Proxy] in
// front of it), with the leaf's store in a fresh tb.TempDir.
func LeafClientConfig(tb testing.TB, ca *identitytest.CA, p identity.Principal, hubLeafURLs ...string) backbone.ClientConfig {
	tb.Helper()
	return backbone.ClientConfig{
		TrustDomain: ca.TD,
		SVID:        ca.SVID(tb, p),
		Bundle:      ca.Bundle(),
		RetryDelay:  50 * time.Millisecond,
		Logger:      Logger(tb).With("peer", p.String()),
		Leaf:        &backbone.LeafConfig{HubURLs: hubLeafURLs, StoreDir: tb.TempDir()},
	}
}

// LinkProxy starts a [linkcut.Proxy] to target (e.g. a server's
// [backbone.Server.LeafURL]) that the test can cut and restore, closed by
// tb.Cleanup.
func LinkProxy(tb testing.TB, target string) *linkcut.Proxy {
	tb.Helper()
	p, err := linkcut.New(target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// Connect connects principal p to srv and registers Close with tb.Cleanup.
func Connect(tb testing.TB, ca *identitytest.CA, srv *backbone.Server, p identity.Principal) *backbone.Client {
	tb.Helper()
	return ConnectConfig(tb, ClientConfig(tb, ca, srv, p))
}

// ConnectConfig connects with cfg and registers Close with tb.Cleanup.
func ConnectConfig(tb testing.TB, cfg backbone.ClientConfig) *backbone.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	c, err := backbone.Connect(ctx, cfg)
	if err != nil {
		tb.Fatalf("backbone.Connect: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Provision connects as [Secretariat] (which srv must allow), provisions
// the inbox stream and the consumers of states, and returns the client.
func Provision(tb testing.TB, ca *identitytest.CA, srv *backbone.Server, states ...string) *backbone.Client {
	tb.Helper()
	sec := Connect(tb, ca, srv, Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := sec.Provision(ctx, states); err != nil {
		tb.Fatalf("Provision(%v): %v", states, err)
	}
	return sec
}

// DialNATS opens a plain nats.go connection to srv presenting svid, for
// tests that probe the server's checks below the [backbone.Client] API. The
// reply prefix is the one of state (see [backbone.ReplyPrefix]). A
// successful connection is closed by tb.Cleanup.
func DialNATS(tb testing.TB, ca *identitytest.CA, srv *backbone.Server, svid *x509svid.SVID, state string, opts ...nats.Option) (*nats.Conn, error) {
	tb.Helper()
	conf := tlsconfig.MTLSClientConfig(svid, ca.Bundle(), tlsconfig.AuthorizeMemberOf(ca.TD))
	all := append([]nats.Option{
		nats.Secure(conf),
		nats.Timeout(Timeout),
		nats.CustomInboxPrefix(backbone.ReplyPrefix(state)),
		nats.NoReconnect(),
	}, opts...)
	nc, err := nats.Connect(srv.ClientURL(), all...)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(nc.Close)
	return nc, nil
}

// HubPeer returns the SPIFFE principal of cluster member i (from 1), a
// secretariat node named "hub-<i>".
func HubPeer(i int) identity.Principal {
	return identity.Principal{Role: identity.RoleSecretariatNode, Name: fmt.Sprintf("hub-%d", i)}
}

// ClusterConfigs returns the configs of an n-server cluster named "iant"
// on loopback ports picked now (client, route and leaf node ports, so a
// server restarted from its config comes back at the same URLs), each
// with its own store and SVID ([HubPeer]), every server listing all
// routes, allowing nodes. Start them with [StartCluster].
func ClusterConfigs(tb testing.TB, ca *identitytest.CA, n int, nodes ...identity.Principal) []backbone.ServerConfig {
	tb.Helper()
	peers := make([]spiffeid.ID, n)
	routes := make([]string, n)
	ports := FreePorts(tb, 3*n)
	for i := range peers {
		peers[i] = HubPeer(i + 1).ID(ca.TD)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3*i+1])
	}
	cfgs := make([]backbone.ServerConfig, n)
	for i := range cfgs {
		cfg := Config(tb, ca, nodes...)
		cfg.Name = HubPeer(i + 1).Name
		cfg.Port = ports[3*i]
		cfg.SVID = ca.SVID(tb, HubPeer(i+1))
		cfg.Cluster = &backbone.ClusterConfig{Name: "iant", Port: ports[3*i+1], Routes: routes, Peers: peers}
		cfg.LeafNodes = &backbone.ListenConfig{Port: ports[3*i+2]}
		cfg.Logger = Logger(tb).With("component", cfg.Name)
		cfgs[i] = cfg
	}
	return cfgs
}

// FreePorts returns n distinct loopback TCP ports that were free a moment
// ago (the operating system does not hand a just-closed port out again at
// once).
func FreePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// StartCluster starts the servers of cfgs (see [ClusterConfigs]) at once
// and waits until every server's JetStream is current. Each is shut down
// by tb.Cleanup.
func StartCluster(tb testing.TB, cfgs []backbone.ServerConfig) []*backbone.Server {
	tb.Helper()
	srvs := make([]*backbone.Server, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i := range cfgs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			defer cancel()
			srvs[i], errs[i] = backbone.StartServer(ctx, cfgs[i])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if srvs[i] != nil {
			tb.Cleanup(func() { _ = srvs[i].Close() })
		}
		if err != nil {
			tb.Fatalf("backbone.StartServer(%s): %v", cfgs[i].Name, err)
		}
	}
	WaitJetStream(tb, srvs...)
	return srvs
}

// ClusterURLs returns the client URLs of srvs, for [backbone.ClientConfig].
func ClusterURLs(srvs ...*backbone.Server) []string {
	urls := make([]string, len(srvs))
	for i, s := range srvs {
		urls[i] = s.ClientURL()
	}
	return urls
}

// WaitJetStream waits until every server's JetStream is current (a meta
// leader is known and the server has caught up), or fails tb.
func WaitJetStream(tb testing.TB, srvs ...*backbone.Server) {
	tb.Helper()
	deadline := time.Now().Add(3 * Timeout)
	for _, s := range srvs {
		for !s.JetStreamReady() {
			if time.Now().After(deadline) {
				tb.Fatalf("backbone cluster: JetStream not current after %s", 3*Timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
