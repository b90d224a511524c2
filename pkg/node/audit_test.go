package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/node"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// eventually bounds every wait for the audit log to catch up.
const eventually = 30 * time.Second

// startAuditNetwork is startNetwork with an audit configuration.
func startAuditNetwork(t *testing.T, a node.AuditConfig, states ...string) *testenv.Network {
	t.Helper()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: t.TempDir(), States: states, Audit: a})
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

// auditClient connects person p to the secretariat node.
func auditClient(t *testing.T, nw *testenv.Network, p identity.Principal) iantv1.AuditServiceClient {
	t.Helper()
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	c.Node, c.NodeID = nw.Secretariat.Addr(), testenv.NodePrincipal("").ID(nw.TD).String()
	conn, _, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return iantv1.NewAuditServiceClient(conn)
}

// waitReport polls the report of id until ok accepts it.
func waitReport(t *testing.T, a iantv1.AuditServiceClient, id string, ok func(*iantv1.BulletinReport) bool) *iantv1.BulletinReport {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		resp, err := a.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id})
		if err == nil && ok(resp.GetReport()) {
			return resp.GetReport()
		}
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("GetBulletinReport(%s) = %v", id, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("report of %s not complete within %s; last: %v, %v", id, eventually, resp.GetReport(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// entries returns the logged events of bulletin id, each checked against
// a freshly signed checkpoint with its inclusion proof.
func entries(t *testing.T, a iantv1.AuditServiceClient, id string) []audit.Event {
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
	resp, err := a.GetInclusionProof(t.Context(), &iantv1.GetInclusionProofRequest{
		Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: id}, TreeSize: cp.Size})
	if err != nil {
		t.Fatalf("GetInclusionProof(%s) = %v", id, err)
	}
	var out []audit.Event
	for _, e := range resp.GetEntries() {
		if err := audit.VerifyInclusion(cp, e.GetIndex(), e.GetEntry(), e.GetHashes()); err != nil {
			t.Errorf("entry %d: %v", e.GetIndex(), err)
		}
		ev, err := audit.UnmarshalEvent(e.GetEntry())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func countKinds(events []audit.Event) map[audit.EventKind]int {
	m := map[audit.EventKind]int{}
	for _, e := range events {
		m[e.Kind]++
	}
	return m
}

func recipient(r *iantv1.BulletinReport, state string) *iantv1.RecipientStatus {
	for _, rs := range r.GetRecipients() {
		if rs.GetState() == state {
			return rs
		}
	}
	return nil
}

func TestAuditReportPostDeliverReadAck(t *testing.T) {
	t.Parallel()
	nw := startAuditNetwork(t, node.AuditConfig{}, "MX", "US", "CA", "JM")
	id := post(t, dial(t, nw, testenv.FocalPoint("MX")), draft("FTF travel via MEX", "US", "CA", "JM")).GetBulletin().GetId()

	// Read at US (twice: one read receipt) and at CA (by subscription);
	// acknowledged at US only.
	anUS := dial(t, nw, testenv.Analyst("US"))
	waitStored(t, anUS, id)
	waitStored(t, anUS, id)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if got := subscribe(t, ctx, dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{FromStart: true}).next(t); got.GetBulletin().GetId() != id {
		t.Fatalf("CA subscription delivered %s, want %s", got.GetBulletin().GetId(), id)
	}
	fpUS := dial(t, nw, testenv.FocalPoint("US"))
	if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); err != nil {
		t.Fatal(err)
	}

	auditor := auditClient(t, nw, testenv.Auditor())
	r := waitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		us, ca, jm := recipient(r, "US"), recipient(r, "CA"), recipient(r, "JM")
		return r.GetPostTime() != nil && us != nil && ca != nil && jm != nil &&
			us.GetDeliverTime() != nil && ca.GetDeliverTime() != nil && jm.GetDeliverTime() != nil &&
			// The origin's release receipts travel apart from the
			// recipients' and may be ingested after them.
			us.GetReleaseTime() != nil && ca.GetReleaseTime() != nil && jm.GetReleaseTime() != nil &&
			us.GetReadTime() != nil && ca.GetReadTime() != nil && us.GetAcknowledgeTime() != nil
	})
	if r.GetOrigin() != "MX" || r.GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH || len(r.GetRecipients()) != 3 {
		t.Errorf("report = origin %s precedence %v %d recipients, want MX FLASH 3", r.GetOrigin(), r.GetPrecedence(), len(r.GetRecipients()))
	}
	posted := r.GetPostTime().AsTime()
	for _, rs := range r.GetRecipients() {
		times := []time.Time{posted, rs.GetReleaseTime().AsTime(), rs.GetDeliverTime().AsTime()}
		if rs.GetReadTime() != nil {
			times = append(times, rs.GetReadTime().AsTime())
		}
		if rs.GetAcknowledgeTime() != nil {
			times = append(times, rs.GetAcknowledgeTime().AsTime())
		}
		for i := 1; i < len(times); i++ {
			if times[i].Before(times[i-1]) {
				t.Errorf("%s: times out of order (posted, released, delivered, read, acknowledged): %v", rs.GetState(), times)
			}
		}
		if rs.GetDeliveryLatency().AsDuration() <= 0 {
			t.Errorf("%s: delivery latency %v", rs.GetState(), rs.GetDeliveryLatency())
		}
	}
	us, ca, jm := recipient(r, "US"), recipient(r, "CA"), recipient(r, "JM")
	if want := testenv.Analyst("US").ID(nw.TD).String(); us.GetReadBy() != want {
		t.Errorf("US read by %q, want %q", us.GetReadBy(), want)
	}
	if want := testenv.FocalPoint("US").ID(nw.TD).String(); us.GetAcknowledgedBy() != want {
		t.Errorf("US acknowledged by %q, want %q", us.GetAcknowledgedBy(), want)
	}
	if ca.GetAcknowledgeTime() != nil || jm.GetReadTime() != nil || jm.GetAcknowledgeTime() != nil {
		t.Errorf("CA acked %v, JM read %v acked %v; want none", ca.GetAcknowledgeTime(), jm.GetReadTime(), jm.GetAcknowledgeTime())
	}

	// The log holds exactly these events, each proven in the checkpoint.
	got := countKinds(entries(t, auditor, id))
	want := map[audit.EventKind]int{audit.EventPosted: 1, audit.EventReleased: 3, audit.EventDelivered: 3, audit.EventRead: 2, audit.EventAcknowledged: 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s events = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}

	// The origin's focal point may see the report; another state's may not,
	// and an analyst may not call the secretariat at all.
	if _, err := auditClient(t, nw, testenv.FocalPoint("MX")).GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id}); err != nil {
		t.Errorf("origin focal point GetBulletinReport = %v", err)
	}
	_, err := auditClient(t, nw, testenv.FocalPoint("US")).GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "originated") {
		t.Errorf("recipient focal point GetBulletinReport = %v, want PermissionDenied", err)
	}
	if _, err := auditClient(t, nw, testenv.FocalPoint("MX")).ListOverdue(t.Context(), &iantv1.ListOverdueRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("focal point ListOverdue = %v, want PermissionDenied", err)
	}
	if _, err := auditClient(t, nw, testenv.Analyst("MX")).GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("analyst GetBulletinReport = %v, want PermissionDenied", err)
	}
}

