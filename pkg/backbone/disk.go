package backbone

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/health"
)

// Disk pressure (docs/operations.md, "A disk fills"). nats-server, on a
// write that fails for want of space, leaves that stream's store failing
// every later write, even once space returns, and the publisher gets no
// answer at all; clustered, it shuts its JetStream down. So the server
// keeps a margin: while its store's filesystem has less than MinFreeDisk
// free, the IANT account may not grow (publishes are refused at once,
// "resource limits exceeded for account", and the nodes keep their copies
// in their outboxes); once space returns the limit is lifted, and a
// JetStream that failed a write or was shut down meanwhile is restarted
// in-process, which reloads every stream from its files. Nothing
// acknowledged is touched: it was synced before its acknowledgement.

// DefaultMinFreeDisk is the free space a server keeps on its store's
// filesystem unless [ServerConfig.MinFreeDisk] says otherwise.
const DefaultMinFreeDisk = 256 << 20

// Ping intervals: how often a server pings its peers (routes, leaf nodes,
// clients) and a node its server, and a leaf node the backbone.
const (
	serverPingInterval = 15 * time.Second
	leafPingInterval   = 5 * time.Second
)

// diskWatchEvery is how often the server measures its free space.
var diskWatchEvery = time.Second

// diskGuard is a Server's watch over its store's free space.
type diskGuard struct {
	min      uint64
	pressure atomic.Bool // the account is limited: too little space
	// writeFailed is set when the server logged a write that failed for
	// want of space (serverLogger): its streams need a restart.
	writeFailed atomic.Bool
	free        atomic.Uint64

	mu     sync.Mutex // guards limits
	limits map[string]server.JetStreamAccountLimits
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// storeLimit is the JetStream store limit of a server whose store is
// dir: the size of its filesystem, so that the limit nats-server would
// otherwise set (three quarters of the space free when it starts, which
// a full store may already exceed after a restart) never binds, and the
// disk guard decides alone. 0 (nats-server's default) when dir cannot be
// measured.
func storeLimit(dir string) int64 {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0
	}
	size, err := health.SizeBytes(dir)
	if err != nil || size > math.MaxInt64 {
		return 0
	}
	return int64(size)
}

// storageFull reports whether err is JetStream refusing a message for
// want of storage: the account's limit (which the disk guard sets), or
// the server's or a stream's.
func storageFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case 10002, 10023, 10047: // account resources exceeded, insufficient resources, storage resources exceeded
		return true
	}
	return false
}

// outOfSpace reports whether a line nats-server logged at error level
// says a write failed for want of space.
func outOfSpace(msg string) bool {
	return strings.Contains(msg, "no space left") || strings.Contains(msg, "out of resources")
}

// watchDisk starts the disk watch; Close stops it.
func (s *Server) watchDisk() {
	ctx, cancel := context.WithCancel(context.Background())
	s.disk.stop = cancel
	s.checkDisk()
	s.disk.wg.Go(func() {
		t := time.NewTicker(diskWatchEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.checkDisk()
			}
		}
	})
}

// stopDiskWatch stops the watch and waits for it.
func (s *Server) stopDiskWatch() {
	if s.disk.stop != nil {
		s.disk.stop()
		s.disk.wg.Wait()
	}
}

// checkDisk measures the free space once and limits, lifts or restarts.
func (s *Server) checkDisk() {
	free, err := health.FreeBytes(s.opts.StoreDir)
	if err != nil {
		s.log.Warn("free disk space not measured", "dir", s.opts.StoreDir, "err", err)
		return
	}
	s.disk.free.Store(free)
	low := free < s.disk.min
	switch {
	case low && !s.disk.pressure.Load():
		if err := s.limitAccount(); err != nil {
			s.log.Error("disk space low but JetStream could not be limited", "free", health.Bytes(free), "err", err)
			return
		}
		s.disk.pressure.Store(true)
		s.log.Warn("disk space low: JetStream refuses new messages until space returns", "dir", s.opts.StoreDir,
			"free", health.Bytes(free), "min_free", health.Bytes(s.disk.min))
	case low:
	case s.disk.writeFailed.Load() || !s.ns.JetStreamEnabled():
		s.restartJetStream()
	case s.disk.pressure.Load():
		if err := s.liftAccount(); err != nil {
			s.log.Error("disk space back but JetStream's limit could not be lifted", "err", err)
			return
		}
		s.disk.pressure.Store(false)
		s.log.Info("disk space back: JetStream takes new messages again", "free", health.Bytes(free))
	}
}

