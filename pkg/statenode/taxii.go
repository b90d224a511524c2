package statenode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/store"
	"github.com/oas-cicte/iant/pkg/taxii"
)

// TAXIIConfig configures the node's TAXII 2.1 server (pkg/taxii): HTTPS
// with the node's SVID; people authenticate with their client certificate
// and must be of the node's own state, exactly as on the gRPC API, and see
// only what the read decision lets them read.
type TAXIIConfig struct {
	// ListenAddr is the HTTPS listen address, e.g. "127.0.0.1:7443";
	// "" runs no TAXII server.
	ListenAddr string
}

// taxiiState is the node's TAXII server, when it runs one.
type taxiiState struct {
	lis net.Listener
	srv *http.Server
	wg  sync.WaitGroup
}

// listenTAXII listens on the TAXII address, if one is configured.
func (n *Node) listenTAXII() error {
	if n.cfg.TAXII.ListenAddr == "" {
		return nil
	}
	h, err := taxii.New(taxii.Config{Source: taxiiSource{n}, Authenticate: n.taxiiPerson, State: n.self.State,
		Logger: n.log.With("component", "taxii"), Now: n.now})
	if err != nil {
		return fmt.Errorf("statenode: taxii: %w", err)
	}
	lis, err := net.Listen("tcp", n.cfg.TAXII.ListenAddr)
	if err != nil {
		return fmt.Errorf("statenode: taxii: listen: %w", err)
	}
	tlsCfg := identity.ServerTLSConfig(n.cfg.SVID, n.cfg.Bundle, n.cfg.TrustDomain)
	n.taxii.lis = tls.NewListener(lis, tlsCfg)
	n.taxii.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	return nil
}

// serveTAXII serves until stopTAXII.
func (n *Node) serveTAXII() {
	if n.taxii.srv == nil {
		return
	}
	n.taxii.wg.Go(func() {
		if err := n.taxii.srv.Serve(n.taxii.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("taxii serve", "err", err)
		}
	})
	n.log.Info("taxii serving", "addr", n.taxii.lis.Addr().String())
}

// stopTAXII lets requests in flight finish for a few seconds, then cuts
// them off.
func (n *Node) stopTAXII() {
	if n.taxii.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.taxii.srv.Shutdown(ctx); err != nil {
		n.taxii.srv.Close()
	}
	n.taxii.lis.Close()
	n.taxii.wg.Wait()
}

// TAXIIAddr returns the address the TAXII server listens on; "" when the
// node runs none. Its discovery URL is https://ADDR/taxii2/.
func (n *Node) TAXIIAddr() string {
	if n.taxii.lis == nil {
		return ""
	}
	return n.taxii.lis.Addr().String()
}

// taxiiPerson authenticates the person of a TAXII request from the
// verified client certificate of its connection, and admits only readers
// of this node's own state, as the gRPC API does. A refusal is logged and
// counted by its rule as the gRPC API's are (nodeserver): a denied
// identity's attempts must show in the node's logs and metrics whichever
// door it knocks at.
func (n *Node) taxiiPerson(r *http.Request) (identity.Principal, error) {
	p, err := n.taxiiCaller(r)
	if pe := (*problem.Error)(nil); errors.As(err, &pe) && pe.Kind == problem.KindPermission {
		n.log.Warn("refused call", "method", "TAXII "+r.Method+" "+r.URL.Path, "peer", p.String(), "rule", pe.Rule)
		n.ops.met.Refused(pe.Rule)
	}
	return p, err
}

// taxiiCaller is taxiiPerson's decision.
func (n *Node) taxiiCaller(r *http.Request) (identity.Principal, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return identity.Principal{}, problem.Unauthenticated("no client certificate")
	}
	id, err := x509svid.IDFromCert(r.TLS.PeerCertificates[0])
	if err != nil {
		return identity.Principal{}, problem.Unauthenticated("no SPIFFE ID in the client certificate")
	}
	p, err := identity.Parse(n.cfg.TrustDomain, id)
	if err != nil {
		return identity.Principal{}, problem.Unauthenticated("no valid IANT identity on the connection")
	}
	if e, denied := n.members.DeniesCert(r.TLS.PeerCertificates[0]); denied {
		// The reason stays in the log: the caller may hold a stolen key.
		n.log.Warn("denied identity refused", "method", "TAXII "+r.Method+" "+r.URL.Path, "peer", p.String(),
			"serial", membership.SerialString(r.TLS.PeerCertificates[0].SerialNumber), "denied", e.Target(), "reason", e.Reason)
		return p, problem.Denied("caller.denied", "%s: this certificate or identity is denied network-wide by the secretariat", p)
	}
	if !p.Role.IsPerson() {
		return p, problem.Denied("caller.person", "%s is not a person; nodes do not call nodes", p)
	}
	if rule, msg := n.admit(p, "TAXII"); rule != "" {
		return p, problem.Denied(rule, "%s", msg)
	}
	if !slices.Contains(readers, p.Role) {
		return p, problem.Denied("read.role", "%s may not read bulletins", p)
	}
	return p, nil
}

