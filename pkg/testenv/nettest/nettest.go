// Package nettest holds helpers for tests that run a whole IANT network in
// one process ([testenv]): start one that the test stops, connect people
// to their nodes over real mTLS gRPC, post, follow a subscription, and
// wait for what the nodes and the secretariat's audit log say.
//
//	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}})
//	c := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
//	b := nettest.Post(t, c, nettest.Draft("title", "US"))
//	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), b.GetBulletin().GetId())
//
// Every wait polls with a deadline ([Eventually]); none sleeps and asserts.
package nettest

import (
	"context"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// Eventually bounds every wait for a node or the audit log to catch up.
const Eventually = 30 * time.Second

// Start runs a real network (embedded JetStream, mTLS, SQLite) with opts in
// t.TempDir() (unless opts.Dir is set) and closes it when the test ends.
func Start(t testing.TB, opts testenv.Options) *testenv.Network {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	nw, err := testenv.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("testenv.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
	})
	return nw
}

// StartStates is Start of a network of the given states.
func StartStates(t testing.TB, states ...string) *testenv.Network {
	t.Helper()
	return Start(t, testenv.Options{States: states})
}

// conn connects person p to the node its context names, or to addr and
// nodeID when given.
func conn(t testing.TB, nw *testenv.Network, p identity.Principal, secretariat bool) *grpc.ClientConn {
	t.Helper()
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	if secretariat {
		c.Node, c.NodeID = nw.Secretariat.Addr(), testenv.NodePrincipal("").ID(nw.TD).String()
	}
	cc, _, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// Dial connects person p to their own state's node.
func Dial(t testing.TB, nw *testenv.Network, p identity.Principal) iantv1.BulletinServiceClient {
	t.Helper()
	return iantv1.NewBulletinServiceClient(conn(t, nw, p, false))
}

// AuditClient connects person p to the secretariat's node.
func AuditClient(t testing.TB, nw *testenv.Network, p identity.Principal) iantv1.AuditServiceClient {
	t.Helper()
	return iantv1.NewAuditServiceClient(conn(t, nw, p, true))
}

// Draft is a valid FLASH, AMBER bulletin titled title, released to states.
func Draft(title string, states ...string) *iantv1.Bulletin {
	return &iantv1.Bulletin{
		Title:         title,
		Body:          "Subject observed purchasing one-way tickets; travel document reported lost.",
		Precedence:    iantv1.Precedence_PRECEDENCE_FLASH,
		Category:      iantv1.Category_CATEGORY_FOREIGN_TERRORIST_FIGHTER,
		Marking:       iantv1.Marking_MARKING_AMBER,
		Language:      iantv1.Language_LANGUAGE_EN,
		Releasability: &iantv1.Releasability{States: states},
		Indicators: []*iantv1.Indicator{{
			Type: iantv1.IndicatorType_INDICATOR_TYPE_TRAVEL_DOCUMENT, Value: "P1234567",
		}},
	}
}

// Post posts b through c and fails the test if the node refuses it.
func Post(t testing.TB, c iantv1.BulletinServiceClient, b *iantv1.Bulletin) *iantv1.StoredBulletin {
	t.Helper()
	resp, err := c.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: b})
	if err != nil {
		t.Fatalf("PostBulletin(%q) = %v", b.GetTitle(), err)
	}
	return resp.GetBulletin()
}

// Subscription collects what a Subscribe stream delivers.
type Subscription struct {
	got chan *iantv1.StoredBulletin
	err chan streamEnd
}

// streamEnd is why a subscription's stream ended, and when its reader saw
// it (not when a test got round to asking).
type streamEnd struct {
	err error
	at  time.Time
}

// Subscribe opens a subscription that lives until ctx ends.
func Subscribe(t testing.TB, ctx context.Context, c iantv1.BulletinServiceClient, req *iantv1.SubscribeRequest) *Subscription {
	t.Helper()
	stream, err := c.Subscribe(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	s := &Subscription{got: make(chan *iantv1.StoredBulletin, 100), err: make(chan streamEnd, 1)}
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				s.err <- streamEnd{err, time.Now()}
				return
			}
			s.got <- resp.GetBulletin()
		}
	}()
	return s
}

// Next returns the next bulletin delivered, failing the test if the
// stream ends or nothing comes within [Eventually].
func (s *Subscription) Next(t testing.TB) *iantv1.StoredBulletin {
	t.Helper()
	select {
	case b := <-s.got:
		return b
	case end := <-s.err:
		t.Fatalf("subscription ended: %v", end.err)
	case <-time.After(Eventually):
		t.Fatalf("no bulletin within %s", Eventually)
	}
	return nil
}

