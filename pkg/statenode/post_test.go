package statenode_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// waitOutboxEmpty waits until cc's node has no copy left to publish.
func waitOutboxEmpty(t *testing.T, nw *testenv.Network, cc string) statenode.OutboxStats {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for {
		st, err := nw.Node(cc).Outbox(t.Context())
		if err == nil && st.Pending == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's outbox = %+v, %v; want empty", cc, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receivedBeforeOutage waits until each of states stored bulletin id.
// Tests call it before they stop the backbone: a node that opens a copy
// during the outage cannot read the origin's directory entry, and today
// rejects the copy for good instead of retrying it (a transient failure
// taken for a verdict, in the receive path), which these tests are not
// about.
func receivedBeforeOutage(t *testing.T, nw *testenv.Network, id string, states ...string) {
	t.Helper()
	for _, cc := range states {
		nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst(cc)), id)
	}
}

// samePending reports whether a post's pending recipients are want, in
// any order.
func samePending(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// wantInvalidField checks that err is InvalidArgument naming field.
func wantInvalidField(t *testing.T, what string, err error, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Errorf("%s = %v, want InvalidArgument", what, err)
		return
	}
	for _, d := range st.Details() {
		if ed, ok := d.(*iantv1.ErrorDetail); ok && ed.GetField() == field {
			return
		}
	}
	t.Errorf("%s = %v, want the field %s named", what, err, field)
}

// TestPostThroughABackboneOutage stops the backbone while posts are in
// flight and posts on during the outage: every post is answered OK (those
// of the outage naming every recipient as pending), and once the backbone
// is back every recipient holds every bulletin exactly once and the audit
// log shows each posted, released and delivered once.
func TestPostThroughABackboneOutage(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CA")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	to := []string{"US", "CA"}
	first := nettest.PostKeyed(t, fp, nettest.Draft("before the outage", to...), "")
	if len(first.GetPendingRecipients()) > 0 {
		t.Errorf("post with the backbone up: pending %v, want none", first.GetPendingRecipients())
	}
	ids := []string{first.GetBulletin().GetBulletin().GetId()}
	// Opened at US and CA before the outage: they hold MX's directory
	// entry, and the outage hits MX's copies only.
	receivedBeforeOutage(t, nw, ids[0], to...)

	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Go(func() { // in flight while the backbone stops
		for i := range 3 {
			resp, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft(fmt.Sprintf("as it stops %d", i), to...)})
			if err != nil {
				t.Errorf("post %d as the backbone stops = %v, want OK", i, err)
				return
			}
			mu.Lock()
			ids = append(ids, resp.GetBulletin().GetBulletin().GetId())
			mu.Unlock()
		}
	})
	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range 2 {
		resp := nettest.PostKeyed(t, fp, nettest.Draft(fmt.Sprintf("during the outage %d", i), to...), "")
		if !samePending(resp.GetPendingRecipients(), to) {
			t.Errorf("post during the outage: pending %v, want %v", resp.GetPendingRecipients(), to)
		}
		ids = append(ids, resp.GetBulletin().GetBulletin().GetId())
	}
	if st, err := nw.Node("MX").Outbox(t.Context()); err != nil || st.Pending < 4 {
		t.Errorf("MX's outbox during the outage = %+v, %v; want at least the 4 copies of the outage", st, err)
	}
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}

	for _, cc := range to {
		nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst(cc)), ids...)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, id := range ids {
		nettest.ReportedOnce(t, auditor, id, to...)
	}
	st := waitOutboxEmpty(t, nw, "MX")
	t.Logf("posted %d (2 during the outage, 3 as it began), answered OK %d, held once at %v, outbox %+v", len(ids), len(ids), to, st)
}

// TestPostCommittedBeforeACrash posts with the backbone down (the copies
// are committed, not published), stops MX's node with them pending and
// starts it again with the backbone back: the copies are delivered
// exactly once, and the author's retry with the same idempotency key,
// its answer lost, gets the same bulletin and creates nothing new.
func TestPostCommittedBeforeACrash(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CA")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	to := []string{"US", "CA"}
	warm := nettest.PostKeyed(t, fp, nettest.Draft("warm the directory", to...), "warm").GetBulletin().GetBulletin().GetId()
	receivedBeforeOutage(t, nw, warm, to...)

	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	draft := nettest.Draft("committed before the crash", to...)
	lost := nettest.PostKeyed(t, fp, draft, "retry-me") // the author never sees this answer
	id := lost.GetBulletin().GetBulletin().GetId()
	if st, err := nw.Node("MX").Outbox(t.Context()); err != nil || st.Pending != 2 {
		t.Fatalf("MX's outbox before the crash = %+v, %v; want 2 copies pending", st, err)
	}
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}

	fp = nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	retry := nettest.PostKeyed(t, fp, draft, "retry-me")
	if got := retry.GetBulletin().GetBulletin().GetId(); got != id {
		t.Fatalf("retry with the same key = bulletin %s, want %s", got, id)
	}
	for _, cc := range to {
		nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst(cc)), warm, id)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nettest.ReportedOnce(t, auditor, id, to...)
	if sent := listAll(t, fp); len(sent) != 2 || sent[id] != 1 {
		t.Errorf("MX lists %v, want the warm-up and %s once", sent, id)
	}
	waitOutboxEmpty(t, nw, "MX")
}

