package nodeserver

import (
	"context"
	"crypto/x509"
	"errors"
	"sync"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
)

// openStream is a streaming call in progress (Subscribe, WatchEscalations):
// who holds it, with which certificate, and how to end it.
type openStream struct {
	caller identity.Principal
	cert   *x509.Certificate
	method string
	cancel context.CancelCauseFunc
}

// streams are a server's open streams, so that a caller who is denied, or
// whom the admission rule refuses since the stream opened (a state
// suspended), loses them at once rather than at their next call.
type streams struct {
	mu   sync.Mutex
	open map[*openStream]struct{}
}

func (s *streams) add(o *openStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[*openStream]struct{}{}
	}
	s.open[o] = struct{}{}
}

func (s *streams) remove(o *openStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, o)
}

// Recheck judges every open stream again, as a new call would be judged:
// the deny list (Config.Membership) and the admission rule (Config.Admit).
// A stream refused now ends with PermissionDenied. The server rechecks by
// itself whenever Config.Membership accepts a document; call Recheck when
// something else the admission rule reads has changed.
func (s *Server) Recheck() {
	s.streams.mu.Lock()
	var refused []*openStream
	var causes []error
	for o := range s.streams.open {
		if err := s.admitted(o.caller, o.cert, o.method); err != nil {
			refused = append(refused, o)
			causes = append(causes, err)
		}
	}
	s.streams.mu.Unlock()
	for i, o := range refused {
		rule := ""
		if p := (*problem.Error)(nil); errors.As(causes[i], &p) {
			rule = p.Rule
		}
		s.log.Warn("open stream ended", "method", o.method, "peer", o.caller.String(), "rule", rule)
		o.cancel(causes[i])
	}
}

// watchMembership rechecks the open streams each time the membership
// holder accepts a document, until the server stops.
func (s *Server) watchMembership() {
	h := s.cfg.Membership
	if h == nil {
		return
	}
	s.wg.Go(func() {
		for {
			changed := h.Changed()
			select {
			case <-s.done:
				return
			case <-changed:
				s.Recheck()
			}
		}
	})
}
