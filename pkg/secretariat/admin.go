package secretariat

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// adminService is the AdminService of the secretariat node: secretariat
// administrators change the membership table and the deny list; they and
// the auditors (who check what administrators did) read them.
type adminService struct {
	iantv1.UnimplementedAdminServiceServer
	n *Node
}

// admin returns the caller if it is a secretariat administrator.
func (s *adminService) admin(ctx context.Context, action string) (identity.Principal, error) {
	p, err := nodeserver.RequireRole(ctx, "admin.role", action+" (only secretariat administrators)", identity.RoleAdmin)
	if err != nil {
		return p, s.n.refused(p, "", "", err)
	}
	return p, nil
}

// reader admits administrators and auditors.
func (s *adminService) reader(ctx context.Context, action string) error {
	p, err := nodeserver.RequireRole(ctx, "admin.read", action+" (only secretariat administrators and auditors)", identity.RoleAdmin, identity.RoleAuditor)
	if err != nil {
		return s.n.refused(p, "", "", err)
	}
	return nil
}

func (s *adminService) ChangeMembership(ctx context.Context, req *iantv1.ChangeMembershipRequest) (*iantv1.ChangeMembershipResponse, error) {
	p, err := s.admin(ctx, "change the membership")
	if err != nil {
		return nil, err
	}
	if r := req.GetRegion(); r != iantv1.Region_REGION_UNSPECIFIED && !region.Region(r).Valid() {
		return nil, problem.Invalid("region", "region %d is not one of the four regions", int32(r))
	}
	c := membership.Change{Kind: membership.ChangeKind(req.GetChange()), State: req.GetState(), Region: region.Region(req.GetRegion()),
		Nodes: req.GetNodes(), Reason: req.GetReason()}
	t, err := s.n.changeMembership(ctx, p, c)
	if err != nil {
		return nil, err // Unavailable after signing says the table is kept and will be published
	}
	return &iantv1.ChangeMembershipResponse{Table: tableToProto(t, s.n.gov.holder.SignedTable())}, nil
}

func (s *adminService) GetMembership(ctx context.Context, _ *iantv1.GetMembershipRequest) (*iantv1.GetMembershipResponse, error) {
	if err := s.reader(ctx, "read the membership table"); err != nil {
		return nil, err
	}
	t, _ := s.n.gov.holder.Table()
	return &iantv1.GetMembershipResponse{Table: tableToProto(t, s.n.gov.holder.SignedTable())}, nil
}

func (s *adminService) Deny(ctx context.Context, req *iantv1.DenyRequest) (*iantv1.DenyResponse, error) {
	p, err := s.admin(ctx, "deny identities")
	if err != nil {
		return nil, err
	}
	l, err := s.n.changeDenyList(ctx, p, membership.DenyEntry{ID: strings.TrimSpace(req.GetSpiffeId()), Serial: req.GetSerial(), Reason: req.GetReason()}, "")
	if err != nil {
		return nil, err
	}
	return &iantv1.DenyResponse{DenyList: denyListToProto(l, s.n.gov.holder.SignedDenyList())}, nil
}

func (s *adminService) Allow(ctx context.Context, req *iantv1.AllowRequest) (*iantv1.AllowResponse, error) {
	p, err := s.admin(ctx, "allow denied identities again")
	if err != nil {
		return nil, err
	}
	target := strings.TrimSpace(req.GetSpiffeId())
	switch {
	case target == "" && req.GetSerial() == "":
		return nil, problem.Invalid("spiffe_id", "give the SPIFFE ID or the serial number to allow again")
	case target != "" && req.GetSerial() != "":
		return nil, problem.Invalid("serial", "give a SPIFFE ID or a serial number, not both")
	case target == "":
		target = req.GetSerial()
	}
	l, err := s.n.changeDenyList(ctx, p, membership.DenyEntry{}, target)
	if err != nil {
		return nil, err
	}
	return &iantv1.AllowResponse{DenyList: denyListToProto(l, s.n.gov.holder.SignedDenyList())}, nil
}

func (s *adminService) ListDenied(ctx context.Context, _ *iantv1.ListDeniedRequest) (*iantv1.ListDeniedResponse, error) {
	if err := s.reader(ctx, "read the deny list"); err != nil {
		return nil, err
	}
	return &iantv1.ListDeniedResponse{DenyList: denyListToProto(s.n.gov.holder.DenyList(), s.n.gov.holder.SignedDenyList())}, nil
}

func tableToProto(t membership.Table, signed []byte) *iantv1.MembershipTable {
	out := &iantv1.MembershipTable{Version: t.Version, IssueTime: timestamppb.New(t.Issued), Signed: string(signed)}
	for _, m := range t.Members {
		out.Members = append(out.Members, &iantv1.Member{State: m.State, Region: iantv1.Region(m.Region), Status: iantv1.MemberStatus(m.Status),
			Nodes: m.Nodes, SinceTime: timestamppb.New(m.Since), Reason: m.Reason})
	}
	return out
}

func denyListToProto(l membership.DenyList, signed []byte) *iantv1.DenyList {
	out := &iantv1.DenyList{Version: l.Version, Signed: string(signed)}
	if l.Version > 0 {
		out.IssueTime = timestamppb.New(l.Issued)
	}
	for _, e := range l.Entries {
		out.Entries = append(out.Entries, &iantv1.DenyEntry{SpiffeId: e.ID, Serial: e.Serial, Reason: e.Reason,
			DenyTime: timestamppb.New(e.At), DeniedBy: e.By})
	}
	return out
}
