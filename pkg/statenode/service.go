package statenode

import (
	"context"
	"errors"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// Page sizes of ListBulletins and the catch-up batches of Subscribe.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	subscribeBatch  = 100
)

// readers are the roles that may read bulletins at a state node.
var readers = []identity.Role{identity.RoleFocalPoint, identity.RoleAnalyst}

type bulletinService struct {
	iantv1.UnimplementedBulletinServiceServer
	n *Node
}

func (s *bulletinService) PostBulletin(ctx context.Context, req *iantv1.PostBulletinRequest) (*iantv1.PostBulletinResponse, error) {
	rec, pending, err := s.n.post(ctx, req)
	if err != nil {
		return nil, err
	}
	return &iantv1.PostBulletinResponse{Bulletin: recordToProto(rec), PendingRecipients: pending}, nil
}

func (s *bulletinService) GetBulletin(ctx context.Context, req *iantv1.GetBulletinRequest) (*iantv1.GetBulletinResponse, error) {
	p, err := s.n.requireReader(ctx, "read bulletins")
	if err != nil {
		return nil, err
	}
	rec, err := s.n.lookup(ctx, req.GetOrigin(), req.GetId())
	if err != nil {
		return nil, err
	}
	if d := s.n.readDecision(p, &rec); !d.Allowed && d.Rule() == ruleExpired {
		// Not a refusal: the bulletin expired, and says so.
		return &iantv1.GetBulletinResponse{Bulletin: s.n.storedToProto(p, expiredView(rec))}, nil
	}
	if err := s.n.mayRead("read", p, &rec); err != nil {
		return nil, err
	}
	resp := &iantv1.GetBulletinResponse{Bulletin: s.n.storedToProto(p, rec)}
	if rec.Bulletin.IsContent() {
		s.n.emitRead(p, &rec)
	}
	if resp.Thread, err = s.n.thread(ctx, p, &rec); err != nil {
		return nil, err
	}
	if req.GetHistory() {
		h, err := s.n.store.History(ctx, rec.Bulletin.Origin, rec.Bulletin.ID)
		if err != nil {
			return nil, storeProblem(err)
		}
		for i := range h {
			resp.History = append(resp.History, bulletinToProto(&h[i]))
		}
	}
	return resp, nil
}

// ListBulletins lists a page of what the caller may read, oldest first
// or, with newest_first, newest first; a page token continues the order it
// was issued in (pagetoken.go).
func (s *bulletinService) ListBulletins(ctx context.Context, req *iantv1.ListBulletinsRequest) (*iantv1.ListBulletinsResponse, error) {
	p, err := s.n.requireReader(ctx, "list bulletins")
	if err != nil {
		return nil, err
	}
	f, err := filterFromProto(req.GetFilter())
	if err != nil {
		return nil, err
	}
	if f.Limit, err = pageSize(req.GetPageSize()); err != nil {
		return nil, err
	}
	f.IncludeRevoked, f.ActiveAt, f.Descending = req.GetIncludeRevoked(), s.n.now(), req.GetNewestFirst()
	if err := s.n.resumeList(ctx, p, &f, req.GetPageToken()); err != nil {
		return nil, err
	}
	recs, full, err := s.n.readablePage(p, f, func(f store.Filter) ([]store.Record, error) { return s.n.store.List(ctx, f) })
	if errors.Is(err, store.ErrCursorAhead) {
		return nil, problem.Invalid("page_token", "page token is not one this node issued (it is beyond the newest bulletin)")
	}
	if err != nil {
		return nil, problem.Internal(err)
	}
	resp := &iantv1.ListBulletinsResponse{}
	for _, r := range recs {
		resp.Bulletins = append(resp.Bulletins, s.n.storedToProto(p, r))
	}
	if full {
		resp.NextPageToken = listPageToken(recs[len(recs)-1].Cursor, f.Descending)
	}
	return resp, nil
}

// resumeList sets f to continue after the page whose token is tok. A
// token beyond the newest record p may read is refused, in either order
// (newestReadable: measured against every record stored, the refusal
// would tell p when one they may not read arrives).
func (n *Node) resumeList(ctx context.Context, p identity.Principal, f *store.Filter, tok string) error {
	c, err := parseListPageToken(tok, f.Descending)
	if err != nil || c == 0 {
		return err
	}
	newest, err := n.newestReadable(ctx, p)
	switch {
	case err != nil:
		return problem.Internal(err)
	case c > newest:
		return problem.Invalid("page_token", "page token is not one this node issued (it is beyond the newest bulletin)")
	case f.Descending:
		f.BeforeCursor = c
	default:
		f.AfterCursor = c
	}
	return nil
}

