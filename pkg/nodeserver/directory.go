package nodeserver

import (
	"context"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
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

// RegisterDirectory registers the DirectoryService on s: the member
// states, the regions (the versioned region table) and the nodes that
// nodes returns at each call (none when nodes is nil).
func (s *Server) RegisterDirectory(nodes func() []DirectoryEntry) {
	iantv1.RegisterDirectoryServiceServer(s.grpc, &directoryService{td: s.cfg.TrustDomain, nodes: nodes})
}

type directoryService struct {
	iantv1.UnimplementedDirectoryServiceServer
	td    spiffeid.TrustDomain
	nodes func() []DirectoryEntry
}

func (s *directoryService) GetDirectory(context.Context, *iantv1.GetDirectoryRequest) (*iantv1.GetDirectoryResponse, error) {
	resp := &iantv1.GetDirectoryResponse{RegionTableVersion: region.Version}
	for _, st := range region.States() {
		resp.States = append(resp.States, &iantv1.State{Code: st.Code, Name: st.Name, Region: iantv1.Region(st.Region)})
	}
	for _, r := range region.All() {
		resp.Regions = append(resp.Regions, &iantv1.RegionInfo{Region: iantv1.Region(r), Name: r.Title(), States: region.StatesOf(r)})
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