// WaitStored polls c until id is stored at its node, and returns it.
func WaitStored(t testing.TB, c iantv1.BulletinServiceClient, id string) *iantv1.StoredBulletin {
	t.Helper()
	deadline := time.Now().Add(Eventually)
	for {
		resp, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id})
		if err == nil {
			return resp.GetBulletin()
		}
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			t.Fatalf("GetBulletin(%s) = %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitReport polls the delivery report of id until ok accepts it.
func WaitReport(t testing.TB, a iantv1.AuditServiceClient, id string, ok func(*iantv1.BulletinReport) bool) *iantv1.BulletinReport {
	t.Helper()
	return WaitReportOf(t, a, "", id, ok)
}

// WaitReportOf is WaitReport of the bulletin id of origin ("" for the
// caller's default: a focal point's own state, an auditor's only origin).
func WaitReportOf(t testing.TB, a iantv1.AuditServiceClient, origin, id string, ok func(*iantv1.BulletinReport) bool) *iantv1.BulletinReport {
	t.Helper()
	deadline := time.Now().Add(Eventually)
	for {
		resp, err := a.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id, Origin: origin})
		if err == nil && ok(resp.GetReport()) {
			return resp.GetReport()
		}
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("GetBulletinReport(%s) = %v", id, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("report of %s not complete within %s; last: %v, %v", id, Eventually, resp.GetReport(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Entries returns the logged events of bulletin id, each checked against
// a freshly signed checkpoint with its inclusion proof.
func Entries(t testing.TB, a iantv1.AuditServiceClient, id string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, l := range Leaves(t, a, "", id) {
		out = append(out, l.Event)
	}
	return out
}

// Leaves returns the log entries of bulletin id of origin ("" for the
// log's only origin of id, or every entry naming id when it knows none;
// none when nothing of it is logged yet),
// each checked against a freshly signed checkpoint with its inclusion
// proof. A signed receipt's Signer is the SPIFFE ID of its signing
// certificate, not verified here (the secretariat verified it when it
// logged it; [audit.Receipt.Verify] checks it again).
func Leaves(t testing.TB, a iantv1.AuditServiceClient, origin, id string) []audit.Leaf {
	t.Helper()
	cpResp, err := a.GetCheckpoint(t.Context(), &iantv1.GetCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(cpResp.GetVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.VerifyCheckpoint(cpResp.GetCheckpoint(), cpResp.GetOrigin(), v)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size == 0 {
		return nil // nothing logged at all yet
	}
	resp, err := a.GetInclusionProof(t.Context(), &iantv1.GetInclusionProofRequest{
		Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: id}, TreeSize: cp.Size, Origin: origin})
	if status.Code(err) == codes.NotFound {
		return nil // nothing logged of it yet
	}
	if err != nil {
		t.Fatalf("GetInclusionProof(%s/%s) = %v", origin, id, err)
	}
	var out []audit.Leaf
	for _, e := range resp.GetEntries() {
		if err := audit.VerifyInclusion(cp, e.GetIndex(), e.GetEntry(), e.GetHashes()); err != nil {
			t.Errorf("entry %d: %v", e.GetIndex(), err)
		}
		l, err := audit.ParseLeaf(e.GetEntry())
		if err != nil {
			t.Fatal(err)
		}
		if l.Receipt != nil {
			l.Receipt.Signer = signerOf(l.Receipt)
		}
		out = append(out, l)
	}
	return out
}

// signerOf is the SPIFFE ID of a receipt's signing certificate.
func signerOf(r *audit.Receipt) spiffeid.ID {
	c := r.LeafCertificate()
	if c == nil || len(c.URIs) != 1 {
		return spiffeid.ID{}
	}
	id, _ := spiffeid.FromURI(c.URIs[0])
	return id
}

// CountKinds counts events by kind.
func CountKinds(events []audit.Event) map[audit.EventKind]int {
	m := map[audit.EventKind]int{}
	for _, e := range events {
		m[e.Kind]++
	}
	return m
}

// Recipient returns the status of state in report r, or nil.
func Recipient(r *iantv1.BulletinReport, state string) *iantv1.RecipientStatus {
	for _, rs := range r.GetRecipients() {
		if rs.GetState() == state {
			return rs
		}
	}
	return nil
}

// StartAudit is Start of a network of the given states with the audit
// configured by a (e.g. short intervals and deadlines).
func StartAudit(t testing.TB, a secretariat.AuditConfig, states ...string) *testenv.Network {
	t.Helper()
	return Start(t, testenv.Options{States: states, Audit: a})
}