// limitAccount keeps the IANT account from growing: its store limit
// becomes what it uses now. The limits it had are kept for liftAccount.
func (s *Server) limitAccount() error {
	acc, err := s.ns.LookupAccount(account)
	if err != nil {
		return err
	}
	u := acc.JetStreamUsage()
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if s.disk.limits == nil {
		s.disk.limits = map[string]server.JetStreamAccountLimits{"": u.Limits}
	}
	l := u.Limits
	l.MaxStore = int64(u.Store) //nolint:gosec // a store's size fits an int64
	return acc.UpdateJetStreamLimits(map[string]server.JetStreamAccountLimits{"": l})
}

// liftAccount restores the limits limitAccount replaced.
func (s *Server) liftAccount() error {
	acc, err := s.ns.LookupAccount(account)
	if err != nil {
		return err
	}
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if s.disk.limits == nil {
		return nil
	}
	if err := acc.UpdateJetStreamLimits(s.disk.limits); err != nil {
		return err
	}
	s.disk.limits = nil
	return nil
}

// restartJetStream restarts the server's JetStream in-process with its
// configuration: its streams are loaded again from their files, which
// clears a write error nats-server would otherwise keep until a restart.
// The account is left unlimited (a new JetStream starts without the
// limit), so pressure ends with it.
func (s *Server) restartJetStream() {
	s.log.Warn("restarting JetStream after a write failed for want of space; streams reload from their files")
	if s.ns.JetStreamEnabled() {
		if err := s.ns.ShutdownJetStream(); err != nil {
			s.log.Error("JetStream not shut down for its restart", "err", err)
			return
		}
	}
	o := s.opts
	err := s.ns.EnableJetStream(&server.JetStreamConfig{StoreDir: o.StoreDir, SyncInterval: o.SyncInterval, SyncAlways: o.SyncAlways,
		Strict: !o.NoJetStreamStrict, MaxMemory: o.JetStreamMaxMemory, MaxStore: o.JetStreamMaxStore, Domain: o.JetStreamDomain,
		CompressOK: true, UniqueTag: o.JetStreamUniqueTag})
	if err != nil {
		s.log.Error("JetStream not restarted; restart the server", "err", err)
		return
	}
	s.disk.writeFailed.Store(false)
	s.disk.mu.Lock()
	s.disk.limits = nil
	s.disk.mu.Unlock()
	s.disk.pressure.Store(false)
	s.log.Info("JetStream restarted: it takes new messages again")
}

// DiskPressure reports whether the server refuses new messages for want
// of disk space (or its JetStream awaits space to restart).
func (s *Server) DiskPressure() bool {
	return s.disk.pressure.Load() || s.disk.writeFailed.Load() || !s.ns.JetStreamEnabled()
}

// Health returns nil when the server is fit to take messages: JetStream
// runs and is current with its cluster, no disk pressure, and every
// configured route is up; otherwise an error naming each problem, for
// /healthz.
func (s *Server) Health() error {
	var problems []string
	switch {
	case !s.ns.JetStreamEnabled():
		problems = append(problems, "JetStream is not running")
	default:
		// nats-server's own health: JetStream in contact with its
		// cluster's meta leader, every stream and consumer current.
		if h := s.ns.Healthz(nil); h.Status != "ok" {
			problems = append(problems, "JetStream: "+h.Error)
		}
	}
	if s.disk.pressure.Load() || s.disk.writeFailed.Load() {
		problems = append(problems, fmt.Sprintf("disk space low in %s: %s free, below the minimum %s",
			s.opts.StoreDir, health.Bytes(s.disk.free.Load()), health.Bytes(s.disk.min)))
	}
	if s.peers > 1 && s.ns.NumRoutes() < s.peers-1 {
		problems = append(problems, fmt.Sprintf("routes to %d of the %d other cluster servers up", s.ns.NumRoutes(), s.peers-1))
	}
	if len(problems) > 0 {
		return fmt.Errorf("backbone server %s: %s", s.ns.Name(), strings.Join(problems, "; "))
	}
	return nil
}