// Subscribe first sends what is stored after the resume point, then every
// new matching bulletin as it is stored, in cursor order, until the caller
// goes away or the node stops: a new bulletin, a revision, a revocation
// (the tombstone) or a reply, each with its kind. An expired bulletin is
// not pushed.
func (s *bulletinService) Subscribe(req *iantv1.SubscribeRequest, stream iantv1.BulletinService_SubscribeServer) error {
	ctx := stream.Context()
	p, err := s.n.requireReader(ctx, "subscribe to bulletins")
	if err != nil {
		return err
	}
	f, err := filterFromProto(req.GetFilter())
	if err != nil {
		return err
	}
	switch {
	case req.GetFromStart():
		f.AfterCursor = 0
	case req.GetAfterCursor() > 0:
		// As a page token (resumeList): refused beyond the newest record
		// p may read, not the newest stored — nor does the refusal name
		// the newest stored, as the store's (store.ErrCursorAhead) does.
		newest, err := s.n.newestReadable(ctx, p)
		switch {
		case err != nil:
			return problem.Internal(err)
		case req.GetAfterCursor() > newest:
			return problem.Invalid("after_cursor", "cursor %d is beyond the newest bulletin this node holds (cursor %d): it is from another node or from before the node's store was rebuilt; subscribe again from the start", req.GetAfterCursor(), newest)
		}
		f.AfterCursor = req.GetAfterCursor()
	default:
		if f.AfterCursor, err = s.n.store.LastCursor(ctx); err != nil {
			return problem.Internal(err)
		}
	}
	// resume is where the subscriber resumes after a shutdown: the last
	// record delivered, or where it started. It never names a record p
	// may not read (f.AfterCursor moves past those): starting now, the
	// newest p may read, or the newest stored if that is older.
	resume := f.AfterCursor
	if !req.GetFromStart() && req.GetAfterCursor() == 0 {
		newest, err := s.n.newestReadable(ctx, p)
		if err != nil {
			return problem.Internal(err)
		}
		resume = min(resume, newest)
	}
	f.Limit, f.IncludeRevoked = subscribeBatch, true
	for {
		changed := s.n.hub.changed()
		f.ActiveAt = s.n.now()
		recs, err := s.n.store.List(ctx, f)
		if err != nil {
			return problem.Internal(err)
		}
		var shown []*store.Record // reported read in one commit
		for i := range recs {
			r := &recs[i]
			f.AfterCursor = r.Cursor
			if !s.n.visible(p, r) {
				continue // filtered out: never delivered
			}
			sb := s.n.storedToProto(p, *r)
			if err := stream.Send(&iantv1.SubscribeResponse{Bulletin: sb, Kind: sb.GetKind()}); err != nil {
				s.n.emitReads(p, shown)
				return err
			}
			resume = r.Cursor
			if r.Bulletin.IsContent() {
				shown = append(shown, r)
			}
		}
		s.n.emitReads(p, shown)
		if len(recs) == subscribeBatch {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-s.n.closing:
			return problem.Unavailable(nil, "node is shutting down; resume after cursor %d", resume)
		}
	}
}

func (s *bulletinService) AcknowledgeBulletin(ctx context.Context, req *iantv1.AcknowledgeBulletinRequest) (*iantv1.AcknowledgeBulletinResponse, error) {
	p, err := nodeserver.RequireRole(ctx, "ack.role", "acknowledge bulletins (only focal points acknowledge)", identity.RoleFocalPoint)
	if err != nil {
		return nil, err
	}
	rec, err := s.n.lookup(ctx, req.GetOrigin(), req.GetId())
	if err != nil {
		return nil, err
	}
	switch {
	case rec.Direction != store.Received:
		return nil, problem.Invalid("id", "bulletin %s was sent by %s; only receiving states acknowledge", rec.Bulletin.ID, rec.Bulletin.Origin)
	case rec.Bulletin.Revoked:
		return nil, problem.Invalid("id", "bulletin %s of %s was revoked: there is nothing to acknowledge", rec.Bulletin.ID, rec.Bulletin.Origin)
	}
	if err := s.n.mayRead("acknowledge", p, &rec); err != nil {
		return nil, err
	}
	held := rec
	rec, first, err := s.n.store.Acknowledge(ctx, rec.Bulletin.Origin, rec.Bulletin.ID, p.ID(s.n.cfg.TrustDomain).String(), s.n.now().UTC())
	switch {
	case errors.Is(err, store.ErrWithdrawn): // withdrawn since the lookup
		return nil, withdrawnProblem(&held)
	case err != nil:
		return nil, problem.Internal(err)
	}
	s.n.emitAcknowledged(&rec)
	if first {
		s.n.log.Info("bulletin acknowledged", "bulletin_id", rec.Bulletin.ID, "origin", rec.Bulletin.Origin, "peer", p.String())
	}
	return &iantv1.AcknowledgeBulletinResponse{Bulletin: recordToProto(rec)}, nil
}

// requireReader admits focal points and analysts at a state node.
func (n *Node) requireReader(ctx context.Context, action string) (identity.Principal, error) {
	return nodeserver.RequireRole(ctx, "read.role", action, readers...)
}
