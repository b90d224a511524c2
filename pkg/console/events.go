package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// heartbeat is how often an idle event stream sends a comment, so that a
// dead connection is noticed.
const heartbeat = 15 * time.Second

// parseEventsQuery reads /api/events' query: filter, a protojson
// BulletinFilter, and the cursor to resume after (the Last-Event-ID
// header the browser resends on reconnecting, else after).
func parseEventsQuery(filter, after, lastID string) (*iantv1.SubscribeRequest, error) {
	req := &iantv1.SubscribeRequest{Filter: &iantv1.BulletinFilter{}}
	if filter != "" {
		if err := protojson.Unmarshal([]byte(filter), req.Filter); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
	}
	if lastID != "" {
		after = lastID
	}
	if after != "" {
		c, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("after: %q is not a cursor", after)
		}
		req.AfterCursor = c
	}
	return req, nil
}

// events streams the node's Subscribe as server-sent events: event
// "bulletin", id the cursor, data the SubscribeResponse as protojson.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ *session) {
	q := r.URL.Query()
	req, err := parseEventsQuery(q.Get("filter"), q.Get("after"), r.Header.Get("Last-Event-ID"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument", "filter", err.Error())
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stream, err := s.bulletin.Subscribe(ctx, req)
	if err != nil {
		s.writeNodeError(w, err)
		return
	}
	s.stream(ctx, cancel, w, func() (string, proto.Message, error) {
		ev, err := stream.Recv()
		if err != nil {
			return "", nil, err
		}
		return strconv.FormatUint(ev.GetBulletin().GetCursor(), 10), ev, nil
	}, "bulletin")
}

// escalations streams the secretariat's WatchEscalations: event
// "escalation", data the WatchEscalationsResponse.
func (s *Server) escalations(w http.ResponseWriter, r *http.Request, _ *session) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stream, err := s.audit.WatchEscalations(ctx, &iantv1.WatchEscalationsRequest{})
	if err != nil {
		s.writeNodeError(w, err)
		return
	}
	s.stream(ctx, cancel, w, func() (string, proto.Message, error) {
		ev, err := stream.Recv()
		return "", ev, err
	}, "escalation")
}

// stream writes the events recv returns until it fails or ctx ends (recv
// must return once cancel is called). The first write is a comment, so the
// browser's EventSource opens at once even when no event comes.
func (s *Server) stream(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, recv func() (string, proto.Message, error), event string) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "Internal", "", "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": open\n\n")
	fl.Flush()
	type item struct {
		id  string
		msg proto.Message
		err error
	}
	items, done := make(chan item), make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		for {
			id, m, err := recv()
			select {
			case items <- item{id, m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case it := <-items:
			if it.err != nil {
				s.log.Debug("console: event stream ended", "event", event, "err", it.err)
				return
			}
			b, err := marshal.Marshal(it.msg)
			if err != nil {
				return
			}
			if it.id != "" {
				fmt.Fprintf(w, "id: %s\n", it.id)
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		}
		fl.Flush()
	}
}
