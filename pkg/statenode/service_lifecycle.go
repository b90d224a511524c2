package statenode

import (
	"context"
	"strconv"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// The lifecycle's RPCs: revise, revoke, reply, search and forward
// consent (revise.go, reply.go, consent.go do the work).

func (s *bulletinService) ReviseBulletin(ctx context.Context, req *iantv1.ReviseBulletinRequest) (*iantv1.ReviseBulletinResponse, error) {
	c, err := s.n.revise(ctx, req.GetId(), req.GetBulletin())
	if err != nil {
		return nil, err
	}
	return &iantv1.ReviseBulletinResponse{Bulletin: recordToProto(c.rec), PendingRecipients: c.pending,
		WithdrawnFrom: c.withdraw, Added: c.added}, nil
}

func (s *bulletinService) RevokeBulletin(ctx context.Context, req *iantv1.RevokeBulletinRequest) (*iantv1.RevokeBulletinResponse, error) {
	c, err := s.n.revoke(ctx, req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &iantv1.RevokeBulletinResponse{Bulletin: recordToProto(c.rec), Recipients: c.told, PendingRecipients: c.pending}, nil
}

func (s *bulletinService) ReplyToBulletin(ctx context.Context, req *iantv1.ReplyToBulletinRequest) (*iantv1.ReplyToBulletinResponse, error) {
	rec, pending, err := s.n.reply(ctx, req)
	if err != nil {
		return nil, err
	}
	return &iantv1.ReplyToBulletinResponse{Reply: recordToProto(rec), PendingRecipients: pending}, nil
}

// TranslateBulletin adds a translation of a bulletin the caller's state
// was released (translate.go).
func (s *bulletinService) TranslateBulletin(ctx context.Context, req *iantv1.TranslateBulletinRequest) (*iantv1.TranslateBulletinResponse, error) {
	rec, pending, err := s.n.translate(ctx, req)
	if err != nil {
		return nil, err
	}
	return &iantv1.TranslateBulletinResponse{Bulletin: recordToProto(rec), PendingRecipients: pending}, nil
}

// SearchBulletins searches the full-text index, newest first, leaving out
// revoked and expired bulletins and what the caller may not read, as
// ListBulletins does.
func (s *bulletinService) SearchBulletins(ctx context.Context, req *iantv1.SearchBulletinsRequest) (*iantv1.SearchBulletinsResponse, error) {
	p, err := s.n.requireReader(ctx, "search bulletins")
	if err != nil {
		return nil, err
	}
	if len(req.GetQuery()) > 1024 {
		return nil, problem.Invalid("query", "query is %d bytes, at most 1024", len(req.GetQuery()))
	}
	f, err := filterFromProto(req.GetFilter())
	if err != nil {
		return nil, err
	}
	if f.Limit, err = pageSize(req.GetPageSize()); err != nil {
		return nil, err
	}
	if tok := req.GetPageToken(); tok != "" {
		c, err := strconv.ParseUint(tok, 10, 64)
		if err != nil || c == 0 {
			return nil, problem.Invalid("page_token", "page token %q is not one this node issued", tok)
		}
		f.BeforeCursor = c
	}
	f.Descending, f.ActiveAt = true, s.n.now()
	recs, full, err := s.n.readablePage(p, f, func(f store.Filter) ([]store.Record, error) {
		return s.n.store.Search(ctx, req.GetQuery(), f)
	})
	if err != nil {
		return nil, storeProblem(err)
	}
	resp := &iantv1.SearchBulletinsResponse{}
	for _, r := range recs {
		resp.Bulletins = append(resp.Bulletins, s.n.storedToProto(p, r))
	}
	if full {
		resp.NextPageToken = strconv.FormatUint(recs[len(recs)-1].Cursor, 10)
	}
	return resp, nil
}

// pageSize is a request's page size: the default for 0, at most the
// largest.
func pageSize(size int32) (int, error) {
	switch {
	case size < 0:
		return 0, problem.Invalid("page_size", "page size must not be negative")
	case size == 0:
		return defaultPageSize, nil
	}
	return min(int(size), maxPageSize), nil
}

func (s *bulletinService) RequestForwardConsent(ctx context.Context, req *iantv1.RequestForwardConsentRequest) (*iantv1.RequestForwardConsentResponse, error) {
	r, err := s.n.requestConsent(ctx, req.GetOrigin(), req.GetId(), req.GetTargetState(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &iantv1.RequestForwardConsentResponse{Request: consentToProto(r)}, nil
}

func (s *bulletinService) ListConsentRequests(ctx context.Context, req *iantv1.ListConsentRequestsRequest) (*iantv1.ListConsentRequestsResponse, error) {
	if _, err := nodeserver.RequireRole(ctx, "consent.role", "see consent requests (only focal points)", identity.RoleFocalPoint); err != nil {
		return nil, err
	}
	rs, err := s.n.store.Consents(ctx, req.GetIncludeDecided())
	if err != nil {
		return nil, storeProblem(err)
	}
	resp := &iantv1.ListConsentRequestsResponse{}
	for _, r := range rs {
		resp.Requests = append(resp.Requests, consentToProto(r))
	}
	return resp, nil
}

func (s *bulletinService) DecideConsent(ctx context.Context, req *iantv1.DecideConsentRequest) (*iantv1.DecideConsentResponse, error) {
	r, err := s.n.decideConsent(ctx, req.GetRequestId(), bulletin.ConsentDecision(req.GetDecision()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &iantv1.DecideConsentResponse{Request: consentToProto(r)}, nil
}

func consentToProto(r store.ConsentRequest) *iantv1.ConsentRequest {
	return &iantv1.ConsentRequest{Id: r.ID, Bulletin: refToProto(r.Bulletin), Forwarder: r.Forwarder, Target: r.Target,
		Reason: r.Reason, RequestedBy: r.RequestedBy, RequestTime: tsOf(r.RequestedAt),
		Decision: iantv1.ConsentDecision(r.Decision), DecidedBy: r.DecidedBy, DecideTime: tsOf(r.DecidedAt),
		DecisionReason: r.DecisionReason, Used: !r.UsedAt.IsZero()}
}
