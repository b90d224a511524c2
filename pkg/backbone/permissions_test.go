package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// probe is a plain nats.go connection of one principal that records the
// server's asynchronous errors (permission violations).
type probe struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

func dialProbe(t *testing.T, e *env, p identity.Principal) *probe {
	t.Helper()
	return dialProbeSVID(t, e, e.ca.SVID(t, p), p.State)
}

// dialProbeSVID is dialProbe with svid, replying below the prefix of state
// unless opts choose another.
func dialProbeSVID(t *testing.T, e *env, svid *x509svid.SVID, state string, opts ...nats.Option) *probe {
	t.Helper()
	errs := make(chan error, 64)
	nc, err := backbonetest.DialNATS(t, e.ca, e.srv, svid, state, append([]nats.Option{
		nats.PermissionErrOnSubscribe(true),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		})}, opts...)...)
	if err != nil {
		t.Fatalf("DialNATS(%s) = %v", svid.ID, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &probe{nc: nc, js: js, errs: errs}
}

// denied runs op and requires that the server reports a permissions
// violation for subject and that op fails. op is cancelled as soon as the
// violation arrives, so nothing waits for a timeout.
func (p *probe) denied(t *testing.T, subject string, op func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- op(ctx) }()
	want := fmt.Sprintf("%q", subject)
	for seen := false; !seen; {
		select {
		case err := <-p.errs:
			seen = errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), want)
		case <-ctx.Done():
			t.Fatalf("no permissions violation for %s within %s", want, wait)
		}
	}
	cancel()
	if err := <-errc; err == nil {
		t.Errorf("operation on %s succeeded despite the violation", subject)
	}
}

func request(p *probe, subject, body string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := p.nc.RequestWithContext(ctx, subject, []byte(body))
		return err
	}
}

func subscribe(p *probe, subject string) func(context.Context) error {
	return func(ctx context.Context) error {
		sub, err := p.nc.SubscribeSync(subject)
		if err != nil {
			return err
		}
		defer sub.Unsubscribe()
		_, err = sub.NextMsgWithContext(ctx)
		return err
	}
}

// TestStateNodePermissions connects with MX's node certificate and tries
// what only others may do, on one embedded server and on a server of an R3
// cluster (the same mapping and permissions): every attempt fails at the
// NATS server.
func TestStateNodePermissions(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) { stateNodePermissions(t, newEnv(t, "MX", "CA", "BR")) })
	t.Run("cluster", func(t *testing.T) { stateNodePermissions(t, newClusterEnv(t, "MX", "CA", "BR")) })
}

