package backbone_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/testenv/linkcut"
)

// leafEnv is a backbone with a leaf node port and provisioned inboxes, and
// MX's node behind a leaf node whose link to the backbone passes a proxy
// the test can cut.
type leafEnv struct {
	ca    *identitytest.CA
	srv   *backbone.Server
	link  *linkcut.Proxy
	mxCfg backbone.ClientConfig
	mx    *backbone.Client
}

func newLeafEnv(t *testing.T, states ...string) *leafEnv {
	t.Helper()
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{backbonetest.Secretariat}
	for _, s := range states {
		nodes = append(nodes, backbonetest.Node(s))
	}
	cfg := backbonetest.Config(t, ca, nodes...)
	// Leaf nodes must come through the proxy only, which the test cuts.
	cfg.LeafNodes = &backbone.ListenConfig{Port: -1, NoAdvertise: true}
	e := &leafEnv{ca: ca, srv: backbonetest.StartServerConfig(t, cfg)}
	backbonetest.Provision(t, ca, e.srv, states...)
	e.link = backbonetest.LinkProxy(t, e.srv.LeafURL())
	e.mxCfg = backbonetest.LeafClientConfig(t, ca, backbonetest.Node("MX"), e.link.URL())
	e.mx = backbonetest.ConnectConfig(t, e.mxCfg)
	waitFor(t, "MX's leaf node linked", e.mx.LeafConnected)
	return e
}

// cut cuts MX's link and waits until its leaf node noticed.
func (e *leafEnv) cut(t *testing.T) {
	t.Helper()
	e.link.Cut()
	waitFor(t, "MX's leaf node unlinked", func() bool { return !e.mx.LeafConnected() })
}

// waitFor polls cond until it holds, or fails the test after [wait].
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pending(t *testing.T, c *backbone.Client) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n, err := c.OutboxPending(ctx)
	if err != nil {
		t.Fatalf("OutboxPending() = %v", err)
	}
	return n
}

// TestLeafQueuesWhileCutAndForwardsInOrderOnce publishes copies at MX,
// behind a leaf node, while its link to the backbone is cut: each is
// acknowledged by the leaf, and once the link returns CA receives every
// copy, in publish order, exactly once.
func TestLeafQueuesWhileCutAndForwardsInOrderOnce(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA")
	ca := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("CA"))
	got := make(chan backbone.Msg, 100)
	consume(t, ca, collect(got))

	var posted, acked []string
	publishAll := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("b%03d", i)
			posted = append(posted, id)
			ack := publish(t, e.mx, "CA", id, []byte(id))
			if ack.Stream != backbone.OutboxStream || ack.Duplicate {
				t.Fatalf("PublishInbox(%s) = %+v, want a new copy in %s", id, ack, backbone.OutboxStream)
			}
			acked = append(acked, id)
		}
	}
	publishAll(0, 5)
	expectNext(t, got, acked...)
	waitFor(t, "outbox empty", func() bool { return pending(t, e.mx) == 0 })

	e.cut(t)
	publishAll(5, 25)
	if ack := publish(t, e.mx, "CA", "b010", []byte("b010")); !ack.Duplicate {
		t.Errorf("publishing b010 again = %+v, want Duplicate", ack)
	}
	if n := pending(t, e.mx); n != 20 {
		t.Fatalf("outbox holds %d copies during the cut, want 20", n)
	}
	if e.mx.LeafConnected() {
		t.Fatal("MX's leaf node linked again during the cut: it went around the proxy")
	}

	e.link.Restore()
	delivered := expectNext(t, got, acked[5:]...)
	// A sentinel published after the others arrives next: nothing was
	// stored twice in between.
	publish(t, e.mx, "CA", "sentinel", []byte("end"))
	expectNext(t, got, "sentinel")
	waitFor(t, "outbox empty", func() bool { return pending(t, e.mx) == 0 })
	t.Logf("posted %d (20 during the cut), acked %d, delivered %d, duplicated 0, lost 0",
		len(posted), len(acked), 5+len(delivered))
}

