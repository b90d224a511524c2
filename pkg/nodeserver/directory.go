package nodeserver

import (
	"context"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

// DirectoryEntry is one node as the directory lists it.
type DirectoryEntry struct {
	ID      spiffeid.ID
	Address string
}

// StaticDirectory is a directory that always lists entries (e.g. from a
// configuration file).
func StaticDirectory(entries []DirectoryEntry) func() []DirectoryEntry {
	return func() []DirectoryEntry { return entries }
}

// RegisterDirectory registers the DirectoryService on s: the states of
// the versioned region table, each with its standing in the membership
// table the node holds (Config.Membership), the regions with the states
// released to as part of them, the versions of the membership table and
// deny list held, and the nodes that nodes returns at each call (none when
// nodes is nil).
func (s *Server) RegisterDirectory(nodes func() []DirectoryEntry) {
	iantv1.RegisterDirectoryServiceServer(s.grpc, &directoryService{td: s.cfg.TrustDomain, nodes: nodes, members: s.cfg.Membership})
}

type directoryService struct {
	iantv1.UnimplementedDirectoryServiceServer
	td      spiffeid.TrustDomain
	nodes   func() []DirectoryEntry
	members *membership.Holder
}

func (s *directoryService) GetDirectory(context.Context, *iantv1.GetDirectoryRequest) (*iantv1.GetDirectoryResponse, error) {
	resp := &iantv1.GetDirectoryResponse{RegionTableVersion: region.Version}
	var table membership.Table
	held := false
	if s.members != nil {
		table, held = s.members.Table()
		resp.MembershipVersion, resp.DenyListVersion = s.members.Versions()
	}
	for _, st := range region.States() {
		status := iantv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED
		if held {
			status = iantv1.MemberStatus_MEMBER_STATUS_NOT_MEMBER
			if m, ok := table.Member(st.Code); ok {
				status = iantv1.MemberStatus(m.Status)
			}
		}
		resp.States = append(resp.States, &iantv1.State{Code: st.Code, Name: st.Name, Region: iantv1.Region(st.Region), Status: status})
	}
	for _, r := range region.All() {
		states := region.StatesOf(r)
		if held {
			states = nil
			for _, st := range table.Receiving() {
				if st.Region == r {
					states = append(states, st.Code)
				}
			}
		}
		resp.Regions = append(resp.Regions, &iantv1.RegionInfo{Region: iantv1.Region(r), Name: r.Title(), States: states})
	}
	if s.nodes == nil {
		return resp, nil
	}
	for _, e := range s.nodes() {
		info := &iantv1.NodeInfo{SpiffeId: e.ID.String(), Address: e.Address}
		if p, err := identity.Parse(s.td, e.ID); err == nil {
			info.State = p.State
			info.Role = iantv1.Role(p.Role)
		}
		resp.Nodes = append(resp.Nodes, info)
	}
	return resp, nil
}