func TestAuditSecretariatDownWhileReceiptsFlow(t *testing.T) {
	t.Parallel()
	nw := startAuditNetwork(t, node.AuditConfig{}, "MX", "US", "CA")
	fp, anUS, anCA := dial(t, nw, testenv.FocalPoint("MX")), dial(t, nw, testenv.Analyst("US")), dial(t, nw, testenv.Analyst("CA"))
	fpUS := dial(t, nw, testenv.FocalPoint("US"))
	auditor := auditClient(t, nw, testenv.Auditor())
	complete := func(r *iantv1.BulletinReport) bool {
		us, ca := recipient(r, "US"), recipient(r, "CA")
		return r.GetPostTime() != nil && us != nil && ca != nil && us.GetDeliverTime() != nil && ca.GetDeliverTime() != nil &&
			us.GetReadTime() != nil && ca.GetReadTime() != nil && us.GetAcknowledgeTime() != nil
	}
	exchange := func(title string) string {
		id := post(t, fp, draft(title, "US", "CA")).GetBulletin().GetId()
		waitStored(t, anUS, id)
		waitStored(t, anCA, id)
		if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	before := exchange("before the outage")
	waitReport(t, auditor, before, complete)

	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	var during []string
	for _, title := range []string{"during the outage a", "during the outage b", "during the outage c"} {
		during = append(during, exchange(title))
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = auditClient(t, nw, testenv.Auditor())
	for _, id := range during {
		waitReport(t, auditor, id, complete)
	}
	// Each bulletin: posted, 2 released, 2 delivered, 2 read, 1 acknowledged.
	const perBulletin = 8
	for _, id := range append([]string{before}, during...) {
		if n := len(entries(t, auditor, id)); n != perBulletin {
			t.Errorf("bulletin %s has %d log entries, want %d", id, n, perBulletin)
		}
	}
	cp, err := auditor.GetCheckpoint(t.Context(), &iantv1.GetCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(cp.GetVerifierKey())
	c, err := audit.VerifyCheckpoint(cp.GetCheckpoint(), cp.GetOrigin(), v)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(4 * perBulletin); c.Size != want {
		t.Errorf("log size = %d, want %d (nothing lost, nothing twice)", c.Size, want)
	}
	st, err := auditor.GetStats(t.Context(), &iantv1.GetStatsRequest{StartTime: timestamppbNow(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.GetStates() {
		if s.GetReleased() != 4 || s.GetReceived() != 4 {
			t.Errorf("stats of %s: released %d received %d, want 4 and 4", s.GetState(), s.GetReleased(), s.GetReceived())
		}
	}
}

func TestAuditEscalatesOncePerBulletinAndState(t *testing.T) {
	t.Parallel()
	nw := startAuditNetwork(t, node.AuditConfig{
		Deadlines:          audit.Deadlines{Flash: 200 * time.Millisecond},
		EscalationInterval: 20 * time.Millisecond,
	}, "MX", "US", "CA")
	auditor := auditClient(t, nw, testenv.Auditor())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := auditor.WatchEscalations(ctx, &iantv1.WatchEscalationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *iantv1.OverdueItem, 64)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				close(got)
				return
			}
			got <- resp.GetItem()
		}
	}()
	seen := map[string]int{}
	waitEscalated := func(id string, states ...string) {
		t.Helper()
		timeout := time.After(eventually)
		for {
			all := true
			for _, s := range states {
				all = all && seen[id+"/"+s] > 0
			}
			if all {
				return
			}
			select {
			case it, ok := <-got:
				if !ok {
					t.Fatal("escalation stream ended")
				}
				seen[it.GetBulletinId()+"/"+it.GetState()]++
			case <-timeout:
				t.Fatalf("escalations of %s at %v not seen within %s (seen %v)", id, states, eventually, seen)
			}
		}
	}
	fp := dial(t, nw, testenv.FocalPoint("MX"))
	first := post(t, fp, draft("nobody acknowledges", "US", "CA")).GetBulletin().GetId()
	waitEscalated(first, "US", "CA")
	// A later bulletin escalated proves more passes ran after the first's.
	second := post(t, fp, draft("nor this", "US")).GetBulletin().GetId()
	waitEscalated(second, "US")

	if err := nw.StopSecretariat(); err != nil { // and after a restart
		t.Fatal(err)
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = auditClient(t, nw, testenv.Auditor())
	third := post(t, fp, draft("nor that", "CA")).GetBulletin().GetId()
	waitReport(t, auditor, third, func(r *iantv1.BulletinReport) bool {
		return recipient(r, "CA") != nil && recipient(r, "CA").GetEscalateTime() != nil
	})

	for _, k := range []string{first + "/US", first + "/CA", second + "/US"} {
		if seen[k] != 1 {
			t.Errorf("escalation %s streamed %d times, want 1", k, seen[k])
		}
	}
	if n := countKinds(entries(t, auditor, first))[audit.EventEscalated]; n != 2 {
		t.Errorf("first bulletin has %d escalated events, want 2", n)
	}
	over, err := auditor.ListOverdue(t.Context(), &iantv1.ListOverdueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(over.GetItems()) != 4 {
		t.Errorf("ListOverdue = %d items, want 4", len(over.GetItems()))
	}
	for _, it := range over.GetItems() {
		if it.GetEscalateTime() == nil || it.GetDueTime() == nil {
			t.Errorf("overdue %s/%s: escalated %v due %v", it.GetBulletinId(), it.GetState(), it.GetEscalateTime(), it.GetDueTime())
		}
	}
}

func timestamppbNow(d time.Duration) *timestamppb.Timestamp {
	return timestamppb.New(time.Now().Add(d))
}
