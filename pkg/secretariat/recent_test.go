package secretariat_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestListReports: the auditor pages through every origin's recent
// bulletins, newest first; a focal point sees its own state's only and is
// refused another's (logged); an analyst may not call at all (logged);
// bad input names its field.
func TestListReports(t *testing.T) {
	t.Parallel()
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "CA"}, Logger: logs.Logger()})
	fpMX, fpUS := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.FocalPoint("US"))
	var posted []string // "origin/id", oldest first
	for i, p := range []struct {
		c      iantv1.BulletinServiceClient
		origin string
		to     string
	}{{fpMX, "MX", "US"}, {fpUS, "US", "CA"}, {fpMX, "MX", "CA"}, {fpMX, "MX", "US"}} {
		if i > 0 {
			waitClockPast(t, nw, posted[i-1])
		}
		id := nettest.Post(t, p.c, nettest.Draft("row "+p.origin, p.to)).GetBulletin().GetId()
		posted = append(posted, p.origin+"/"+id)
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	newest := func(origin string) []string {
		var out []string
		for i := len(posted) - 1; i >= 0; i-- {
			if origin == "" || posted[i][:2] == origin {
				out = append(out, posted[i])
			}
		}
		return out
	}
	// Each report enters the log with its origin's posted receipt.
	for _, k := range posted {
		nettest.WaitReportOf(t, auditor, k[:2], k[3:], func(*iantv1.BulletinReport) bool { return true })
	}

	list := func(c iantv1.AuditServiceClient, req *iantv1.ListReportsRequest) []string {
		t.Helper()
		var keys []string
		for range 10 {
			resp, err := c.ListReports(t.Context(), req)
			if err != nil {
				t.Fatalf("ListReports(%v) = %v", req, err)
			}
			for _, r := range resp.GetReports() {
				keys = append(keys, r.GetOrigin()+"/"+r.GetId())
			}
			if resp.GetNextPageToken() == "" {
				return keys
			}
			req.PageToken = resp.GetNextPageToken()
		}
		t.Fatal("ListReports did not end within 10 pages")
		return nil
	}
	auditMX, auditUS := nettest.AuditClient(t, nw, testenv.FocalPoint("MX")), nettest.AuditClient(t, nw, testenv.FocalPoint("US"))
	for _, tt := range []struct {
		name string
		c    iantv1.AuditServiceClient
		req  *iantv1.ListReportsRequest
		want []string
	}{
		{"auditor, pages of 3", auditor, &iantv1.ListReportsRequest{PageSize: 3}, newest("")},
		{"auditor, default page", auditor, &iantv1.ListReportsRequest{}, newest("")},
		{"auditor, origin US", auditor, &iantv1.ListReportsRequest{Origin: "US"}, newest("US")},
		{"focal point MX, pages of 1", auditMX, &iantv1.ListReportsRequest{PageSize: 1}, newest("MX")},
		{"focal point MX names MX", auditMX, &iantv1.ListReportsRequest{Origin: "MX"}, newest("MX")},
		{"focal point US", auditUS, &iantv1.ListReportsRequest{}, newest("US")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(tt.c, tt.req)); diff != "" {
				t.Errorf("ListReports (-want +got):\n%s", diff)
			}
		})
	}

	refusals := []struct {
		name  string
		c     iantv1.AuditServiceClient
		req   *iantv1.ListReportsRequest
		code  codes.Code
		field string // or the refusing rule
	}{
		{"focal point names another origin", auditMX, &iantv1.ListReportsRequest{Origin: "US"}, codes.PermissionDenied, "audit.own_origin"},
		{"analyst", nettest.AuditClient(t, nw, testenv.Analyst("MX")), &iantv1.ListReportsRequest{}, codes.PermissionDenied, "caller.secretariat"},
		{"negative page size", auditor, &iantv1.ListReportsRequest{PageSize: -1}, codes.InvalidArgument, "page_size"},
		{"page size above 100", auditor, &iantv1.ListReportsRequest{PageSize: 101}, codes.InvalidArgument, "page_size"},
		{"origin not a member", auditor, &iantv1.ListReportsRequest{Origin: "ZZ"}, codes.InvalidArgument, "origin"},
		{"token not issued", auditor, &iantv1.ListReportsRequest{PageToken: "n42"}, codes.InvalidArgument, "page_token"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.c.ListReports(t.Context(), tt.req)
			if status.Code(err) != tt.code || nettest.ErrorField(err) != tt.field {
				t.Errorf("ListReports(%v) = %d reports, %v (field %q), want %v naming %q",
					tt.req, len(resp.GetReports()), err, nettest.ErrorField(err), tt.code, tt.field)
			}
		})
	}
	if n := logs.Count("msg=refused", "rule=audit.own_origin"); n != 1 {
		t.Errorf("%d refusals by audit.own_origin logged, want 1", n)
	}
	if n := logs.Count("msg=refused call", "rule=caller.secretariat", "method="+iantv1.AuditService_ListReports_FullMethodName); n != 1 {
		t.Errorf("%d refusals of the analyst's call logged, want 1", n)
	}
}

// waitClockPast waits until the wall clock is past the creation time of
// bulletin key ("origin/id"), so that the next bulletin is created later:
// the list's order is by signed creation time.
func waitClockPast(t *testing.T, nw *testenv.Network, key string) {
	t.Helper()
	c := nettest.Dial(t, nw, testenv.FocalPoint(key[:2]))
	created := nettest.WaitStored(t, c, key[3:]).GetBulletin().GetCreateTime().AsTime()
	deadline := time.Now().Add(nettest.Eventually)
	for !time.Now().After(created) {
		if time.Now().After(deadline) {
			t.Fatalf("the clock did not pass %v", created)
		}
		time.Sleep(time.Millisecond)
	}
}
