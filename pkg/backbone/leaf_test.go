package backbone_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// publishWhenLinked publishes the copies queued, in order, each until the
// backbone takes it, as a node's outbox does after a cut: the link may be
// up before the backbone's interest in the inbox has reached the leaf.
func publishWhenLinked(t *testing.T, c *backbone.Client, recipient string, ids []string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for _, id := range ids {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			_, err := c.PublishInbox(ctx, recipient, c.Principal().State, id, []byte(id))
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("PublishInbox(%s, %s) after the link returned = %v", recipient, id, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestLeafPublishFailsFastWhileCut publishes copies at MX, behind a leaf
// node, through its link; while the link is cut a publish fails at once
// with ErrUnavailable (the node's outbox keeps the copy), and once it
// returns the copies published again reach CA in order, exactly once, and
// a copy published twice is acknowledged as a duplicate of the first.
func TestLeafPublishFailsFastWhileCut(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA")
	ca := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("CA"))
	got := make(chan backbone.Msg, 100)
	consume(t, ca, collect(got))

	var ids []string
	for i := range 5 {
		ids = append(ids, fmt.Sprintf("b%03d", i))
	}
	publishWhenLinked(t, e.mx, "CA", ids)
	expectNext(t, got, ids...)
	first := publish(t, e.mx, "CA", "b002", []byte("b002"))
	if first.Stream != backbone.InboxStream || !first.Duplicate {
		t.Errorf("publishing b002 again = %+v, want a duplicate in %s", first, backbone.InboxStream)
	}

	e.cut(t)
	var queued []string
	for i := 5; i < 25; i++ {
		id := fmt.Sprintf("b%03d", i)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		_, err := e.mx.PublishInbox(ctx, "CA", "MX", id, []byte(id))
		cancel()
		if !errors.Is(err, backbone.ErrUnavailable) {
			t.Fatalf("PublishInbox(%s) during the cut = %v, want ErrUnavailable", id, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("PublishInbox(%s) during the cut took %s, want a fast failure", id, d)
		}
		queued = append(queued, id)
	}
	if e.mx.LeafConnected() {
		t.Fatal("MX's leaf node linked again during the cut: it went around the proxy")
	}

	e.link.Restore()
	waitFor(t, "MX's leaf node linked", e.mx.LeafConnected)
	publishWhenLinked(t, e.mx, "CA", queued)
	delivered := expectNext(t, got, queued...)
	// A sentinel published after the others arrives next: nothing was
	// stored twice in between.
	publish(t, e.mx, "CA", "sentinel", []byte("end"))
	expectNext(t, got, "sentinel")
	t.Logf("published %d (20 refused during the cut and published again after), delivered %d, duplicated 0, lost 0",
		len(ids)+len(queued), len(ids)+len(delivered))
}

// TestLeafHandsOverTheOldOutbox leaves copies in the outbox stream an
// earlier version kept in the leaf's own JetStream: the next client hands
// them over in queue order (the node stores them in its own outbox) and
// removes the stream; a failed hand-over keeps them.
func TestLeafHandsOverTheOldOutbox(t *testing.T) {
	e := newLeafEnv(t, "MX", "CA")
	raw, err := backbone.LeafConn(e.mx)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	local, err := jetstream.New(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// As the earlier version made it.
	if _, err := local.CreateStream(ctx, jetstream.StreamConfig{Name: "IANT_OUTBOX", Subjects: []string{"iant.outbox.>"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	var want []backbone.LegacyCopy
	for i, r := range []string{"CA", "US", "CA"} {
		c := backbone.LegacyCopy{Recipient: r, Origin: "MX", ID: fmt.Sprintf("old%d", i), Data: []byte{byte(i)}}
		if _, err := local.Publish(ctx, "iant.outbox."+r+".MX."+c.ID, c.Data); err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	if _, err := e.mx.TakeLegacyOutbox(ctx, func([]backbone.LegacyCopy) error { return errors.New("disk full") }); err == nil {
		t.Fatal("TakeLegacyOutbox with a failing take = nil error")
	}
	var got []backbone.LegacyCopy
	n, err := e.mx.TakeLegacyOutbox(ctx, func(cs []backbone.LegacyCopy) error { got = cs; return nil })
	if err != nil || n != 3 {
		t.Fatalf("TakeLegacyOutbox() = %d, %v; want 3", n, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("copies handed over (-want +got):\n%s", diff)
	}
	if _, err := local.Stream(ctx, "IANT_OUTBOX"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("old outbox stream after the hand-over: %v, want it removed", err)
	}
	if n, err := e.mx.TakeLegacyOutbox(ctx, func([]backbone.LegacyCopy) error { t.Error("handed over again"); return nil }); err != nil || n != 0 {
		t.Errorf("TakeLegacyOutbox() again = %d, %v; want 0", n, err)
	}
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

	var before, during []string
	for i := range 20 {
		id := fmt.Sprintf("c%03d", i)
		if i < 5 {
			before = append(before, id)
		} else {
			during = append(during, id)
		}
	}
	publishWhenLinked(t, mx, "CA", before)
	for _, l := range links {
		l.Cut()
	}
	waitFor(t, "MX's leaf node unlinked", func() bool { return !mx.LeafConnected() })
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := mx.PublishInbox(ctx, "CA", "MX", during[0], []byte(during[0])); !errors.Is(err, backbone.ErrUnavailable) {
		t.Fatalf("PublishInbox during the cut of all links = %v, want ErrUnavailable", err)
	}
	for _, l := range links {
		l.Restore()
	}
	waitFor(t, "MX's leaf node linked", mx.LeafConnected)
	publishWhenLinked(t, mx, "CA", during)
	delivered := expectNext(t, got, append(before, during...)...)
	publish(t, mx, "CA", "sentinel", []byte("end"))
	expectNext(t, got, "sentinel")
	t.Logf("published 20 (15 held back by the cut of all three links), delivered %d, duplicated 0, lost 0", len(delivered))
}
