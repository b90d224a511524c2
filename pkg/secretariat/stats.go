package secretariat

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// GetStats answers per-state statistics, split by precedence with latency
// histograms (see [audit.Log.StatsOf]). Secretariat auditors only: a
// refusal is audited.
func (s *auditService) GetStats(ctx context.Context, req *iantv1.GetStatsRequest) (*iantv1.GetStatsResponse, error) {
	if err := s.auditor(ctx, "see delivery statistics"); err != nil {
		return nil, err
	}
	q, err := statsQuery(req, s.n.now())
	if err != nil {
		return nil, err
	}
	q.Deadlines = s.n.cfg.Audit.Deadlines
	stats, err := s.n.audit.log.StatsOf(ctx, q)
	if err != nil {
		return nil, err
	}
	resp := &iantv1.GetStatsResponse{}
	for _, b := range audit.LatencyBounds() {
		resp.BucketBounds = append(resp.BucketBounds, durationpb.New(b))
	}
	for _, st := range stats {
		resp.States = append(resp.States, stateStatsToProto(st))
	}
	return resp, nil
}

// statsQuery validates a GetStats request, naming the field that is
// wrong, and makes the query over it at now.
func statsQuery(req *iantv1.GetStatsRequest, now time.Time) (audit.StatsQuery, error) {
	if req.GetStartTime() == nil {
		return audit.StatsQuery{}, problem.Invalid("start_time", "start time is required")
	}
	q := audit.StatsQuery{From: req.GetStartTime().AsTime(), To: now, Now: now}
	if req.GetEndTime() != nil {
		q.To = req.GetEndTime().AsTime()
	}
	if !q.To.After(q.From) {
		return audit.StatsQuery{}, problem.Invalid("end_time", "end time must be after start time")
	}
	for i, p := range req.GetPrecedences() {
		bp := bulletin.Precedence(p)
		field := fmt.Sprintf("precedences[%d]", i)
		switch {
		case !bp.Valid():
			return audit.StatsQuery{}, problem.Invalid(field, "precedence %d is not FLASH, IMMEDIATE, PRIORITY or ROUTINE", int32(p))
		case slices.Contains(q.Precedences, bp):
			return audit.StatsQuery{}, problem.Invalid(field, "precedence %s is named twice", bp)
		}
		q.Precedences = append(q.Precedences, bp)
	}
	return q, nil
}

func stateStatsToProto(st audit.StateStats) *iantv1.StateStats {
	out := &iantv1.StateStats{
		State: st.State, Released: int64(st.Released), Received: int64(st.Received), Acknowledged: int64(st.Acknowledged),
		DeliveryP50: duration(st.DeliveryP50), DeliveryP95: duration(st.DeliveryP95),
		AcknowledgeP50: duration(st.AckP50), AcknowledgeP95: duration(st.AckP95),
	}
	for _, p := range st.ByPrecedence {
		out.Precedences = append(out.Precedences, &iantv1.PrecedenceStats{
			Precedence: iantv1.Precedence(p.Precedence), Released: int64(p.Released), Overdue: int64(p.Overdue),
			Delivery: distributionToProto(p.Delivery), Acknowledgement: distributionToProto(p.Ack),
		})
	}
	return out
}

func distributionToProto(d audit.Distribution) *iantv1.LatencyDistribution {
	out := &iantv1.LatencyDistribution{Count: int64(d.Count), Never: int64(d.Never), P50: duration(d.P50), P95: duration(d.P95)}
	for _, n := range d.Buckets {
		out.BucketCounts = append(out.BucketCounts, int64(n))
	}
	return out
}
