package secretariat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
)

func TestAuditReportPostDeliverReadAck(t *testing.T) {
	t.Parallel()
	nw := nettest.StartAudit(t, secretariat.AuditConfig{}, "MX", "US", "CA", "JM")
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("FTF travel via MEX", "US", "CA", "JM")).GetBulletin().GetId()

	// Read at US (twice: one read receipt) and at CA (by subscription);
	// acknowledged at US only.
	anUS := nettest.Dial(t, nw, testenv.Analyst("US"))
	nettest.WaitStored(t, anUS, id)
	nettest.WaitStored(t, anUS, id)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if got := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{FromStart: true}).Next(t); got.GetBulletin().GetId() != id {
		t.Fatalf("CA subscription delivered %s, want %s", got.GetBulletin().GetId(), id)
	}
	fpUS := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); err != nil {
		t.Fatal(err)
	}

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	r := nettest.WaitReport(t, auditor, id, func(r *iantv1.BulletinReport) bool {
		us, ca, jm := nettest.Recipient(r, "US"), nettest.Recipient(r, "CA"), nettest.Recipient(r, "JM")
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
	us, ca, jm := nettest.Recipient(r, "US"), nettest.Recipient(r, "CA"), nettest.Recipient(r, "JM")
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
	got := nettest.CountKinds(nettest.Entries(t, auditor, id))
	want := map[audit.EventKind]int{audit.EventPosted: 1, audit.EventReleased: 3, audit.EventDelivered: 3, audit.EventRead: 2, audit.EventAcknowledged: 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s events = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}

	// The origin's focal point may see the report; another state's asks
	// only about its own state's bulletins (there is none of that id), and
	// is refused another origin's; an analyst may not call the secretariat
	// at all.
	if _, err := nettest.AuditClient(t, nw, testenv.FocalPoint("MX")).GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id}); err != nil {
		t.Errorf("origin focal point GetBulletinReport = %v", err)
	}
	auditUS := nettest.AuditClient(t, nw, testenv.FocalPoint("US"))
	if _, err := auditUS.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id}); status.Code(err) != codes.NotFound {
		t.Errorf("recipient focal point GetBulletinReport = %v, want NotFound (no bulletin %s of US)", err, id)
	}
	_, err := auditUS.GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id, Origin: "MX"})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "originated") {
		t.Errorf("recipient focal point GetBulletinReport(origin MX) = %v, want PermissionDenied", err)
	}
	if _, err := nettest.AuditClient(t, nw, testenv.FocalPoint("MX")).ListOverdue(t.Context(), &iantv1.ListOverdueRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("focal point ListOverdue = %v, want PermissionDenied", err)
	}
	if _, err := nettest.AuditClient(t, nw, testenv.Analyst("MX")).GetBulletinReport(t.Context(), &iantv1.GetBulletinReportRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("analyst GetBulletinReport = %v, want PermissionDenied", err)
	}
}

func TestAuditSecretariatDownWhileReceiptsFlow(t *testing.T) {
	t.Parallel()
	nw := nettest.StartAudit(t, secretariat.AuditConfig{}, "MX", "US", "CA")
	fp, anUS, anCA := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.Analyst("US")), nettest.Dial(t, nw, testenv.Analyst("CA"))
	fpUS := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	complete := func(r *iantv1.BulletinReport) bool {
		us, ca := nettest.Recipient(r, "US"), nettest.Recipient(r, "CA")
		return r.GetPostTime() != nil && us != nil && ca != nil && us.GetReleaseTime() != nil && ca.GetReleaseTime() != nil &&
			us.GetDeliverTime() != nil && ca.GetDeliverTime() != nil &&
			us.GetReadTime() != nil && ca.GetReadTime() != nil && us.GetAcknowledgeTime() != nil
	}
	exchange := func(title string) string {
		id := nettest.Post(t, fp, nettest.Draft(title, "US", "CA")).GetBulletin().GetId()
		nettest.WaitStored(t, anUS, id)
		nettest.WaitStored(t, anCA, id)
		if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	before := exchange("before the outage")
	nettest.WaitReport(t, auditor, before, complete)

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
	auditor = nettest.AuditClient(t, nw, testenv.Auditor())
	for _, id := range during {
		nettest.WaitReport(t, auditor, id, complete)
	}
	// Each bulletin: posted, 2 released, 2 delivered, 2 read, 1 acknowledged.
	const perBulletin = 8
	for _, id := range append([]string{before}, during...) {
		if n := len(nettest.Entries(t, auditor, id)); n != perBulletin {
			t.Errorf("bulletin %s has %d log entries, want %d: %v", id, n, perBulletin, nettest.CountKinds(nettest.Entries(t, auditor, id)))
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
	nw := nettest.StartAudit(t, secretariat.AuditConfig{
		Deadlines:          audit.Deadlines{Flash: 200 * time.Millisecond},
		EscalationInterval: 20 * time.Millisecond,
	}, "MX", "US", "CA")
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
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
		timeout := time.After(nettest.Eventually)
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
				t.Fatalf("escalations of %s at %v not seen within %s (seen %v)", id, states, nettest.Eventually, seen)
			}
		}
	}
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	first := nettest.Post(t, fp, nettest.Draft("nobody acknowledges", "US", "CA")).GetBulletin().GetId()
	waitEscalated(first, "US", "CA")
	// A later bulletin escalated proves more passes ran after the first's.
	second := nettest.Post(t, fp, nettest.Draft("nor this", "US")).GetBulletin().GetId()
	waitEscalated(second, "US")

	if err := nw.StopSecretariat(); err != nil { // and after a restart
		t.Fatal(err)
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditor = nettest.AuditClient(t, nw, testenv.Auditor())
	third := nettest.Post(t, fp, nettest.Draft("nor that", "CA")).GetBulletin().GetId()
	nettest.WaitReport(t, auditor, third, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "CA") != nil && nettest.Recipient(r, "CA").GetEscalateTime() != nil
	})

	for _, k := range []string{first + "/US", first + "/CA", second + "/US"} {
		if seen[k] != 1 {
			t.Errorf("escalation %s streamed %d times, want 1", k, seen[k])
		}
	}
	if n := nettest.CountKinds(nettest.Entries(t, auditor, first))[audit.EventEscalated]; n != 2 {
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

// TestAuditReportsAForward has CO forward MX's GREEN bulletin to PE: PE's
// receipts carry CO's signed statement, and the report shows PE as a
// holder by CO's forward, delivered and read.
func TestAuditReportsAForward(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	draft := nettest.Draft("shared onward", "CO")
	draft.Marking = iantv1.Marking_MARKING_GREEN
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), draft).GetBulletin().GetId()
	co := nettest.Dial(t, nw, testenv.FocalPoint("CO"))
	nettest.WaitStored(t, co, id)
	if _, err := co.ForwardBulletin(t.Context(), &iantv1.ForwardBulletinRequest{Id: id, TargetState: "PE"}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("PE")), id)
	r := nettest.WaitReport(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, func(r *iantv1.BulletinReport) bool {
		pe := nettest.Recipient(r, "PE")
		return pe != nil && pe.GetDeliverTime() != nil && pe.GetReadTime() != nil
	})
	if pe, co := nettest.Recipient(r, "PE"), nettest.Recipient(r, "CO"); pe.GetForwardedBy() != "CO" || co.GetForwardedBy() != "" {
		t.Errorf("report: PE forwarded by %q, CO by %q; want CO, and CO released by the origin", pe.GetForwardedBy(), co.GetForwardedBy())
	}
}