// TestPostIdempotencyKey retries a post with the same key (the same
// bulletin, nothing new anywhere), with the same key and another draft
// (InvalidArgument naming idempotency_key) and with malformed keys.
func TestPostIdempotencyKey(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("once only", "US")
	first := nettest.PostKeyed(t, fp, draft, "k-0001").GetBulletin().GetBulletin().GetId()
	for range 2 {
		if again := nettest.PostKeyed(t, fp, draft, "k-0001").GetBulletin().GetBulletin().GetId(); again != first {
			t.Errorf("retry with the same key = %s, want %s", again, first)
		}
	}
	other := nettest.Draft("once only, edited", "US")
	_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: other, IdempotencyKey: "k-0001"})
	wantInvalidField(t, "post of another draft with a used key", err, "idempotency_key")
	for _, key := range []string{strings.Repeat("k", 65), "tab\tkey", "clé", "nul\x00"} {
		_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: draft, IdempotencyKey: key})
		wantInvalidField(t, fmt.Sprintf("post with key %q", key), err, "idempotency_key")
	}
	// A new key is a new bulletin.
	second := nettest.PostKeyed(t, fp, draft, "k-0002").GetBulletin().GetBulletin().GetId()
	if second == first {
		t.Errorf("a new key returned the bulletin of the old one")
	}
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("US")), first, second)
	if sent := listAll(t, fp); len(sent) != 2 {
		t.Errorf("MX lists %d bulletins, want 2", len(sent))
	}
	nettest.ReportedOnce(t, nettest.AuditClient(t, nw, testenv.Auditor()), first, "US")
}

// TestPostRefusedWhenOutboxFull bounds MX's outbox at two copies: with the
// backbone down the third post is refused with Unavailable naming the
// bound, and once the copies are out posting works again.
func TestPostRefusedWhenOutboxFull(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(_ string, c *statenode.Config) {
		c.MaxPendingCopies = 2
	}})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	warm := nettest.Post(t, fp, nettest.Draft("warm the directory", "US")).GetBulletin().GetId()
	receivedBeforeOutage(t, nw, warm, "US")
	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 2 {
		resp := nettest.PostKeyed(t, fp, nettest.Draft(fmt.Sprintf("queued %d", i), "US"), "")
		ids = append(ids, resp.GetBulletin().GetBulletin().GetId())
	}
	_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("one too many", "US")})
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "2 copies wait for the backbone, its bound (max_pending_copies)") {
		t.Fatalf("post with a full outbox = %v, want Unavailable naming the bound of 2", err)
	}
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitOutboxEmpty(t, nw, "MX")
	ids = append(ids, nettest.Post(t, fp, nettest.Draft("after the outage", "US")).GetBulletin().GetId())
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("US")), ids...)
}

// TestPostDuringAnOutageSealsWithTheEntriesVerifiedBefore stops the
// backbone when MX's cached directory entry of US has grown stale (MX's
// clock moved past the cache's 30 s): MX cannot read the directory, seals
// with the entry it verified before, and the post is queued, not refused.
func TestPostDuringAnOutageSealsWithTheEntriesVerifiedBefore(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "MX" {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		}
	}})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	first := nettest.Post(t, fp, nettest.Draft("before the outage", "US")).GetBulletin().GetId()
	receivedBeforeOutage(t, nw, first, "US")
	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(time.Minute))
	resp := nettest.PostKeyed(t, fp, nettest.Draft("with a stale directory cache", "US"), "")
	if p := resp.GetPendingRecipients(); len(p) != 1 || p[0] != "US" {
		t.Errorf("post during the outage: pending %v, want [US]", p)
	}
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("US")), first, resp.GetBulletin().GetBulletin().GetId())
}