// newClusterEnv is newEnv on a three-server cluster with R3 streams; e.srv
// is the second server, which clients and probes connect to.
func newClusterEnv(t *testing.T, states ...string) *env {
	t.Helper()
	c := startCluster(t, states...)
	e := &env{ca: c.ca, cfg: c.cfgs[1], srv: c.srvs[1]}
	e.sec = c.connect(t, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	if err := e.sec.Provision(ctx, states); err != nil {
		t.Fatalf("Provision R3: %v", err)
	}
	return e
}

func stateNodePermissions(t *testing.T, e *env) {
	mx := dialProbe(t, e, backbonetest.Node("MX"))
	publish(t, e.connect(t, "BR"), "CA", "waiting", nil) // a copy MX must not be able to take

	tests := []struct {
		name    string
		subject string
		op      func(context.Context) error
	}{
		{"pull CA's consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA", func(ctx context.Context) error {
			inbox := mx.nc.NewInbox()
			sub, err := mx.nc.SubscribeSync(inbox)
			if err != nil {
				return err
			}
			defer sub.Unsubscribe()
			req := `{"batch":1,"expires":5000000000}`
			if err := mx.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA", inbox, []byte(req)); err != nil {
				return err
			}
			_, err = sub.NextMsgWithContext(ctx)
			return err
		}},
		// Addressed to the hub's domain, the server maps the subject to the
		// plain API first and refuses that (the violation names it).
		{"pull CA's consumer by hub domain", "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA",
			request(mx, "$JS.hub.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA", `{"batch":1,"expires":5000000000}`)},
		{"create consumer by hub domain", "$JS.API.CONSUMER.CREATE.IANT_INBOX.steal",
			request(mx, "$JS.hub.API.CONSUMER.CREATE.IANT_INBOX.steal", `{"stream_name":"IANT_INBOX","config":{"durable_name":"steal"}}`)},
		{"look up CA's consumer", "$JS.API.CONSUMER.INFO.IANT_INBOX.inbox-CA", func(ctx context.Context) error {
			_, err := mx.js.Consumer(ctx, backbone.InboxStream, "inbox-CA")
			return err
		}},
		{"ack on CA's consumer", "$JS.ACK.IANT_INBOX.inbox-CA.1.1.1.0.0", request(mx, "$JS.ACK.IANT_INBOX.inbox-CA.1.1.1.0.0", "+ACK")},
		{"publish as origin CA", "iant.inbox.BR.CA.x", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.inbox.BR.CA.x", nil)
			return err
		}},
		{"publish with extra tokens", "iant.inbox.BR.MX.x.y", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.inbox.BR.MX.x.y", nil)
			return err
		}},
		{"delete stream", "$JS.API.STREAM.DELETE.IANT_INBOX", func(ctx context.Context) error {
			return mx.js.DeleteStream(ctx, backbone.InboxStream)
		}},
		{"purge stream", "$JS.API.STREAM.PURGE.IANT_INBOX", request(mx, "$JS.API.STREAM.PURGE.IANT_INBOX", "{}")},
		{"delete message", "$JS.API.STREAM.MSG.DELETE.IANT_INBOX", request(mx, "$JS.API.STREAM.MSG.DELETE.IANT_INBOX", `{"seq":1}`)},
		{"update stream", "$JS.API.STREAM.UPDATE.IANT_INBOX", func(ctx context.Context) error {
			_, err := mx.js.UpdateStream(ctx, jetstream.StreamConfig{Name: backbone.InboxStream, Subjects: []string{"iant.inbox.>"}})
			return err
		}},
		{"create stream", "$JS.API.STREAM.CREATE.STEAL", func(ctx context.Context) error {
			_, err := mx.js.CreateStream(ctx, jetstream.StreamConfig{Name: "STEAL", Subjects: []string{"steal.>"}})
			return err
		}},
		{"create consumer", "$JS.API.CONSUMER.CREATE.IANT_INBOX.steal.iant.inbox.>", func(ctx context.Context) error {
			_, err := mx.js.CreateOrUpdateConsumer(ctx, backbone.InboxStream, jetstream.ConsumerConfig{Durable: "steal", FilterSubject: "iant.inbox.>"})
			return err
		}},
		{"widen own consumer", "$JS.API.CONSUMER.CREATE.IANT_INBOX.inbox-MX.iant.inbox.>", func(ctx context.Context) error {
			_, err := mx.js.CreateOrUpdateConsumer(ctx, backbone.InboxStream, jetstream.ConsumerConfig{Durable: "inbox-MX", FilterSubject: "iant.inbox.>"})
			return err
		}},
		{"delete own consumer", "$JS.API.CONSUMER.DELETE.IANT_INBOX.inbox-MX", func(ctx context.Context) error {
			return mx.js.DeleteConsumer(ctx, backbone.InboxStream, "inbox-MX")
		}},
		{"subscribe to all inboxes", "iant.inbox.>", subscribe(mx, "iant.inbox.>")},
		{"subscribe to CA's replies", "_INBOX_CA.>", subscribe(mx, "_INBOX_CA.>")},
		{"receive proof requests", "iant.audit.proof.*", subscribe(mx, "iant.audit.proof.*")},
		{"ask for proofs as CA", "iant.audit.proof.CA", request(mx, "iant.audit.proof.CA", "{}")},
		{"publish CA's witnessed checkpoint", "iant.witness.CA", func(ctx context.Context) error {
			_, err := mx.js.Publish(ctx, "iant.witness.CA", []byte("forged"))
			return err
		}},
		{"purge the witness stream", "$JS.API.STREAM.PURGE.IANT_WITNESS", request(mx, "$JS.API.STREAM.PURGE.IANT_WITNESS", "{}")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mx.denied(t, tt.subject, tt.op) })
	}

	// The copy waiting for CA was not taken: CA gets it on first delivery.
	in := make(chan backbone.Msg, 4)
	consume(t, e.connect(t, "CA"), collect(in))
	if m := expectNext(t, in, "waiting")[0]; m.NumDelivered != 1 {
		t.Errorf("NumDelivered = %d, want 1", m.NumDelivered)
	}
}

func TestSecretariatPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	sec := dialProbe(t, e, backbonetest.Secretariat)
	sec.denied(t, "$JS.API.STREAM.DELETE.IANT_INBOX", func(ctx context.Context) error {
		return sec.js.DeleteStream(ctx, backbone.InboxStream)
	})
	sec.denied(t, "$JS.API.STREAM.PURGE.IANT_INBOX", request(sec, "$JS.API.STREAM.PURGE.IANT_INBOX", "{}"))
	sec.denied(t, "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA",
		request(sec, "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA", `{"batch":1,"expires":5000000000}`))
	sec.denied(t, "iant.inbox.CA.MX.x", request(sec, "iant.inbox.CA.MX.x", ""))
	sec.denied(t, "iant.witness.MX", request(sec, "iant.witness.MX", "forged"))
	sec.denied(t, "iant.audit.proof.MX", request(sec, "iant.audit.proof.MX", "{}"))
	sec.denied(t, "$JS.API.STREAM.DELETE.IANT_WITNESS", func(ctx context.Context) error {
		return sec.js.DeleteStream(ctx, backbone.WitnessStream)
	})
	// The secretariat runs the audit, not the copies: it reads no stored
	// copy, by sequence or by subject, directly or through the API.
	publish(t, e.connect(t, "MX"), "CA", "stored", []byte("sealed"))
	sec.denied(t, "$JS.API.STREAM.MSG.GET.IANT_INBOX", func(ctx context.Context) error {
		st, err := sec.js.Stream(ctx, backbone.InboxStream)
		if err != nil {
			return err
		}
		_, err = st.GetMsg(ctx, 1)
		return err
	})
	sec.denied(t, "$JS.API.STREAM.MSG.GET.IANT_INBOX", func(ctx context.Context) error {
		st, err := sec.js.Stream(ctx, backbone.InboxStream)
		if err != nil {
			return err
		}
		_, err = st.GetLastMsgForSubject(ctx, "iant.inbox.CA.MX.stored")
		return err
	})
	sec.denied(t, "$JS.API.DIRECT.GET.IANT_INBOX", request(sec, "$JS.API.DIRECT.GET.IANT_INBOX", `{"seq":1}`))
	sec.denied(t, "$JS.API.STREAM.MSG.GET.IANT_INBOX", request(sec, "$JS.hub.API.STREAM.MSG.GET.IANT_INBOX", `{"seq":1}`))
}

// TestInspector: the test inspector reads a stored copy as the backbone
// holds it, and may do nothing else.
func TestInspector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	publish(t, e.connect(t, "MX"), "CA", "inspected", []byte("sealed bytes"))
	subject, data := backbonetest.InboxMessage(t, e.ca, e.srv, 1)
	if subject != backbone.InboxSubject("CA", "MX", "inspected") || string(data) != "sealed bytes" {
		t.Errorf("InboxMessage(1) = %s, %q; want the copy MX published", subject, data)
	}
	in := dialProbeSVID(t, e, e.ca.SVIDForID(t, backbonetest.InspectorID(e.ca.TD)), "",
		nats.CustomInboxPrefix(backbone.InspectorReplyPrefix))
	for _, tt := range []struct {
		name, subject string
		op            func(context.Context) error
	}{
		{"publish a copy", "iant.inbox.CA.MX.x", request(in, "iant.inbox.CA.MX.x", "")},
		{"pull a consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA",
			request(in, "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-CA", `{"batch":1,"expires":5000000000}`)},
		{"create a consumer", "$JS.API.CONSUMER.CREATE.IANT_INBOX.steal",
			request(in, "$JS.API.CONSUMER.CREATE.IANT_INBOX.steal", `{"stream_name":"IANT_INBOX","config":{"durable_name":"steal"}}`)},
		{"read a receipt", "$JS.API.STREAM.MSG.GET.IANT_EVENTS", request(in, "$JS.API.STREAM.MSG.GET.IANT_EVENTS", `{"seq":1}`)},
		{"delete a copy", "$JS.API.STREAM.MSG.DELETE.IANT_INBOX", request(in, "$JS.API.STREAM.MSG.DELETE.IANT_INBOX", `{"seq":1}`)},
		{"purge the inbox", "$JS.API.STREAM.PURGE.IANT_INBOX", request(in, "$JS.API.STREAM.PURGE.IANT_INBOX", "{}")},
		{"subscribe to the inboxes", "iant.inbox.>", subscribe(in, "iant.inbox.>")},
		{"subscribe to the secretariat's replies", "_INBOX_SECRETARIAT.>", subscribe(in, "_INBOX_SECRETARIAT.>")},
	} {
		t.Run(tt.name, func(t *testing.T) { in.denied(t, tt.subject, tt.op) })
	}
}

func TestInboxConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	backbonetest.Provision(t, e.ca, e.srv, "MX", "CA") // idempotent
	sec := dialProbe(t, e, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := sec.js.Stream(ctx, backbone.InboxStream)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.CachedInfo().Config
	if sc.Storage != jetstream.FileStorage || sc.Replicas != 1 || sc.Duplicates != 24*time.Hour ||
		!sc.DenyDelete || !sc.DenyPurge || sc.AllowRollup || sc.MaxMsgSize != 1<<20 ||
		len(sc.Subjects) != 1 || sc.Subjects[0] != "iant.inbox.>" {
		t.Errorf("stream config = %+v", sc)
	}
	cc := consumerInfo(t, e, "CA").Config
	if cc.Durable != "inbox-CA" || cc.AckPolicy != jetstream.AckExplicitPolicy || cc.FilterSubject != "iant.inbox.CA.>" ||
		cc.DeliverPolicy != jetstream.DeliverAllPolicy || cc.AckWait != backbone.AckWait || cc.MaxAckPending != 1 {
		t.Errorf("consumer config = %+v", cc)
	}
}

// consumerInfo reads state's consumer info with the secretariat's rights.
func consumerInfo(t *testing.T, e *env, state string) *jetstream.ConsumerInfo {
	t.Helper()
	sec := dialProbe(t, e, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sec.js.Consumer(ctx, backbone.InboxStream, backbone.InboxConsumer(state))
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestConnectRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	// A node the server was not configured with maps to no user.
	_, err := backbone.Connect(ctx, backbonetest.ClientConfig(t, e.ca, e.srv, backbonetest.Node("AR")))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("Connect(unlisted node) = %v, want authorization violation", err)
	}
	// A person's SVID is refused by the client, and by the server.
	analyst := identity.Principal{State: "MX", Role: identity.RoleAnalyst, Name: "ana"}
	if _, err := backbone.Connect(ctx, backbonetest.ClientConfig(t, e.ca, e.srv, analyst)); !errors.Is(err, backbone.ErrNotNode) {
		t.Errorf("Connect(analyst) = %v, want ErrNotNode", err)
	}
	for _, p := range []identity.Principal{analyst, backbonetest.ServerPrincipal} {
		if _, err := backbonetest.DialNATS(t, e.ca, e.srv, e.ca.SVID(t, p), p.State); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("DialNATS(%s) = %v, want authorization violation", p, err)
		}
	}
	// A certificate for a listed node from another CA, or from another
	// trust domain, fails the TLS handshake.
	rogue := identitytest.NewCA(t, "iant.test").SVID(t, backbonetest.Node("MX"))
	foreign := identitytest.NewCA(t, "other.test").SVID(t, backbonetest.Node("MX"))
	if _, err := backbonetest.DialNATS(t, e.ca, e.srv, rogue, "MX"); err == nil || errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("DialNATS(other CA) = %v, want a TLS handshake failure", err)
	} else {
		t.Logf("other CA: %v", err)
	}
	if _, err := backbonetest.DialNATS(t, e.ca, e.srv, foreign, "MX"); err == nil || errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("DialNATS(other trust domain) = %v, want a TLS handshake failure", err)
	} else {
		t.Logf("other trust domain: %v", err)
	}
}

func TestServerImpersonation(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	cfg := backbonetest.Config(t, ca, backbonetest.Secretariat, backbonetest.Node("CA"))
	cfg.SVID = ca.SVID(t, backbonetest.Node("MX")) // a state node posing as the backbone
	srv := backbonetest.StartServerConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := backbone.Connect(ctx, backbonetest.ClientConfig(t, ca, srv, backbonetest.Node("CA")))
	if err == nil {
		c.Close()
		t.Fatal("Connect to a server with a member state's SVID succeeded")
	}
	if !strings.Contains(err.Error(), "is not a secretariat node") {
		t.Errorf("Connect() = %v, want the server refused for its state SVID", err)
	}
	// Nor may a secretariat person pose as the backbone.
	cfg2 := backbonetest.Config(t, ca, backbonetest.Secretariat, backbonetest.Node("CA"))
	cfg2.SVID = ca.SVID(t, identity.Principal{Role: identity.RoleAuditor, Name: "eve"})
	srv2 := backbonetest.StartServerConfig(t, cfg2)
	if c, err := backbone.Connect(ctx, backbonetest.ClientConfig(t, ca, srv2, backbonetest.Node("CA"))); err == nil {
		c.Close()
		t.Fatal("Connect to a server with an auditor's SVID succeeded")
	}
}
