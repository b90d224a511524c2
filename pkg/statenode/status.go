package statenode

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
)

// status answers GetStatus: the checks run now, and what an operator
// looks at next (the backbone, the queues, the certificate, the keys,
// the disks). Any person the node admits may ask: it holds key ids,
// which the directory publishes anyway, and no bulletin. The traffic
// counts (copies and receipts queued or published, copies waiting in the
// inbox) go to focal points only: they change when the state posts or
// receives a bulletin, so an analyst polling them would learn of
// bulletins it may not read (a RED one, and to how many states) —
// analysts get the bounds and the checks, the counts as zero.
func (n *Node) status(ctx context.Context) (*iantv1.GetStatusResponse, error) {
	rs := n.checkHealth(ctx)
	counts := nodeserver.Caller(ctx).Role == identity.RoleFocalPoint
	resp := &iantv1.GetStatusResponse{
		NodeId: n.nodeID(), State: n.self.State, Serving: health.Healthy(rs), Checks: nodeserver.ChecksToProto(rs),
		Backbone: n.backboneStatus(ctx, counts), StartTime: timestamppb.New(n.ops.started),
	}
	resp.Queues = &iantv1.QueueStatus{MaxPendingCopies: uint64(n.maxPendingCopies())} //nolint:gosec // a bound
	if copies, receipts, err := n.queues(ctx); err == nil && counts {
		st, _ := n.Outbox(ctx)
		resp.Queues.CopiesPending, resp.Queues.ReceiptsPending, resp.Queues.CopiesPublished = uint64(copies), uint64(receipts), st.Published //nolint:gosec // counts
	}
	if c, _ := health.SVID(n.cfg.SVID, n.now()); c != nil { // the svid check reports an error
		resp.Certificate = nodeserver.CertificateToProto(c)
	}
	for i, g := range n.keys.store.Generations() {
		kg := &iantv1.KeyGeneration{KemKeyId: g.KEMKeyID, Current: i == 0, CreateTime: nodeserver.OptTime(g.Created), RetireTime: nodeserver.OptTime(g.Retired)}
		resp.KeyGenerations = append(resp.KeyGenerations, kg)
	}
	resp.Volumes = nodeserver.VolumesToProto(n.diskDirs(), n.cfg.Health.MinFree())
	return resp, nil
}

// backboneStatus describes the node's connection, with the inbox's
// counts if counts.
func (n *Node) backboneStatus(ctx context.Context, counts bool) *iantv1.BackboneStatus {
	b := &iantv1.BackboneStatus{Urls: n.cfg.BackboneURLs, Connected: n.bb.Connected(), ConnectedUrl: n.bb.ConnectedURL(), Leaf: n.bb.Behind()}
	if l := n.cfg.Leaf; l != nil {
		b.Urls, b.LeafLinked = l.HubURLs, n.bb.LeafConnected()
	}
	if !b.Connected || !counts {
		return b
	}
	if in, err := n.bb.Inbox(ctx); err == nil {
		b.InboxPending, b.InboxAckPending = in.Pending, uint64(in.AckPending) //nolint:gosec // a count
	}
	return b
}
