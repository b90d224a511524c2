package secretariat_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestGetStatsByPrecedence runs MX and US over a real network. US's
// clock runs ahead of the others' (by less than the log's clock-skew
// tolerance), so that the times its node reports land in known buckets
// whatever the machine's speed: 20 s ahead when it receives a FLASH and
// a ROUTINE bulletin (delivery in (15s, 1m], bucket 3), 3 min ahead when
// its focal point acknowledges the FLASH (in (1m, 5m], bucket 4: late
// under a FLASH deadline of 1 min). The auditor's GetStats splits them by
// precedence; the filter, bad precedences and other callers are refused,
// naming the field or rule.
func TestGetStatsByPrecedence(t *testing.T) {
	t.Parallel()
	var usAhead atomic.Int64
	usAhead.Store(int64(20 * time.Second))
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, Logger: logs.Logger(),
		Audit: secretariat.AuditConfig{Deadlines: audit.Deadlines{Flash: time.Minute}},
		NodeConfig: func(cc string, c *statenode.Config) {
			if cc == "US" {
				c.Now = func() time.Time { return time.Now().Add(time.Duration(usAhead.Load())) }
			}
		}})
	start := timestamppb.New(time.Now().Add(-time.Hour))
	fpMX, fpUS := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.FocalPoint("US"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	delivered := func(r *iantv1.BulletinReport) bool {
		us := nettest.Recipient(r, "US")
		return us != nil && us.GetDeliverTime() != nil && us.GetReleaseTime() != nil
	}
	flash := nettest.Post(t, fpMX, nettest.Draft("FLASH for the charts", "US")).GetBulletin().GetId()
	routine := nettest.Draft("ROUTINE for the charts", "US")
	routine.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	routineID := nettest.Post(t, fpMX, routine).GetBulletin().GetId()
	nettest.WaitReport(t, auditor, flash, delivered)
	nettest.WaitReport(t, auditor, routineID, delivered)
	nettest.WaitStored(t, fpUS, flash)
	usAhead.Store(int64(3 * time.Minute))
	if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: flash}); err != nil {
		t.Fatal(err)
	}
	nettest.WaitReport(t, auditor, flash, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US").GetAcknowledgeTime() != nil
	})

	resp, err := auditor.GetStats(t.Context(), &iantv1.GetStatsRequest{StartTime: start})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetBucketBounds()); n != 9 || resp.GetBucketBounds()[3].AsDuration() != time.Minute {
		t.Errorf("bucket bounds = %v, want 9 ending the fourth bucket at 1m", resp.GetBucketBounds())
	}
	if len(resp.GetStates()) != 1 || resp.GetStates()[0].GetState() != "US" {
		t.Fatalf("GetStats states = %v, want US alone", resp.GetStates())
	}
	us := resp.GetStates()[0]
	if us.GetReleased() != 2 || us.GetReceived() != 2 || us.GetAcknowledged() != 1 {
		t.Errorf("US totals: released %d received %d acknowledged %d, want 2, 2, 1", us.GetReleased(), us.GetReceived(), us.GetAcknowledged())
	}
	type row struct {
		prec                        iantv1.Precedence
		released, overdue, ackNever int64
		deliveryBuckets, ackBuckets []int64
	}
	hist := func(at ...int) []int64 {
		b := make([]int64, 10)
		for _, i := range at {
			b[i]++
		}
		return b
	}
	want := []row{
		{iantv1.Precedence_PRECEDENCE_FLASH, 1, 1, 0, hist(3), hist(4)},
		{iantv1.Precedence_PRECEDENCE_IMMEDIATE, 0, 0, 0, hist(), hist()},
		{iantv1.Precedence_PRECEDENCE_PRIORITY, 0, 0, 0, hist(), hist()},
		{iantv1.Precedence_PRECEDENCE_ROUTINE, 1, 0, 1, hist(3), hist()},
	}
	if len(us.GetPrecedences()) != len(want) {
		t.Fatalf("US has %d precedences, want 4: %v", len(us.GetPrecedences()), us.GetPrecedences())
	}
	for i, w := range want {
		p := us.GetPrecedences()[i]
		got := row{p.GetPrecedence(), p.GetReleased(), p.GetOverdue(), p.GetAcknowledgement().GetNever(),
			p.GetDelivery().GetBucketCounts(), p.GetAcknowledgement().GetBucketCounts()}
		if got.prec != w.prec || got.released != w.released || got.overdue != w.overdue || got.ackNever != w.ackNever ||
			!slices.Equal(got.deliveryBuckets, w.deliveryBuckets) || !slices.Equal(got.ackBuckets, w.ackBuckets) {
			t.Errorf("US %v = %+v, want %+v", w.prec, got, w)
		}
	}
	if d := us.GetPrecedences()[0].GetDelivery().GetP50().AsDuration(); d <= 15*time.Second || d > time.Minute {
		t.Errorf("US FLASH delivery p50 = %v, want in (15s, 1m]", d)
	}

	only, err := auditor.GetStats(t.Context(), &iantv1.GetStatsRequest{StartTime: start,
		Precedences: []iantv1.Precedence{iantv1.Precedence_PRECEDENCE_ROUTINE}})
	if err != nil {
		t.Fatal(err)
	}
	if s := only.GetStates(); len(s) != 1 || s[0].GetReleased() != 1 || len(s[0].GetPrecedences()) != 1 ||
		s[0].GetPrecedences()[0].GetPrecedence() != iantv1.Precedence_PRECEDENCE_ROUTINE {
		t.Errorf("GetStats(ROUTINE) = %v, want US with its one ROUTINE bulletin", s)
	}

	refusals := []struct {
		name  string
		c     iantv1.AuditServiceClient
		req   *iantv1.GetStatsRequest
		code  codes.Code
		field string // or the refusing rule
	}{
		{"focal point", nettest.AuditClient(t, nw, testenv.FocalPoint("MX")), &iantv1.GetStatsRequest{StartTime: start}, codes.PermissionDenied, "caller.secretariat"},
		{"analyst", nettest.AuditClient(t, nw, testenv.Analyst("US")), &iantv1.GetStatsRequest{StartTime: start}, codes.PermissionDenied, "caller.secretariat"},
		{"no start", auditor, &iantv1.GetStatsRequest{}, codes.InvalidArgument, "start_time"},
		{"unspecified precedence", auditor, &iantv1.GetStatsRequest{StartTime: start, Precedences: []iantv1.Precedence{0}}, codes.InvalidArgument, "precedences[0]"},
		{"unknown precedence", auditor, &iantv1.GetStatsRequest{StartTime: start,
			Precedences: []iantv1.Precedence{iantv1.Precedence_PRECEDENCE_FLASH, 7}}, codes.InvalidArgument, "precedences[1]"},
		{"precedence twice", auditor, &iantv1.GetStatsRequest{StartTime: start,
			Precedences: []iantv1.Precedence{iantv1.Precedence_PRECEDENCE_FLASH, iantv1.Precedence_PRECEDENCE_FLASH}}, codes.InvalidArgument, "precedences[1]"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.c.GetStats(t.Context(), tt.req)
			if status.Code(err) != tt.code || nettest.ErrorField(err) != tt.field {
				t.Errorf("GetStats(%v) = %d states, %v (field %q), want %v naming %q",
					tt.req, len(resp.GetStates()), err, nettest.ErrorField(err), tt.code, tt.field)
			}
		})
	}
	if n := logs.Count("msg=refused call", "rule=caller.secretariat", "method="+iantv1.AuditService_GetStats_FullMethodName); n != 2 {
		t.Errorf("%d refusals of GetStats logged, want 2 (the focal point's and the analyst's)", n)
	}
}