// taxiiSource is the node as the TAXII server sees it: the store, the
// read decision (visible, read.go) and the post path, for one person.
type taxiiSource struct{ n *Node }

var _ taxii.Source = taxiiSource{}

// List lists stored records after q.After and keeps those p may read.
func (s taxiiSource) List(ctx context.Context, p identity.Principal, q taxii.Query) (taxii.Page, error) {
	// A revoked bulletin is served as its version with revoked true; an
	// expired one is not served.
	recs, err := s.n.store.List(ctx, store.Filter{AfterCursor: q.After, Limit: q.Limit, Regions: q.Regions, Categories: q.Categories,
		IncludeRevoked: true, ActiveAt: s.n.now()})
	if err != nil {
		return taxii.Page{}, problem.Internal(err)
	}
	page := taxii.Page{Scanned: q.After, More: len(recs) == q.Limit}
	for _, r := range recs {
		page.Scanned = r.Cursor
		if !s.n.visible(p, &r) {
			continue // filtered out: never served, nor counted
		}
		page.Readable, page.LastReadable = page.Readable+1, r.Cursor
		if !q.AddedAfter.IsZero() && !r.ReceivedAt.After(q.AddedAfter) {
			continue
		}
		page.Entries = append(page.Entries, entryOf(r))
	}
	return page, nil
}

// Get returns the held bulletin id of origin if p may read it. The TAXII
// server looks bulletins up by the objects it serves and answers those p
// may not read as absent: filtering, as for List, not a refusal.
func (s taxiiSource) Get(ctx context.Context, p identity.Principal, origin, id string) (taxii.Entry, error) {
	rec, err := s.n.lookup(ctx, origin, id)
	if err != nil {
		return taxii.Entry{}, err
	}
	if e := rec.Bulletin.ExpiresAt; !s.n.visible(p, &rec) || !rec.Bulletin.Revoked && !e.IsZero() && !e.After(s.n.now()) {
		return taxii.Entry{}, problem.NotFound("bulletin %s not found at %s's node", id, s.n.self.State)
	}
	e := entryOf(rec)
	if rec.Bulletin.RevisionNumber() > 1 {
		hist, err := s.n.store.History(ctx, rec.Bulletin.Origin, rec.Bulletin.ID)
		if err != nil {
			return taxii.Entry{}, storeProblem(err)
		}
		for _, b := range hist {
			v := entryOf(store.Record{Bulletin: b, Cursor: rec.Cursor, ReceivedAt: rec.ReceivedAt})
			v.Superseded = true
			e.Earlier = append(e.Earlier, v)
		}
	}
	return e, nil
}

// Post posts draft through the node's post path, as p.
func (s taxiiSource) Post(ctx context.Context, p identity.Principal, draft bulletin.Bulletin) (taxii.Entry, error) {
	rec, _, err := s.n.post(nodeserver.WithCaller(ctx, p), &iantv1.PostBulletinRequest{Bulletin: bulletinToProto(&draft)})
	if err != nil {
		return taxii.Entry{}, err
	}
	return entryOf(rec), nil
}

// entryOf is a stored record as the TAXII server needs it: a version of
// its bulletin's report (stix.VersionOf: every revision is a version of
// the same report, a revocation the version with revoked true). An
// expired bulletin is never served (visible).
func entryOf(r store.Record) taxii.Entry {
	v := stix.VersionOf(r.Bulletin)
	return taxii.Entry{Bulletin: r.Bulletin, Cursor: r.Cursor, Added: r.ReceivedAt, First: v.First, FirstCreated: v.FirstCreated,
		Modified: v.Modified}
}
