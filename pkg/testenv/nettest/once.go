package nettest

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// PostKeyed posts b through c with an idempotency key and returns the
// whole answer (with its pending recipients), failing the test if the
// node refuses it.
func PostKeyed(t testing.TB, c iantv1.BulletinServiceClient, b *iantv1.Bulletin, key string) *iantv1.PostBulletinResponse {
	t.Helper()
	resp, err := c.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: b, IdempotencyKey: key})
	if err != nil {
		t.Fatalf("PostBulletin(%q, key %q) = %v", b.GetTitle(), key, err)
	}
	return resp
}

// HeldOnce waits until every bulletin of ids is stored at c's node, then
// checks that the node lists each exactly once.
func HeldOnce(t testing.TB, c iantv1.BulletinServiceClient, ids ...string) {
	t.Helper()
	for _, id := range ids {
		WaitStored(t, c, id)
	}
	listed := map[string]int{}
	req := &iantv1.ListBulletinsRequest{PageSize: 500}
	for {
		resp, err := c.ListBulletins(t.Context(), req)
		if err != nil {
			t.Fatalf("ListBulletins() = %v", err)
		}
		for _, b := range resp.GetBulletins() {
			listed[b.GetBulletin().GetId()]++
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	for _, id := range ids {
		if listed[id] != 1 {
			t.Errorf("bulletin %s listed %d times, want once", id, listed[id])
		}
	}
}

// ReportedOnce waits until the audit log holds the post of id, its
// release to each of recipients and its delivery at each, then checks
// that it holds each exactly once (and no other post or release).
func ReportedOnce(t testing.TB, a iantv1.AuditServiceClient, id string, recipients ...string) {
	t.Helper()
	WaitReport(t, a, id, func(r *iantv1.BulletinReport) bool {
		for _, cc := range recipients {
			if rs := Recipient(r, cc); rs == nil || rs.GetDeliverTime() == nil {
				return false
			}
		}
		return true
	})
	want := map[audit.EventKind]int{audit.EventPosted: 1, audit.EventReleased: len(recipients), audit.EventDelivered: len(recipients)}
	deadline := time.Now().Add(Eventually)
	for {
		got := CountKinds(Entries(t, a, id))
		complete := true
		for k, n := range want {
			if got[k] > n {
				t.Fatalf("audit log of %s holds %d %s events, want %d", id, got[k], k, n)
			}
			complete = complete && got[k] == n
		}
		if complete {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log of %s = %v after %s, want %v", id, got, Eventually, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NodeConn opens a plain NATS connection to the network's embedded
// backbone as state cc's node, with its genuine SVID and reply prefix:
// below the backbone client's API, where a compromised node writes any
// header it likes. It is closed when the test ends.
func NodeConn(t testing.TB, nw *testenv.Network, cc string) *nats.Conn {
	t.Helper()
	src := NodeSource(t, nw, cc)
	nc, err := nats.Connect(nw.Backbone.ClientURL(),
		nats.Secure(tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeMemberOf(nw.TD))),
		nats.Timeout(10*time.Second), nats.CustomInboxPrefix(backbone.ReplyPrefix(cc)), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect to the backbone as %s's node: %v", cc, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
