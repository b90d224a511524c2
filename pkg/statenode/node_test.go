package statenode_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/testenv"
)

func TestPostReachesExactlyTheReleasedStates(t *testing.T) {
	nw := nettest.StartStates(t, "AR", "BR", "CA")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subBR := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("BR")), &iantv1.SubscribeRequest{})
	subCA := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{})

	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("AR")), nettest.Draft("FTF travel via EZE", "BR"))
	b := posted.GetBulletin()
	if b.GetId() == "" || b.GetOrigin() != "AR" || strings.Join(b.GetRecipients(), ",") != "BR" {
		t.Fatalf("posted = id %q origin %q recipients %v, want an id, AR, [BR]", b.GetId(), b.GetOrigin(), b.GetRecipients())
	}
	if want := testenv.FocalPoint("AR").ID(nw.TD).String(); b.GetAuthor() != want {
		t.Errorf("author = %q, want %q (from the certificate)", b.GetAuthor(), want)
	}

	got := subBR.Next(t)
	if got.GetBulletin().GetId() != b.GetId() || got.GetBulletin().GetTitle() != "FTF travel via EZE" {
		t.Errorf("BR analyst received %s %q, want %s", got.GetBulletin().GetId(), got.GetBulletin().GetTitle(), b.GetId())
	}
	if got.GetDirection() != iantv1.Direction_DIRECTION_RECEIVED {
		t.Errorf("direction at BR = %v, want RECEIVED", got.GetDirection())
	}
	analystBR := nettest.Dial(t, nw, testenv.Analyst("BR"))
	if g := nettest.WaitStored(t, analystBR, b.GetId()); g.GetBulletin().GetBody() != nettest.Draft("", "").GetBody() {
		t.Errorf("BR get body = %q", g.GetBulletin().GetBody())
	}

	// CA was not in the audience: nothing pushed, and get says not found.
	analystCA := nettest.Dial(t, nw, testenv.Analyst("CA"))
	if _, err := analystCA.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: b.GetId()}); status.Code(err) != codes.NotFound {
		t.Errorf("CA GetBulletin = %v, want NotFound", err)
	}
	// A second bulletin to CA proves CA's subscription works and that the
	// first never arrived there.
	second := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("AR")), nettest.Draft("Second, for CA", "CA"))
	if got := subCA.Next(t); got.GetBulletin().GetId() != second.GetBulletin().GetId() {
		t.Errorf("CA's first delivery = %s (%q), want only %s", got.GetBulletin().GetId(), got.GetBulletin().GetTitle(), second.GetBulletin().GetId())
	}
	list, err := analystCA.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetBulletins()) != 1 {
		t.Errorf("CA holds %d bulletins, want 1", len(list.GetBulletins()))
	}
}

func TestRestartedNodeDeliversMissedBulletinsOnceInOrder(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	first := nettest.Post(t, fp, nettest.Draft("before the outage", "US"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	stored := nettest.WaitStored(t, analyst, first.GetBulletin().GetId())
	resumeAt := stored.GetCursor()

	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		want = append(want, nettest.Post(t, fp, nettest.Draft("during the outage "+string(rune('a'+i)), "US")).GetBulletin().GetId())
	}
	if err := nw.StartNode(t.Context(), "US"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("US")), &iantv1.SubscribeRequest{AfterCursor: resumeAt})
	var last uint64
	for i, id := range want {
		got := sub.Next(t)
		if got.GetBulletin().GetId() != id {
			t.Fatalf("delivery %d = %s (%q), want %s", i, got.GetBulletin().GetId(), got.GetBulletin().GetTitle(), id)
		}
		if got.GetCursor() <= last {
			t.Errorf("cursor %d after %d: not increasing", got.GetCursor(), last)
		}
		last = got.GetCursor()
	}
	// Nothing more: a marker bulletin must be the very next delivery.
	marker := nettest.Post(t, fp, nettest.Draft("marker", "US")).GetBulletin().GetId()
	if got := sub.Next(t); got.GetBulletin().GetId() != marker {
		t.Errorf("after the missed ones got %s (%q), want the marker: a duplicate or extra delivery", got.GetBulletin().GetId(), got.GetBulletin().GetTitle())
	}
}

// badClient dials node addr with an SVID the test mints itself.
func badClient(t *testing.T, addr string, svid *x509svid.SVID, bundle x509bundle.Source, nodeID spiffeid.ID) iantv1.BulletinServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(identity.ClientCredentials(svid, bundle, nodeID)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return iantv1.NewBulletinServiceClient(conn)
}