// TestLeafOutboxSurvivesNodeRestart queues copies during a cut, stops the
// node, restores the link and starts the node again on the same leaf
// store: the queued copies are forwarded, in order, once.
func TestLeafOutboxSurvivesNodeRestart(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA")
	ca := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("CA"))
	got := make(chan backbone.Msg, 100)
	consume(t, ca, collect(got))

	e.cut(t)
	var acked []string
	for i := range 10 {
		id := fmt.Sprintf("r%03d", i)
		publish(t, e.mx, "CA", id, []byte(id))
		acked = append(acked, id)
	}
	if err := e.mx.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	e.link.Restore()
	e.mx = backbonetest.ConnectConfig(t, e.mxCfg)
	delivered := expectNext(t, got, acked...)
	publish(t, e.mx, "CA", "sentinel", []byte("end"))
	expectNext(t, got, "sentinel")
	t.Logf("posted %d during the cut, acked %d, node restarted, delivered %d, duplicated 0, lost 0",
		len(acked), len(acked), len(delivered))
}

// TestLeafKeepsDirectoryEntriesForCuts reads CA's directory entry through
// MX's leaf node; during a cut the same entry is returned from the leaf,
// while a state never read has none to fall back on.
func TestLeafKeepsDirectoryEntriesForCuts(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA", "US")
	ca := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("CA"))
	us := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("US"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, c := range []*backbone.Client{ca, us} {
		if err := c.PublishDirectoryEntry(ctx, []byte("entry of "+c.Principal().State)); err != nil {
			t.Fatal(err)
		}
	}
	want, err := e.mx.DirectoryEntry(ctx, "CA")
	if err != nil || string(want) != "entry of CA" {
		t.Fatalf("DirectoryEntry(CA) with the link up = %q, %v", want, err)
	}
	e.cut(t)
	if got, err := e.mx.DirectoryEntry(ctx, "CA"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("DirectoryEntry(CA) during the cut = %q, %v, want the kept %q", got, err, want)
	}
	if got, err := e.mx.DirectoryEntry(ctx, "US"); err == nil || errors.Is(err, backbone.ErrNoEntry) {
		t.Errorf("DirectoryEntry(US) during the cut, never read before = %q, %v, want an unavailable error", got, err)
	}
}

