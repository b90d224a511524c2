package hostile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestStateNodeCannotPublishMembership: MX's compromised node, with its
// genuine SVID, publishes a membership table suspending US and a deny list
// denying US's analyst, each signed with a key of its own under the
// secretariat key's name, and then the secretariat's own genuine genesis:
// the backbone refuses every publish (permissions), so no node ever sees
// them, and nothing changes.
func TestStateNodeCannotPublishMembership(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}})
	nettest.WaitMembership(t, nw, 1, 0, "MX", "US")
	forger := forgerKey(t, nw)
	table, _ := nw.Secretariat.Membership().Table()
	suspended, err := table.Change(membership.Change{Kind: membership.Suspend, State: "US"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forgedTable, _ := suspended.Sign(forger)
	var l membership.DenyList
	l, _ = l.With(nw.TD.Name(), membership.DenyEntry{ID: testenv.Analyst("US").ID(nw.TD).String(), Reason: "forged", By: testenv.Admin().ID(nw.TD).String()}, time.Now())
	forgedDeny, _ := l.Sign(forger)

	errs := make(chan error, 16)
	src := nettest.NodeSource(t, nw, "MX")
	nc, err := nats.Connect(nw.Backbone.ClientURL(), nats.Secure(tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeMemberOf(nw.TD))),
		nats.CustomInboxPrefix(backbone.ReplyPrefix("MX")), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	for _, p := range []struct {
		subject string
		data    []byte
	}{
		{"iant.membership.table", forgedTable},
		{"iant.membership.denylist", forgedDeny},
		{"iant.membership.table", nw.Secretariat.Membership().SignedTable()},
	} {
		// The publish waits for an acknowledgement that never comes; it is
		// ended once the server has said why.
		ctx, cancel := context.WithTimeout(t.Context(), nettest.Eventually)
		done := make(chan error, 1)
		go func() { _, err := js.Publish(ctx, p.subject, p.data); done <- err }()
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), p.subject) {
				t.Errorf("publish on %s: server said %v, want a permissions violation", p.subject, err)
			}
		case <-ctx.Done():
			t.Errorf("publish on %s: no permissions violation", p.subject)
		}
		cancel()
		if err := <-done; err == nil {
			t.Errorf("MX's node published on %s", p.subject)
		}
	}
	if err := nettest.NodeBackbone(t, nw, "MX").PublishMembership(t.Context(), backbone.MembershipTable, forgedTable); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("PublishMembership by MX's node = %v, want ErrForbidden", err)
	}
	if tv, dv := nw.Node("US").Membership().Versions(); tv != 1 || dv != 0 {
		t.Errorf("US's node holds table %d, deny list %d; want 1 and none", tv, dv)
	}
	if _, err := nettest.Dial(t, nw, testenv.Analyst("US")).ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{}); err != nil {
		t.Errorf("US's analyst after the attempts: %v", err)
	}
}

// TestForgedAndReplayedMembershipIgnored: documents that reach the
// membership subjects anyway — published here with the secretariat node's
// SVID, standing for a compromised secretariat node or backbone operator —
// are ignored unless the secretariat's membership key signed them and
// they are newer than what a reader holds: a forged table reinstating JM,
// the signed genesis (replayed: it had JM active) and a signed deny list
// that an administrator has since undone. Every state node and the
// backbone log the refusal and keep their versions, across a restart too:
// the replayed genesis is then the stream's last table, and a restarted
// node still refuses it.
func TestForgedAndReplayedMembershipIgnored(t *testing.T) {
	logs := &syncBuffer{}
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "JM"},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	genesis := nw.Secretariat.Membership().SignedTable()
	admin := nettest.AdminClient(t, nw)
	if _, err := admin.ChangeMembership(t.Context(), &iantv1.ChangeMembershipRequest{Change: iantv1.MembershipChange_MEMBERSHIP_CHANGE_SUSPEND, State: "JM"}); err != nil {
		t.Fatal(err)
	}
	usAnalyst := testenv.Analyst("US").ID(nw.TD).String()
	if _, err := admin.Deny(t.Context(), &iantv1.DenyRequest{SpiffeId: usAnalyst, Reason: "mistake"}); err != nil {
		t.Fatal(err)
	}
	undone := nw.Secretariat.Membership().SignedDenyList()
	if _, err := admin.Allow(t.Context(), &iantv1.AllowRequest{SpiffeId: usAnalyst}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitMembership(t, nw, 2, 2, "MX", "US")

	forger := forgerKey(t, nw)
	table, _ := nw.Secretariat.Membership().Table()
	table.Version = 9
	for i := range table.Members {
		table.Members[i].Status = membership.Active // JM reinstated
	}
	forged, err := table.Sign(forger)
	if err != nil {
		t.Fatal(err)
	}
	sec := nettest.SecretariatBackbone(t, nw)
	for _, p := range []struct {
		doc  backbone.MembershipDoc
		data []byte
	}{{backbone.MembershipTable, forged}, {backbone.MembershipTable, genesis}, {backbone.DenyList, undone}} {
		if err := sec.PublishMembership(t.Context(), p.doc, p.data); err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range []string{"component=mx", "component=us", "component=backbone"} {
		waitLogged(t, logs, who, "membership document refused", 1)
		waitLogged(t, logs, who, "older membership document ignored", 2)
	}
	refusedJM(t, nw)
	if _, err := nettest.Dial(t, nw, testenv.Analyst("US")).ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{}); err != nil {
		t.Errorf("US's analyst after the replay of the deny list that denied it: %v", err)
	}

	// Restarted, US's node reads the replayed genesis as the latest table
	// and refuses it: it kept version 2.
	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartNode(t.Context(), "US"); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, logs, "component=us", "older membership document ignored", 4)
	if tv, dv := nw.Node("US").Membership().Versions(); tv != 2 || dv != 2 {
		t.Errorf("restarted US's node holds table %d, deny list %d; want 2 and 2", tv, dv)
	}
	refusedJM(t, nw)
}

// refusedJM checks that suspended JM's people are refused and its node
// kept off the backbone.
func refusedJM(t *testing.T, nw *testenv.Network) {
	t.Helper()
	jm := nettest.Dial(t, nw, testenv.Analyst("JM"))
	deadline := time.Now().Add(nettest.Eventually)
	for {
		// JM's node knows it is suspended (it read the table) or that the
		// backbone refuses it (it was cut off before it could read it).
		_, err := jm.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
		if status.Code(err) == codes.PermissionDenied {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("suspended JM's analyst = %v, want PermissionDenied", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ids := nw.Backbone.Connected()[testenv.NodePrincipal("JM").ID(nw.TD).String()]; len(ids) > 0 {
		t.Errorf("suspended JM's node is on the backbone (connections %v)", ids)
	}
}

// forgerKey is a note key named like the secretariat's membership key,
// which no reader is configured with.
func forgerKey(t *testing.T, nw *testenv.Network) note.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(nil, membership.KeyName(nw.TD.Name()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitLogged waits until the log holds n lines of who (a component)
// containing msg.
func waitLogged(t *testing.T, logs *syncBuffer, who, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for {
		got := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, who) && strings.Contains(line, msg) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s logged %q %d times, want %d", who, msg, got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a buffer safe for the network's concurrent loggers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