func TestForeignIdentitiesAreRefusedAndNothingIsStored(t *testing.T) {
	nw := nettest.StartStates(t, "AR", "BR")
	realBundle, err := x509bundle.Load(nw.TD, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	nodeAR := testenv.NodePrincipal("AR").ID(nw.TD)
	addrAR := nw.Node("AR").Addr()

	otherCA := identitytest.NewCA(t, nw.TD.Name())
	evilCA := identitytest.NewCA(t, "evil.test")
	tests := []struct {
		name   string
		client iantv1.BulletinServiceClient
		want   codes.Code
	}{
		{
			name:   "certificate from another CA",
			client: badClient(t, addrAR, otherCA.SVID(t, testenv.FocalPoint("AR")), realBundle, nodeAR),
			want:   codes.Unavailable, // the TLS handshake fails
		},
		{
			name: "SPIFFE ID of another trust domain",
			client: badClient(t, addrAR,
				evilCA.SVIDForID(t, spiffeid.RequireFromString("spiffe://evil.test/state/AR/focal-point/focal")),
				x509bundle.NewSet(realBundle, evilCA.Bundle()), nodeAR),
			want: codes.Unavailable,
		},
		{
			name:   "focal point of BR at AR's node",
			client: badClientFromContext(t, nw, testenv.FocalPoint("BR"), addrAR, nodeAR),
			want:   codes.PermissionDenied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("forged", "BR")})
			if status.Code(err) != tt.want {
				t.Errorf("PostBulletin = %v, want %v", err, tt.want)
			}
			_, err = tt.client.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
			if status.Code(err) != tt.want {
				t.Errorf("ListBulletins = %v, want %v", err, tt.want)
			}
		})
	}
	for _, cc := range []string{"AR", "BR"} {
		list, err := nettest.Dial(t, nw, testenv.Analyst(cc)).ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(list.GetBulletins()); n != 0 {
			t.Errorf("%s stored %d bulletins after refused calls, want 0", cc, n)
		}
	}
}

// badClientFromContext dials addr with person p's genuine SVID.
func badClientFromContext(t *testing.T, nw *testenv.Network, p identity.Principal, addr string, nodeID spiffeid.ID) iantv1.BulletinServiceClient {
	t.Helper()
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	src, err := identity.LoadFiles(nw.TD, c.Cert, c.Key, c.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	svid, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	return badClient(t, addr, svid, src, nodeID)
}

func TestBadPostsAreRefusedNamingTheProblem(t *testing.T) {
	nw := nettest.StartStates(t, "JM", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("JM"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("JM"))
	big := nettest.Draft("big", "US")
	big.Body = strings.Repeat("x", 300<<10)
	noTitle := nettest.Draft("", "US")
	unknownState := nettest.Draft("to France", "FR")
	asOther := nettest.Draft("as another origin", "US")
	asOther.Origin = "US"
	tests := []struct {
		name   string
		client iantv1.BulletinServiceClient
		b      *iantv1.Bulletin
		code   codes.Code
		detail string // field or rule named in ErrorDetail
		msg    string // substring of the message
	}{
		{"analyst posts", analyst, nettest.Draft("by an analyst", "US"), codes.PermissionDenied, "post.role", "analyst"},
		{"unknown state code", fp, unknownState, codes.InvalidArgument, "releasability.states", `"FR"`},
		{"missing title", fp, noTitle, codes.InvalidArgument, "title", "title is required"},
		{"oversized body", fp, big, codes.InvalidArgument, "body", "limit"},
		{"posting as another state", fp, asOther, codes.PermissionDenied, "post.own_origin", "only as JM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: tt.b})
			st := status.Convert(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
				t.Fatalf("PostBulletin = %v, want %v containing %q", err, tt.code, tt.msg)
			}
			var detail *iantv1.ErrorDetail
			for _, d := range st.Details() {
				if e, ok := d.(*iantv1.ErrorDetail); ok {
					detail = e
				}
			}
			if detail == nil || (detail.GetField() != tt.detail && detail.GetRule() != tt.detail) {
				t.Errorf("ErrorDetail = %v, want field or rule %q", detail, tt.detail)
			}
		})
	}
	list, err := nettest.Dial(t, nw, testenv.Analyst("US")).ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetBulletins()) != 0 {
		t.Errorf("US holds %d bulletins after refused posts, want 0", len(list.GetBulletins()))
	}
}

func TestAcknowledge(t *testing.T) {
	nw := nettest.StartStates(t, "CA", "MX")
	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("CA")), nettest.Draft("ack me", "MX"))
	id := posted.GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("MX")), id)

	if _, err := nettest.Dial(t, nw, testenv.Analyst("MX")).AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("analyst ack = %v, want PermissionDenied", err)
	}
	if _, err := nettest.Dial(t, nw, testenv.FocalPoint("CA")).AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("origin ack of its own bulletin = %v, want InvalidArgument", err)
	}
	fpMX := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	resp, err := fpMX.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	first := resp.GetBulletin().GetAcknowledgeTime().AsTime()
	if resp.GetBulletin().GetAcknowledgedBy() != testenv.FocalPoint("MX").ID(nw.TD).String() {
		t.Errorf("acknowledged by %q", resp.GetBulletin().GetAcknowledgedBy())
	}
	again, err := fpMX.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id})
	if err != nil || !again.GetBulletin().GetAcknowledgeTime().AsTime().Equal(first) {
		t.Errorf("second ack = %v, %v; want the first time kept", again.GetBulletin().GetAcknowledgeTime(), err)
	}
	if _, err := fpMX.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: "01UNKNOWN"}); status.Code(err) != codes.NotFound {
		t.Errorf("ack unknown = %v, want NotFound", err)
	}
}
