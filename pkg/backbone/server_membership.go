package backbone

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/membership"
)

// governanceDir is where, in the store directory, a server keeps the
// newest documents it applied, so that a restart never applies an older
// version than it did before.
const governanceDir = "membership"

// governance is a server's part in the secretariat's documents: the
// newest it verified, the users they make, and the watcher reading them.
type governance struct {
	holder *membership.Holder // nil without ServerConfig.MembershipKey

	mu      sync.Mutex    // serializes applying
	users   []spiffeid.ID // the users in force
	applied [2]uint64     // table and deny list versions applied

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// openGovernance opens the documents the server kept, if it has a
// membership key, and returns the users they make.
func (s *Server) openGovernance() ([]spiffeid.ID, error) {
	noDeny := &membership.DenyList{}
	if s.cfg.MembershipKey == "" {
		s.log.Warn("no membership key: the membership table and the deny list are not applied on this server")
		s.gov.users = s.cfg.users(nil, noDeny)
		return s.gov.users, nil
	}
	h, err := membership.NewHolder(s.cfg.TrustDomain.Name(), s.cfg.MembershipKey, filepath.Join(s.cfg.StoreDir, governanceDir))
	if err != nil {
		return nil, err
	}
	s.gov.holder = h
	t, ok := h.Table()
	d := h.DenyList()
	s.access.deny.Store(&d)
	var tp *membership.Table
	if ok {
		tp = &t
	}
	s.gov.users = s.cfg.users(tp, &d)
	s.gov.applied = [2]uint64{t.Version, d.Version}
	return s.gov.users, nil
}

// watcherID is the SPIFFE ID the server's watcher connects with (its own
// SVID's), or the zero ID when the server watches nothing.
func (s *Server) watcherID() spiffeid.ID {
	if s.cfg.MembershipKey == "" {
		return spiffeid.ID{}
	}
	svid, err := s.cfg.SVID.GetX509SVID()
	if err != nil {
		return spiffeid.ID{}
	}
	return svid.ID
}

// watchGovernance starts the watcher, when the server has a membership key:
// a connection to this very server, made with the server's SVID, reading
// the documents as they are published.
func (s *Server) watchGovernance() {
	if s.gov.holder == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.gov.cancel = cancel
	log := s.log.With("component", "membership watcher")
	s.gov.wg.Go(func() {
		wait := newBackoff()
		for ctx.Err() == nil {
			c, err := Connect(ctx, ClientConfig{
				URLs: []string{s.ClientURL()}, TrustDomain: s.cfg.TrustDomain, SVID: s.cfg.SVID, Bundle: s.cfg.Bundle,
				Name: "membership watcher of " + s.opts.ServerName, Logger: log,
			})
			if err != nil {
				log.Warn("membership watcher cannot connect, trying again", "err", err)
				wait.sleep(ctx)
				continue
			}
			wait.reset()
			if err := c.WatchMembership(ctx, 0, s.offerGovernance); err != nil && ctx.Err() == nil {
				log.Warn("membership watcher stopped, starting again", "err", err)
			}
			_ = c.Close()
		}
	})
}

// stopGovernance stops the watcher and waits for it.
func (s *Server) stopGovernance() {
	if s.gov.cancel != nil {
		s.gov.cancel()
	}
	s.gov.wg.Wait()
}

// offerGovernance verifies a document read on the backbone and applies it
// when it is newer than the one held.
func (s *Server) offerGovernance(doc MembershipDoc, data []byte) {
	kind, changed, err := s.gov.holder.Offer(data)
	switch {
	case errors.Is(err, membership.ErrStale):
		s.log.Warn("older membership document ignored (a replay)", "doc", string(doc), "err", err)
		return
	case err != nil:
		s.log.Error("membership document refused", "doc", string(doc), "err", err)
		return
	case !changed:
		return
	}
	s.log.Info("membership document accepted", "doc", kind.String())
	s.applyGovernance()
}

// applyGovernance makes the documents held take effect: the deny list in
// handshakes at once, the users by a configuration reload when they
// changed, and then cuts the open connections they no longer allow.
func (s *Server) applyGovernance() {
	s.gov.mu.Lock()
	defer s.gov.mu.Unlock()
	start := time.Now()
	t, ok := s.gov.holder.Table()
	d := s.gov.holder.DenyList()
	s.access.deny.Store(&d)
	var tp *membership.Table
	if ok {
		tp = &t
	}
	users := s.cfg.users(tp, &d)
	if !slices.Equal(users, s.gov.users) {
		if err := s.reloadUsers(users); err != nil {
			s.log.Error("configuration reload failed: the previous users stay", "err", err)
		} else {
			s.log.Info("users reloaded", "users", len(users), "was", len(s.gov.users), "table_version", t.Version, "deny_version", d.Version)
			s.gov.users = users
		}
	}
	allowed := map[string]bool{s.watcherID().String(): true}
	for _, id := range s.gov.users {
		allowed[id.String()] = true
	}
	cut := s.access.sweep(s.ns, allowed)
	s.gov.applied = [2]uint64{t.Version, d.Version}
	s.log.Info("membership applied", "table_version", t.Version, "deny_version", d.Version, "connections_cut", cut, "took", time.Since(start))
}

// reloadUsers reloads the server's configuration with users: the running
// options with only the accounts and users replaced, so that nats-server
// reloads the authorization alone and disconnects only clients whose user
// is gone.
func (s *Server) reloadUsers(users []spiffeid.ID) error {
	text, err := s.cfg.authConfig(users, s.watcherID(), s.keeper)
	if err != nil {
		return err
	}
	fresh := &server.Options{}
	if err := fresh.ProcessConfigString(text); err != nil {
		return err
	}
	next := s.opts.Clone()
	next.Users, next.Accounts, next.Nkeys = fresh.Users, fresh.Accounts, fresh.Nkeys
	next.TLSConfig, next.LeafNode.TLSConfig, next.Cluster.TLSConfig = s.opts.TLSConfig, s.opts.LeafNode.TLSConfig, s.opts.Cluster.TLSConfig
	if err := s.ns.ReloadOptions(next); err != nil {
		return err
	}
	// A reloaded account takes the configured subject mappings: the quota
	// keeper's, if it throttles anyone now, must hold again.
	if s.quota != nil {
		if err := s.quota.reapply(); err != nil {
			return err
		}
	}
	// A reloaded account starts with the configured JetStream limits: the
	// disk guard's limit, if the disk is short now, must hold again.
	if s.disk.pressure.Load() {
		s.disk.mu.Lock()
		s.disk.limits = nil
		s.disk.mu.Unlock()
		return s.limitAccount()
	}
	return nil
}

// MembershipVersions returns the versions of the membership table and the
// deny list the server has applied (0 for none); both stay 0 on a server
// without [ServerConfig.MembershipKey].
func (s *Server) MembershipVersions() (table, deny uint64) {
	s.gov.mu.Lock()
	defer s.gov.mu.Unlock()
	return s.gov.applied[0], s.gov.applied[1]
}

// Connected returns the open client and leaf node connections of the
// server, by the SPIFFE ID of the certificate each presented, as
// connection ids: a connection cut and made again gets a new id.
func (s *Server) Connected() map[string][]uint64 { return s.access.connected(s.ns) }
