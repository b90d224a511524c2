package backbonetest

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// InspectorID is the test inspector of trust domain td,
// spiffe://<td>/test/inspector: outside IANT's identity scheme, allowed by
// the servers of [Config] to read single stored copies of the inbox stream
// (see [backbone.ServerConfig.Inspectors]) and nothing else. No node may
// read a stored copy: this is how a test looks at what the backbone holds.
func InspectorID(td spiffeid.TrustDomain) spiffeid.ID {
	return spiffeid.RequireFromSegments(td, "test", "inspector")
}

// InboxMessage returns the subject and the bytes of the copy stored at
// sequence seq of the inbox stream of srv, read as the inspector with an
// SVID minted by ca.
func InboxMessage(tb testing.TB, ca *identitytest.CA, srv *backbone.Server, seq uint64) (subject string, data []byte) {
	tb.Helper()
	return ReadInbox(tb, srv.ClientURL(), ca.SVIDForID(tb, InspectorID(ca.TD)), ca.Bundle(), seq)
}

// ReadInbox returns the subject and the bytes of the copy stored at
// sequence seq of the inbox stream of the backbone at url, read with an
// inspector's svid (see [InspectorID]); bundle verifies the server.
func ReadInbox(tb testing.TB, url string, svid x509svid.Source, bundle x509bundle.Source, seq uint64) (subject string, data []byte) {
	tb.Helper()
	m := inspect(tb, url, svid, bundle, func(ctx context.Context, st jetstream.Stream) (*jetstream.RawStreamMsg, error) {
		return st.GetMsg(ctx, seq)
	})
	return m.Subject, m.Data
}

// ReadInboxCopy is [ReadInbox] of the last copy of bulletin id stored for
// recipient from origin.
func ReadInboxCopy(tb testing.TB, url string, svid x509svid.Source, bundle x509bundle.Source, recipient, origin, id string) []byte {
	tb.Helper()
	return inspect(tb, url, svid, bundle, func(ctx context.Context, st jetstream.Stream) (*jetstream.RawStreamMsg, error) {
		return st.GetLastMsgForSubject(ctx, backbone.InboxSubject(recipient, origin, id))
	}).Data
}

// inspect connects as the inspector and gets one stored message of the
// inbox stream.
func inspect(tb testing.TB, url string, svid x509svid.Source, bundle x509bundle.Source,
	get func(context.Context, jetstream.Stream) (*jetstream.RawStreamMsg, error)) *jetstream.RawStreamMsg {
	tb.Helper()
	s, err := svid.GetX509SVID()
	if err != nil {
		tb.Fatal(err)
	}
	conf := tlsconfig.MTLSClientConfig(svid, bundle, tlsconfig.AuthorizeMemberOf(s.ID.TrustDomain()))
	nc, err := nats.Connect(url, nats.Secure(conf), nats.Timeout(Timeout),
		nats.CustomInboxPrefix(backbone.InspectorReplyPrefix), nats.NoReconnect())
	if err != nil {
		tb.Fatalf("connect as the inspector: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	st, err := js.Stream(ctx, backbone.InboxStream)
	if err != nil {
		tb.Fatalf("inbox stream: %v", err)
	}
	m, err := get(ctx, st)
	if err != nil {
		tb.Fatalf("inbox message: %v", err)
	}
	return m
}
