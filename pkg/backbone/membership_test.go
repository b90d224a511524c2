package backbone_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

// govEnv is a backbone applying the documents signed by signer.
type govEnv struct {
	*env
	signer note.Signer
	table  membership.Table
	deny   membership.DenyList
}

// newGovEnv starts a server configured with nodes of states (and the
// secretariat) and the verifier key of a fresh membership key, provisions
// the inboxes of provision and the membership stream, and publishes the
// genesis table of states.
func newGovEnv(t *testing.T, states, provision []string, leaf bool) *govEnv {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, membership.KeyName("iant.test"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{backbonetest.Secretariat}
	for _, s := range states {
		nodes = append(nodes, backbonetest.Node(s))
	}
	cfg := backbonetest.Config(t, ca, nodes...)
	cfg.MembershipKey = vkey
	if leaf {
		cfg.LeafNodes = &backbone.ListenConfig{Port: -1}
	}
	e := &govEnv{env: &env{ca: ca, cfg: cfg, srv: backbonetest.StartServerConfig(t, cfg)}, signer: signer}
	e.sec = backbonetest.Provision(t, ca, e.srv, provision...)
	if err := e.sec.ProvisionMembership(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.table, err = membership.Genesis("iant.test", states, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.publishTable(t, e.table)
	return e
}

func (e *govEnv) publishTable(t *testing.T, tb membership.Table) {
	t.Helper()
	data, err := tb.Sign(e.signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sec.PublishMembership(t.Context(), backbone.MembershipTable, data); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "table applied", func() bool { v, _ := e.srv.MembershipVersions(); return v >= tb.Version })
}

func (e *govEnv) change(t *testing.T, c membership.Change) {
	t.Helper()
	next, err := e.table.Change(c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.table = next
	e.publishTable(t, next)
}

func (e *govEnv) denyEntry(t *testing.T, entry membership.DenyEntry) {
	t.Helper()
	entry.Reason, entry.By = "test", "spiffe://iant.test/secretariat/admin/admin"
	next, err := e.deny.With("iant.test", entry, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.publishDeny(t, next)
}

func (e *govEnv) publishDeny(t *testing.T, l membership.DenyList) {
	t.Helper()
	e.deny = l
	data, err := l.Sign(e.signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sec.PublishMembership(t.Context(), backbone.DenyList, data); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deny list applied", func() bool { _, v := e.srv.MembershipVersions(); return v >= l.Version })
}

// watched is a plain connection of one SVID that counts its disconnects.
type watched struct {
	nc    *nats.Conn
	drops atomic.Int32
}

func dialWatched(t *testing.T, e *env, p identity.Principal) (*watched, error) {
	t.Helper()
	w := &watched{}
	nc, err := backbonetest.DialNATS(t, e.ca, e.srv, e.ca.SVID(t, p), p.State,
		nats.DisconnectErrHandler(func(*nats.Conn, error) { w.drops.Add(1) }))
	w.nc = nc
	return w, err
}

// TestMembershipReload adds a state to a running backbone, suspends and
// reinstates it: its node becomes a user and loses it by configuration
// reload, its open connection is cut at suspension, and the other nodes'
// connections are never dropped.
func TestMembershipReload(t *testing.T) {
	t.Parallel()
	e := newGovEnv(t, []string{"MX", "US"}, []string{"MX", "US", "BR"}, false)
	mx, err := dialWatched(t, e.env, backbonetest.Node("MX"))
	if err != nil {
		t.Fatalf("MX connects: %v", err)
	}
	if _, err := dialWatched(t, e.env, backbonetest.Node("BR")); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("BR connects before it is added: %v, want an authorization violation", err)
	}

	e.change(t, membership.Change{Kind: membership.Add, State: "BR", Region: region.SouthAmerica})
	br := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("BR"))
	ack, err := br.PublishInbox(t.Context(), "MX", "BR", "added", []byte("copy"))
	if err != nil || ack.Seq == 0 {
		t.Fatalf("BR publishes once added: %v", err)
	}

	raw, err := dialWatched(t, e.env, backbonetest.Node("BR"))
	if err != nil {
		t.Fatal(err)
	}
	e.change(t, membership.Change{Kind: membership.Suspend, State: "BR"})
	waitFor(t, "BR's connection cut at suspension", func() bool { return raw.nc.IsClosed() })
	if _, err := dialWatched(t, e.env, backbonetest.Node("BR")); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("BR connects while suspended: %v, want an authorization violation", err)
	}
	e.change(t, membership.Change{Kind: membership.Reinstate, State: "BR"})
	if _, err := dialWatched(t, e.env, backbonetest.Node("BR")); err != nil {
		t.Errorf("BR connects once reinstated: %v", err)
	}
	// The BR client reconnects by itself (it never gives up on refusals).
	if _, err := br.PublishInbox(t.Context(), "MX", "BR", "again", []byte("copy 2")); err != nil {
		t.Errorf("BR's client publishes again after reinstatement: %v", err)
	}
	if n := mx.drops.Load(); n != 0 || !mx.nc.IsConnected() {
		t.Errorf("MX's connection dropped %d times across three reloads, want never", n)
	}
}

// TestDenyCutsConnections denies a node's certificate by serial and a
// node by SPIFFE ID: their open connections are cut, leaf node links
// included, and they are refused on reconnecting; a replayed older
// document changes nothing; the other nodes stay connected.
func TestDenyCutsConnections(t *testing.T) {
	t.Parallel()
	e := newGovEnv(t, []string{"MX", "US", "CA"}, []string{"MX", "US", "CA"}, true)
	mx, err := dialWatched(t, e.env, backbonetest.Node("MX"))
	if err != nil {
		t.Fatal(err)
	}
	stolen := e.ca.SVID(t, backbonetest.Node("US"))
	usStolen, err := backbonetest.DialNATS(t, e.ca, e.srv, stolen, "US")
	if err != nil {
		t.Fatal(err)
	}
	caLeaf := backbonetest.ConnectConfig(t, backbonetest.LeafClientConfig(t, e.ca, backbonetest.Node("CA"), e.srv.LeafURL()))
	waitFor(t, "CA's leaf linked", caLeaf.LeafConnected)

	// The stolen certificate, by serial: cut and refused; US's node with a
	// new certificate is fine.
	e.denyEntry(t, membership.DenyEntry{Serial: membership.SerialString(stolen.Certificates[0].SerialNumber)})
	waitFor(t, "stolen certificate's connection cut", usStolen.IsClosed)
	if _, err := backbonetest.DialNATS(t, e.ca, e.srv, stolen, "US"); err == nil {
		t.Error("the denied certificate connects again")
	}
	if _, err := dialWatched(t, e.env, backbonetest.Node("US")); err != nil {
		t.Errorf("US's node with a new certificate: %v", err)
	}

	// CA's node by ID: its leaf node link is cut and stays refused.
	e.denyEntry(t, membership.DenyEntry{ID: backbonetest.Node("CA").ID(e.ca.TD).String()})
	waitFor(t, "CA's leaf link cut", func() bool { return !caLeaf.LeafConnected() })

	// A replayed older deny list (version 1, without CA) is ignored.
	older, err := membership.DenyList{}.With("iant.test", membership.DenyEntry{
		Serial: membership.SerialString(stolen.Certificates[0].SerialNumber), Reason: "test", By: "spiffe://iant.test/secretariat/admin/admin"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := older.Sign(e.signer)
	if err := e.sec.PublishMembership(t.Context(), backbone.DenyList, data); err != nil {
		t.Fatal(err)
	}
	// A forged list (another key) denying MX is refused.
	skey, _, _ := note.GenerateKey(nil, membership.KeyName("iant.test"))
	forger, _ := note.NewSigner(skey)
	forged, _ := e.deny.With("iant.test", membership.DenyEntry{ID: backbonetest.Node("MX").ID(e.ca.TD).String(), Reason: "x",
		By: "spiffe://iant.test/secretariat/admin/admin"}, time.Now())
	data, _ = forged.Sign(forger)
	if err := e.sec.PublishMembership(t.Context(), backbone.DenyList, data); err != nil {
		t.Fatal(err)
	}
	// Both were read (the server hears each publish); a marker published
	// after them shows they were processed and changed nothing.
	e.denyEntry(t, membership.DenyEntry{Serial: "abcdef"})
	if _, v := e.srv.MembershipVersions(); v != 3 {
		t.Errorf("deny list version applied %d, want 3", v)
	}
	if caLeaf.LeafConnected() {
		t.Error("CA's leaf is linked again after the replay of an older deny list")
	}
	if n := mx.drops.Load(); n != 0 || !mx.nc.IsConnected() {
		t.Errorf("MX's connection dropped %d times, want never", n)
	}

	// Allowed again (a mistaken denial): CA's leaf links again by itself.
	allowed, err := e.deny.Without("iant.test", backbonetest.Node("CA").ID(e.ca.TD).String(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.publishDeny(t, allowed)
	waitFor(t, "CA's leaf linked again", caLeaf.LeafConnected)
}

// TestStateNodeCannotPublishMembership: a state node holds no right to
// publish either document, nor to change the stream.
func TestStateNodeCannotPublishMembership(t *testing.T) {
	t.Parallel()
	e := newGovEnv(t, []string{"MX"}, []string{"MX"}, false)
	mx := dialProbe(t, e.env, backbonetest.Node("MX"))
	genuine, err := e.table.Sign(e.signer)
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"iant.membership.table", "iant.membership.denylist"} {
		mx.denied(t, subj, func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, subj, genuine)
			return err
		})
	}
	mx.denied(t, "$JS.API.STREAM.PURGE.IANT_MEMBERSHIP", request(mx, "$JS.API.STREAM.PURGE.IANT_MEMBERSHIP", "{}"))
	mx.denied(t, "$JS.API.STREAM.UPDATE.IANT_MEMBERSHIP", func(ctx context.Context) error {
		_, err := mx.js.UpdateStream(ctx, jetstream.StreamConfig{Name: backbone.MembershipStream, Subjects: []string{"iant.membership.*"}, DenyDelete: false})
		return err
	})
	c := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("MX"))
	if err := c.PublishMembership(t.Context(), backbone.MembershipTable, genuine); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("PublishMembership by a state node = %v, want ErrForbidden", err)
	}
	// Reading is allowed: the node gets the genesis the secretariat published.
	got, err := c.LatestMembership(t.Context(), backbone.MembershipTable)
	if err != nil || !bytes.Equal(got, genuine) {
		t.Errorf("LatestMembership = %v, want the genesis", err)
	}
}

// TestMembershipOnCluster: each server of a three-server cluster applies
// the documents by itself (its own watcher, its own reload), so a state
// added is admitted at every server.
func TestMembershipOnCluster(t *testing.T) {
	t.Parallel()
	skey, vkey, err := note.GenerateKey(nil, membership.KeyName("iant.test"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	ca := identitytest.NewCA(t, "iant.test")
	cfgs := backbonetest.ClusterConfigs(t, ca, 3, backbonetest.Secretariat, backbonetest.Node("MX"))
	for i := range cfgs {
		cfgs[i].MembershipKey = vkey
	}
	c := &cluster{ca: ca, cfgs: cfgs, srvs: backbonetest.StartCluster(t, cfgs)}
	sec := c.connect(t, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(t.Context(), 3*wait)
	defer cancel()
	if err := sec.Provision(ctx, []string{"MX", "BR"}); err != nil {
		t.Fatal(err)
	}
	if err := sec.ProvisionMembership(ctx); err != nil {
		t.Fatal(err)
	}
	g, _ := membership.Genesis("iant.test", []string{"MX"}, time.Now())
	tb, err := g.Change(membership.Change{Kind: membership.Add, State: "BR", Region: region.SouthAmerica}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := tb.Sign(signer)
	if err := sec.PublishMembership(ctx, backbone.MembershipTable, data); err != nil {
		t.Fatal(err)
	}
	for i, srv := range c.srvs {
		waitFor(t, "table applied at every server", func() bool { v, _ := srv.MembershipVersions(); return v == 2 })
		e := &env{ca: ca, srv: srv}
		if _, err := dialWatched(t, e, backbonetest.Node("BR")); err != nil {
			t.Errorf("BR connects to server %d: %v", i+1, err)
		}
	}
}

// TestReloadLeavesReadsAlone reads a directory entry in a tight loop while
// the server reloads its users ten times: a reload leaves the account's
// JetStream API unanswered for a moment, and a read must ride it out.
func TestReloadLeavesReadsAlone(t *testing.T) {
	t.Parallel()
	e := newGovEnv(t, []string{"MX", "US"}, []string{"MX", "US", "BR"}, false)
	mx := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("MX"))
	if err := backbonetest.Connect(t, e.ca, e.srv, backbonetest.Node("US")).PublishDirectoryEntry(t.Context(), []byte("entry")); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	var reads, failed atomic.Int32
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := mx.DirectoryEntry(t.Context(), "US"); err != nil {
				failed.Add(1)
				t.Errorf("directory read during a reload: %v", err)
			}
			reads.Add(1)
		}
	}()
	e.change(t, membership.Change{Kind: membership.Add, State: "BR", Region: region.SouthAmerica})
	for i := range 9 {
		kind := membership.Suspend
		if i%2 == 1 {
			kind = membership.Reinstate
		}
		e.change(t, membership.Change{Kind: kind, State: "BR"})
	}
	close(stop)
	<-done
	t.Logf("%d directory reads across 10 reloads, %d failed", reads.Load(), failed.Load())
}
