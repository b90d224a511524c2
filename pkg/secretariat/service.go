package secretariat

import (
	"bytes"
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// auditService is the AuditService of the secretariat node.
type auditService struct {
	iantv1.UnimplementedAuditServiceServer
	n *Node
}

// focalPointMethods are the audit methods a state's focal point may call
// at the secretariat node (see admit): each answers about the focal
// point's own state's bulletins only.
var focalPointMethods = []string{
	iantv1.AuditService_GetBulletinReport_FullMethodName,
	iantv1.AuditService_ListReports_FullMethodName,
}

func (s *auditService) auditor(ctx context.Context, action string) error {
	p, err := nodeserver.RequireRole(ctx, "audit.role", action+" (only secretariat auditors)", identity.RoleAuditor)
	if err != nil {
		return s.n.refused(p, "", "", err)
	}
	return nil
}

func (s *auditService) GetBulletinReport(ctx context.Context, req *iantv1.GetBulletinReportRequest) (*iantv1.GetBulletinReportResponse, error) {
	p, err := nodeserver.RequireRole(ctx, "audit.role", "see delivery reports", identity.RoleAuditor, identity.RoleFocalPoint)
	if err != nil {
		return nil, s.n.refused(p, "", "", err)
	}
	id, origin := req.GetId(), req.GetOrigin()
	if err := checkBulletin(id, origin); err != nil {
		return nil, err
	}
	if p.Role == identity.RoleFocalPoint {
		if origin != "" && origin != p.State {
			err := problem.Denied("audit.own_origin", "a focal point of %s sees reports only of bulletins %s originated", p.State, p.State)
			return nil, s.n.refused(p, id, origin, err)
		}
		origin = p.State // a focal point asks about its own state's bulletins only
	}
	r, err := s.n.audit.log.Report(ctx, origin, id)
	if err != nil {
		return nil, err
	}
	return &iantv1.GetBulletinReportResponse{Report: reportToProto(r)}, nil
}

// checkBulletin validates a bulletin named by id and an optional origin.
func checkBulletin(id, origin string) error {
	switch {
	case id == "":
		return problem.Invalid("id", "id is required")
	case len(id) > audit.MaxBulletinIDBytes:
		return problem.Invalid("id", "id is %d bytes, at most %d", len(id), audit.MaxBulletinIDBytes)
	case origin != "" && !region.IsMember(origin):
		return problem.Invalid("origin", "origin %q is not a member state (want an upper-case ISO code)", origin)
	}
	return nil
}

func (s *auditService) ListOverdue(ctx context.Context, _ *iantv1.ListOverdueRequest) (*iantv1.ListOverdueResponse, error) {
	if err := s.auditor(ctx, "list overdue acknowledgements"); err != nil {
		return nil, err
	}
	items, err := s.n.audit.log.Overdue(ctx, s.n.now(), s.n.cfg.Audit.Deadlines)
	if err != nil {
		return nil, err
	}
	resp := &iantv1.ListOverdueResponse{}
	for _, it := range items {
		resp.Items = append(resp.Items, overdueToProto(it))
	}
	return resp, nil
}

func (s *auditService) GetCheckpoint(ctx context.Context, _ *iantv1.GetCheckpointRequest) (*iantv1.GetCheckpointResponse, error) {
	if err := s.auditor(ctx, "read checkpoints"); err != nil {
		return nil, err
	}
	signed, err := s.n.audit.log.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	select { // publish one on the backbone too, soon
	case s.n.audit.kick <- struct{}{}:
	default:
	}
	return &iantv1.GetCheckpointResponse{Checkpoint: signed, VerifierKey: s.n.audit.vkey, Origin: s.n.audit.log.Origin()}, nil
}

func (s *auditService) GetInclusionProof(ctx context.Context, req *iantv1.GetInclusionProofRequest) (*iantv1.GetInclusionProofResponse, error) {
	if err := s.auditor(ctx, "read inclusion proofs"); err != nil {
		return nil, err
	}
	lg := s.n.audit.log
	size := req.GetTreeSize()
	if size == 0 {
		size = lg.Size()
	}
	if size > lg.Size() {
		return nil, problem.Invalid("tree_size", "tree size %d is beyond the log's %d entries", size, lg.Size())
	}
	var idx []uint64
	var raws [][]byte
	switch sel := req.GetSelector().(type) {
	case *iantv1.GetInclusionProofRequest_Index:
		if sel.Index >= size {
			return nil, problem.Invalid("index", "index %d is not below tree size %d", sel.Index, size)
		}
		_, raw, err := lg.Entry(ctx, sel.Index)
		if err != nil {
			return nil, err
		}
		idx, raws = []uint64{sel.Index}, [][]byte{raw}
	case *iantv1.GetInclusionProofRequest_BulletinId:
		origin, err := inclusionOrigin(ctx, lg, sel.BulletinId, req.GetOrigin())
		if err != nil {
			return nil, err
		}
		if idx, raws, err = entriesOf(ctx, lg, origin, sel.BulletinId, size); err != nil {
			return nil, err
		}
		if len(idx) == 0 {
			return nil, problem.NotFound("no entry of bulletin %s among the first %d", sel.BulletinId, size)
		}
	default:
		return nil, problem.Invalid("selector", "give an index or a bulletin id")
	}
	resp := &iantv1.GetInclusionProofResponse{TreeSize: size}
	for i, x := range idx {
		p, err := lg.InclusionProof(ctx, x, size)
		if err != nil {
			return nil, err
		}
		resp.Entries = append(resp.Entries, &iantv1.LogEntryProof{Index: x, Entry: raws[i], Hashes: p})
	}
	return resp, nil
}

// inclusionOrigin is the origin the entries of bulletin id are selected
// by: the one given, else the one origin the log knows for id ("" when it
// knows none: then every entry naming id, such as refusals of receipts
// about a bulletin that never existed). Several origins need one given.
func inclusionOrigin(ctx context.Context, lg *audit.Log, id, origin string) (string, error) {
	if err := checkBulletin(id, origin); err != nil || origin != "" {
		return origin, err
	}
	all, err := lg.Origins(ctx, id)
	switch {
	case err != nil:
		return "", err
	case len(all) > 1:
		return "", problem.Invalid("origin", "bulletin id %s was used by %s: give the origin", id, strings.Join(all, ", "))
	case len(all) == 1:
		return all[0], nil
	}
	return "", nil
}

// entriesOf scans the first size entries for the events of bulletin id of
// origin ("" for any). The log has no index from bulletin to entries, so
// this reads the log (about 10k entries per query); it serves auditors,
// not traffic.
func entriesOf(ctx context.Context, lg *audit.Log, origin, id string, size uint64) ([]uint64, [][]byte, error) {
	var idx []uint64
	var raws [][]byte
	needle := []byte(`"bulletin_id":"` + id + `"`)
	for start := uint64(0); start < size; start += audit.MaxEntries {
		batch, err := lg.Entries(ctx, start, min(start+audit.MaxEntries, size))
		if err != nil {
			return nil, nil, err
		}
		for i, raw := range batch {
			if !bytes.Contains(raw, needle) {
				continue
			}
			if l, err := audit.ParseLeaf(raw); err == nil && l.Event.BulletinID == id && (origin == "" || l.Event.Origin == origin) {
				idx, raws = append(idx, start+uint64(i)), append(raws, raw)
			}
		}
	}
	return idx, raws, nil
}

func (s *auditService) GetConsistencyProof(ctx context.Context, req *iantv1.GetConsistencyProofRequest) (*iantv1.GetConsistencyProofResponse, error) {
	if err := s.auditor(ctx, "read consistency proofs"); err != nil {
		return nil, err
	}
	newSize := req.GetNewSize()
	if newSize == 0 {
		newSize = s.n.audit.log.Size()
	}
	p, err := s.n.audit.log.ConsistencyProof(ctx, req.GetOldSize(), newSize)
	if err != nil {
		return nil, err
	}
	return &iantv1.GetConsistencyProofResponse{OldSize: req.GetOldSize(), NewSize: newSize, Hashes: p}, nil
}

// WatchEscalations sends the escalations still open, then each new one,
// until the caller goes away or the node stops.
func (s *auditService) WatchEscalations(_ *iantv1.WatchEscalationsRequest, stream iantv1.AuditService_WatchEscalationsServer) error {
	ctx := stream.Context()
	if err := s.auditor(ctx, "watch escalations"); err != nil {
		return err
	}
	live, stop := s.n.audit.escalate.subscribe()
	defer stop()
	open, err := s.n.audit.log.Overdue(ctx, s.n.now(), s.n.cfg.Audit.Deadlines)
	if err != nil {
		return err
	}
	sent := map[[3]string]bool{}
	send := func(it audit.OverdueItem) error {
		k := [3]string{it.Origin, it.BulletinID, it.State}
		if sent[k] {
			return nil
		}
		sent[k] = true
		return stream.Send(&iantv1.WatchEscalationsResponse{Item: overdueToProto(it)})
	}
	for _, it := range open {
		if !it.EscalatedAt.IsZero() {
			if err := send(it); err != nil {
				return err
			}
		}
	}
	for {
		select {
		case it, ok := <-live:
			if !ok {
				return problem.Unavailable(nil, "escalation stream ended (node stopping, or the watcher fell behind); watch again")
			}
			if err := send(it); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		case <-s.n.closing:
			return problem.Unavailable(nil, "node is shutting down; watch again")
		}
	}
}

func reportToProto(r audit.BulletinReport) *iantv1.BulletinReport {
	out := &iantv1.BulletinReport{Id: r.ID, Origin: r.Origin, Precedence: iantv1.Precedence(r.Precedence),
		PostTime: timestamp(r.PostedAt), CreateTime: timestamp(r.CreatedAt), Revision: uint32(max(r.Revision, 1)),
		RevokeTime: timestamp(r.RevokedAt), RevokedBy: r.RevokedBy, Kind: iantv1.MessageKind(r.Kind)}
	if !r.Ref.IsZero() {
		out.InReplyTo = &iantv1.BulletinRef{Origin: r.Ref.Origin, Id: r.Ref.ID}
	}
	if r.Kind == bulletin.KindReply {
		out.ReplyKind = iantv1.ReplyKind(r.Subkind)
	}
	for _, rs := range r.Recipients {
		out.Recipients = append(out.Recipients, &iantv1.RecipientStatus{
			State: rs.State, ReleaseTime: timestamp(rs.ReleasedAt), DeliverTime: timestamp(rs.DeliveredAt),
			ReadTime: timestamp(rs.ReadAt), ReadBy: rs.ReadBy, AcknowledgeTime: timestamp(rs.AckedAt),
			AcknowledgedBy: rs.AckedBy, EscalateTime: timestamp(rs.EscalatedAt),
			DeliveryLatency: duration(rs.DeliveryLatency), AcknowledgeLatency: duration(rs.AckLatency),
			ForwardedBy: rs.ForwardedBy, ForwardTime: timestamp(rs.ForwardedAt), Revision: uint32(rs.Revision),
			RevocationTime: timestamp(rs.RevocationAt), RevokedTime: timestamp(rs.RevokedAt),
			RevocationEscalateTime: timestamp(rs.RevocationEscalatedAt),
		})
	}
	for _, it := range r.Thread {
		ti := &iantv1.ThreadItem{Id: it.ID, Origin: it.Origin, Kind: iantv1.MessageKind(it.Kind),
			CreateTime: timestamp(it.CreatedAt), Latency: duration(it.Latency),
			InReplyTo: &iantv1.BulletinRef{Origin: it.Ref.Origin, Id: it.Ref.ID}}
		switch it.Kind {
		case bulletin.KindReply:
			ti.ReplyKind = iantv1.ReplyKind(it.Subkind)
		case bulletin.KindConsentDecision:
			ti.Decision = iantv1.ConsentDecision(it.Subkind)
		}
		out.Thread = append(out.Thread, ti)
	}
	return out
}

func overdueToProto(it audit.OverdueItem) *iantv1.OverdueItem {
	return &iantv1.OverdueItem{
		BulletinId: it.BulletinID, Origin: it.Origin, State: it.State, Precedence: iantv1.Precedence(it.Precedence),
		ClockTime: timestamp(it.ClockAt), DueTime: timestamp(it.DueAt), DeliverTime: timestamp(it.DeliveredAt),
		EscalateTime: timestamp(it.EscalatedAt), Revocation: it.Revocation,
	}
}

// timestamp is t on the wire, nil for the zero time.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// duration is d on the wire, nil for zero.
func duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}
