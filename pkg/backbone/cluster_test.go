package backbone_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// cluster is a three-server backbone with R3 streams.
type cluster struct {
	ca   *identitytest.CA
	cfgs []backbone.ServerConfig
	srvs []*backbone.Server
}

func startCluster(t *testing.T, states ...string) *cluster {
	t.Helper()
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{backbonetest.Secretariat}
	for _, s := range states {
		nodes = append(nodes, backbonetest.Node(s))
	}
	cfgs := backbonetest.ClusterConfigs(t, ca, 3, nodes...)
	return &cluster{ca: ca, cfgs: cfgs, srvs: backbonetest.StartCluster(t, cfgs)}
}

// connect connects p to every server of the cluster, with R3 provisioning.
func (c *cluster) connect(t *testing.T, p identity.Principal) *backbone.Client {
	t.Helper()
	cfg := backbonetest.ClientConfig(t, c.ca, c.srvs[0], p)
	cfg.URLs = backbonetest.ClusterURLs(c.srvs...)
	cfg.Replicas = 3
	return backbonetest.ConnectConfig(t, cfg)
}

// TestClusterSurvivesServerLoss publishes copies into an R3 inbox while one
// of the three servers is shut down and later restarted: every copy
// acknowledged to the publisher is delivered to the recipient exactly once
// and in order.
func TestClusterSurvivesServerLoss(t *testing.T) {
	c := startCluster(t, "MX", "CA")
	sec := c.connect(t, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	if err := sec.Provision(ctx, []string{"MX", "CA"}); err != nil {
		t.Fatalf("Provision R3: %v", err)
	}
	mx := c.connect(t, backbonetest.Node("MX"))
	ca := c.connect(t, backbonetest.Node("CA"))
	got := make(chan backbone.Msg, 200)
	consume(t, ca, collect(got))

	const total = 60
	var acked []string
	for i := range total {
		if i == total/3 {
			// Stop the seed: its clients move to the other two servers,
			// and whatever it led is elected again among them.
			_ = c.srvs[0].Close()
		}
		if i == 2*total/3 {
			c.srvs[0] = backbonetest.StartServerConfig(t, c.cfgs[0])
		}
		id := fmt.Sprintf("b%03d", i)
		pctx, pcancel := context.WithTimeout(context.Background(), 3*wait)
		_, err := mx.PublishInbox(pctx, "CA", "MX", id, []byte(id))
		pcancel()
		if err != nil {
			t.Logf("publish %s not acknowledged: %v", id, err)
			continue
		}
		acked = append(acked, id)
	}
	if len(acked) < total*9/10 {
		t.Fatalf("only %d of %d publishes acknowledged with two of three servers up", len(acked), total)
	}
	// A copy in flight to the recipient when its consumer's leader died is
	// redelivered only after AckWait (its ack may have been lost): the
	// inbox waits for it, so the first delivery may take that long.
	seen := map[string]int{}
	for _, want := range acked {
		var m backbone.Msg
		select {
		case m = <-got:
		case <-time.After(backbone.AckWait + wait):
			t.Fatalf("no copy delivered within %s (AckWait + %s); delivered so far %d of %d", backbone.AckWait+wait, wait, len(seen), len(acked))
		}
		seen[m.ID]++
		if m.ID != want {
			t.Fatalf("delivered %q, want %q next (in publish order)", m.ID, want)
		}
	}
	select {
	case m := <-got:
		t.Fatalf("extra delivery %q (seq %d) after all %d acknowledged copies", m.ID, m.StreamSeq, len(acked))
	case <-time.After(500 * time.Millisecond):
	}
	t.Logf("published %d, acknowledged %d, delivered %d, duplicated 0, lost 0", total, len(acked), len(seen))
}

// TestClusterRefusesUnlistedPeer starts a fourth server whose SVID is valid
// in the trust domain but not one of the cluster's peers: it gets no route.
func TestClusterRefusesUnlistedPeer(t *testing.T) {
	c := startCluster(t, "MX")
	if n := c.srvs[0].NumRoutes(); n < 2 {
		t.Fatalf("seed has %d routes, want at least 2 (to its peers)", n)
	}
	intruder := backbonetest.Config(t, c.ca, backbonetest.Secretariat)
	intruder.Name = "hub-9"
	intruder.SVID = c.ca.SVID(t, backbonetest.HubPeer(9))
	intruder.Cluster = &backbone.ClusterConfig{
		Name: "iant", Port: -1, Routes: []string{c.srvs[0].RouteURL()},
		// It even lists itself and the members as peers: the members'
		// lists are what count.
		Peers: append(append([]spiffeid.ID{}, c.cfgs[0].Cluster.Peers...), backbonetest.HubPeer(9).ID(c.ca.TD)),
	}
	srv := backbonetest.StartServerConfig(t, intruder)
	// The members formed their routes in milliseconds; give the intruder
	// far longer than that.
	time.Sleep(2 * time.Second)
	if n := srv.NumRoutes(); n != 0 {
		t.Errorf("unlisted server has %d routes, want 0", n)
	}
}