// TestLeafLinkCarriesOnlyTheNodesPermissions probes the backbone through
// MX's leaf node with a plain connection: the leaf's link carries MX's
// node permissions, so a copy published as another origin, a pull from
// CA's consumer, a new consumer on CA's inbox and a subscription to the
// inbox subjects all fail at the backbone.
func TestLeafLinkCarriesOnlyTheNodesPermissions(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA", "US")
	ca := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("CA"))
	us := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("US"))
	raw, err := backbone.LeafConn(e.mx)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	hub, err := jetstream.NewWithDomain(raw, backbone.HubDomain)
	if err != nil {
		t.Fatal(err)
	}
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 2*time.Second)
	}
	// roundTrip crosses the link and back with a request MX may make.
	roundTrip := func() {
		t.Helper()
		ctx, cancel := short()
		defer cancel()
		if _, err := hub.Consumer(ctx, backbone.InboxStream, backbone.InboxConsumer("MX")); err != nil {
			t.Fatalf("MX's own consumer info through the leaf = %v", err)
		}
	}
	roundTrip()
	sniff, err := raw.SubscribeSync("iant.inbox.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}
	roundTrip() // the backbone has seen (and refused) the subscription

	ctx, cancel := short()
	_, err = hub.Publish(ctx, backbone.InboxSubject("CA", "US", "spoof"), []byte("spoof"))
	cancel()
	if err == nil {
		t.Error("publish as origin US through MX's leaf succeeded")
	}
	ctx, cancel = short()
	_, err = hub.Consumer(ctx, backbone.InboxStream, backbone.InboxConsumer("CA"))
	cancel()
	if err == nil {
		t.Error("CA's consumer info through MX's leaf succeeded")
	}
	pull := fmt.Sprintf(`{"batch":1,"expires":%d}`, (30 * time.Second).Nanoseconds())
	if _, err := raw.Request("$JS.hub.API.CONSUMER.MSG.NEXT."+backbone.InboxStream+"."+backbone.InboxConsumer("CA"), []byte(pull), 2*time.Second); err == nil {
		t.Error("pull from CA's consumer through MX's leaf answered")
	}
	ctx, cancel = short()
	_, err = hub.CreateOrUpdateConsumer(ctx, backbone.InboxStream, jetstream.ConsumerConfig{Durable: "sniff", FilterSubject: "iant.inbox.CA.>"})
	cancel()
	if err == nil {
		t.Error("consumer on CA's inbox created through MX's leaf")
	}

	// CA's next copy is US's real one: the spoof was never stored, and no
	// pull request of MX's is waiting at CA's consumer to take it.
	got := make(chan backbone.Msg, 10)
	consume(t, ca, collect(got))
	publish(t, us, "CA", "real", []byte("real"))
	if m := next(t, got); m.ID != "real" || m.Origin != "US" {
		t.Errorf("CA received %s from %s, want US's real copy", m.ID, m.Origin)
	}
	roundTrip()
	// The sniffer sees the spoof, published at its own leaf, and nothing
	// from the backbone.
	for {
		m, err := sniff.NextMsg(0)
		if err != nil {
			break
		}
		if m.Subject != backbone.InboxSubject("CA", "US", "spoof") {
			t.Errorf("the leaf received %s on a subscription MX may not hold", m.Subject)
		}
	}
}

// TestLeafLinksToACluster runs MX behind a leaf node linked to all three
// servers of an R3 cluster through proxies, cuts every link, posts, and
// restores them: CA, connected to the cluster, receives every copy in
// order, once.
func TestLeafLinksToACluster(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	cfgs := backbonetest.ClusterConfigs(t, ca, 3, backbonetest.Secretariat, backbonetest.Node("MX"), backbonetest.Node("CA"))
	for _, cfg := range cfgs {
		cfg.LeafNodes.NoAdvertise = true // leaf nodes come through the proxies only
	}
	c := &cluster{ca: ca, cfgs: cfgs, srvs: backbonetest.StartCluster(t, cfgs)}
	sec := c.connect(t, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	if err := sec.Provision(ctx, []string{"MX", "CA"}); err != nil {
		t.Fatalf("Provision R3: %v", err)
	}
	var links []*linkcut.Proxy
	var urls []string
	for _, s := range c.srvs {
		l := backbonetest.LinkProxy(t, s.LeafURL())
		links = append(links, l)
		urls = append(urls, l.URL())
	}
	mx := backbonetest.ConnectConfig(t, backbonetest.LeafClientConfig(t, c.ca, backbonetest.Node("MX"), urls...))
	waitFor(t, "MX's leaf node linked", mx.LeafConnected)
	caNode := c.connect(t, backbonetest.Node("CA"))
	got := make(chan backbone.Msg, 100)
	consume(t, caNode, collect(got))

	var acked []string
	for i := range 20 {
		if i == 5 {
			for _, l := range links {
				l.Cut()
			}
			waitFor(t, "MX's leaf node unlinked", func() bool { return !mx.LeafConnected() })
		}
		if i == 15 {
			for _, l := range links {
				l.Restore()
			}
		}
		id := fmt.Sprintf("c%03d", i)
		publish(t, mx, "CA", id, []byte(id))
		acked = append(acked, id)
	}
	delivered := expectNext(t, got, acked...)
	publish(t, mx, "CA", "sentinel", []byte("end"))
	expectNext(t, got, "sentinel")
	t.Logf("posted 20 (10 during the cut of all three links), acked %d, delivered %d, duplicated 0, lost 0", len(acked), len(delivered))
}
