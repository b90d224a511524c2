package secretariat

import (
	"context"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// ListReports lists the reports of the most recent bulletins, newest
// first: every origin's for an auditor, its own state's for a focal point
// (its certificate decides; another origin named is refused and the
// refusal logged as the other audit refusals are).
func (s *auditService) ListReports(ctx context.Context, req *iantv1.ListReportsRequest) (*iantv1.ListReportsResponse, error) {
	p, err := nodeserver.RequireRole(ctx, "audit.role", "see delivery reports", identity.RoleAuditor, identity.RoleFocalPoint)
	if err != nil {
		return nil, s.n.refused(p, "", "", err)
	}
	q := audit.RecentQuery{Origin: req.GetOrigin(), Limit: int(req.GetPageSize())}
	if q.Origin != "" && !region.IsMember(q.Origin) {
		return nil, problem.Invalid("origin", "origin %q is not a member state (want an upper-case ISO code)", q.Origin)
	}
	if p.Role == identity.RoleFocalPoint {
		if q.Origin != "" && q.Origin != p.State {
			err := problem.Denied("audit.own_origin", "a focal point of %s sees reports only of bulletins %s originated", p.State, p.State)
			return nil, s.n.refused(p, "", q.Origin, err)
		}
		q.Origin = p.State
	}
	if tok := req.GetPageToken(); tok != "" {
		k, err := audit.ParseReportToken(tok)
		if err != nil {
			return nil, err
		}
		q.After = &k
	}
	reports, err := s.n.audit.log.Recent(ctx, q)
	if err != nil {
		return nil, err
	}
	resp := &iantv1.ListReportsResponse{}
	for _, r := range reports {
		resp.Reports = append(resp.Reports, reportToProto(r))
	}
	limit := q.Limit
	if limit == 0 {
		limit = audit.DefaultRecentLimit
	}
	if n := len(reports); n == limit {
		resp.NextPageToken = reports[n-1].Key().Token()
	}
	return resp, nil
}
