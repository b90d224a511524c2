package statenode

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/metrics"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Health of a state node (docs/operations.md, "Health and status"). Five
// checks run every Health.Interval, and at every GetStatus call: the
// backbone answers, the state's inbox consumer is provisioned, the
// node's directory entry is published with its current key and not near
// its end, its disks have Health.MinFreeDisk free, its SVID is valid.
// The gRPC health service answers SERVING only while all pass, and
// "iant.check.<name>" for each; the metrics follow them.

// Health defaults (package health's, for a statenode node).
const (
	DefaultHealthInterval = health.DefaultInterval
	DefaultMinFreeDisk    = health.DefaultMinFreeDisk
)

// HealthConfig configures the node's health checks (see [health.Config]).
type HealthConfig = health.Config

// opsState is what the node's metrics and health checks keep.
type opsState struct {
	met        *metrics.Node
	unregister func()
	mon        *health.Monitor
	started    time.Time
}

// initOps makes the node's metrics, registers them with reg (nil: none)
// and has the policy engine report its decisions to them.
func (n *Node) initOps(reg prometheus.Registerer) error {
	n.ops.met = metrics.NewNode(metrics.StateNode)
	n.ops.started = n.now()
	unregister, err := metrics.Register(reg, metrics.LabelNode, n.self.State, n.ops.met)
	if err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	n.ops.unregister = unregister
	n.policy.Observe(func(point string, d policy.Decision) { n.ops.met.PolicyDecision(point, d.Allowed, d.Rule()) })
	return nil
}

// startHealth runs the checks once, registers the StatusService, and
// runs them every interval on n.wg until ctx ends.
func (n *Node) startHealth(ctx context.Context) {
	n.ops.mon = health.NewMonitor([]health.Check{
		{Name: "backbone", Run: n.checkBackbone},
		{Name: "consumers", Run: n.checkConsumers},
		{Name: "directory", Run: n.checkDirectory},
		{Name: "disk", Run: health.Disk{Dirs: n.diskDirs(), Min: n.cfg.Health.MinFree(), Record: func(d health.Dir, free uint64) {
			n.ops.met.DiskFree(d.Name, free)
		}}.Check},
		{Name: "svid", Run: n.checkSVID},
	}, health.Options{Now: n.now, Report: func(r health.Result) { n.ops.met.Check(r.Name, r.OK) }})
	n.ops.met.DiskMin(n.cfg.Health.MinFree())
	n.ops.met.OutboxLimit(n.maxPendingCopies())
	n.checkHealth(ctx)
	n.srv.RegisterStatus(n.status)
	n.wg.Go(func() {
		t := time.NewTicker(n.cfg.Health.Every())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n.checkHealth(ctx)
			}
		}
	})
}

// checkHealth runs the checks, sets the gRPC health statuses and
// refreshes the queue figures; it returns the results.
func (n *Node) checkHealth(ctx context.Context) []health.Result {
	rs := n.ops.mon.CheckNow(ctx)
	n.srv.SetChecks(rs)
	if copies, receipts, err := n.queues(ctx); err == nil {
		n.ops.met.Queues(copies, receipts)
	}
	return rs
}

// queues counts what waits for the backbone.
func (n *Node) queues(ctx context.Context) (copies, receipts int, err error) {
	if copies, err = n.store.CountPendingCopies(ctx); err != nil {
		return 0, 0, err
	}
	receipts, err = n.store.CountPendingReceipts(ctx)
	return copies, receipts, err
}

// diskDirs are the directories the node writes.
func (n *Node) diskDirs() []health.Dir {
	dirs := []health.Dir{{Name: "data", Path: n.cfg.DataDir}}
	if l := n.backboneConfig().Leaf; l != nil && !sameDir(l.StoreDir, n.cfg.DataDir) {
		dirs = append(dirs, health.Dir{Name: "leaf", Path: l.StoreDir})
	}
	return dirs
}

func sameDir(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

// checkBackbone: connected (through the leaf's link, behind one) and
// answering a request about the node's own inbox consumer.
func (n *Node) checkBackbone(ctx context.Context) error {
	behind := n.bb.Behind()
	if behind {
		n.ops.met.LeafLink(n.bb.LeafConnected())
	}
	err := n.backboneErr(ctx, behind)
	n.ops.met.BackboneConnected(err == nil)
	return err
}

func (n *Node) backboneErr(ctx context.Context, behind bool) error {
	switch {
	case behind && !n.bb.LeafConnected():
		return errors.New("the leaf node's link to the backbone is down: posts wait in the outbox")
	case !n.bb.Connected():
		return fmt.Errorf("not connected to any backbone server (%s)", strings.Join(n.cfg.BackboneURLs, ", "))
	}
	in, err := n.bb.Inbox(ctx)
	switch {
	case errors.Is(err, backbone.ErrNotProvisioned):
		return nil // the backbone answered; the consumers check says the rest
	case err != nil:
		return fmt.Errorf("the backbone does not answer: %w", err)
	}
	n.ops.met.Inbox(in.Pending, in.AckPending)
	return nil
}

// errUnchecked is the failure of a check that asks the backbone while
// the node cannot reach it: unknown is not healthy.
var errUnchecked = errors.New("not checked: the backbone is not reachable")

// checkConsumers: the state's inbox consumer exists on the backbone.
func (n *Node) checkConsumers(ctx context.Context) error {
	if !n.bb.Connected() {
		return errUnchecked
	}
	_, err := n.bb.Inbox(ctx)
	switch {
	case errors.Is(err, backbone.ErrNotProvisioned):
		return fmt.Errorf("the inbox consumer %s is not provisioned: the secretariat's node provisions it (provision_states)",
			backbone.InboxConsumer(n.self.State))
	case err != nil:
		return fmt.Errorf("the inbox consumer could not be looked up: %w", err)
	}
	return nil
}

// checkDirectory: the directory holds this node's entry, verified, with
// its current HPKE key, and a quarter of its validity left at least.
func (n *Node) checkDirectory(ctx context.Context) error {
	if !n.bb.Behind() && !n.bb.Connected() { // behind a leaf node, the entry kept there is read
		return errUnchecked
	}
	data, err := n.bb.DirectoryEntry(ctx, n.self.State)
	switch {
	case errors.Is(err, backbone.ErrNoEntry):
		return errors.New("this node's directory entry is not published: no state can seal to it")
	case err != nil:
		return fmt.Errorf("this node's directory entry could not be read: %w", err)
	}
	now := n.now()
	e, err := seal.VerifyEntry(data, n.cfg.Bundle, n.cfg.TrustDomain, now)
	if err != nil {
		return fmt.Errorf("this node's directory entry does not verify: %w", err)
	}
	n.ops.met.DirectoryEntryExpiry(e.NotAfter)
	if cur := n.keys.current().Public().KEMKeyID; e.KEMKeyID != cur {
		return fmt.Errorf("the directory publishes key %s for %s, not this node's current key %s: another node of %s publishes its own keys, or this one's were not published",
			e.KEMKeyID, n.self.State, cur, n.self.State)
	}
	if left, life := e.NotAfter.Sub(now), e.NotAfter.Sub(e.NotBefore); left < life/4 {
		return fmt.Errorf("this node's directory entry expires at %s (in %s): restart the node or rotate its key (SIGUSR1) to publish a new one",
			e.NotAfter.UTC().Format(time.RFC3339), left.Round(time.Minute))
	}
	return nil
}

// checkSVID: the node's SVID is valid now.
func (n *Node) checkSVID(context.Context) error {
	c, err := health.SVID(n.cfg.SVID, n.now())
	if c != nil {
		n.ops.met.SVID(c.NotBefore, c.NotAfter)
	}
	return err
}

// diskRoom refuses new work while the node's data disk is below
// Health.MinFreeDisk: Unavailable, naming the disk.
func (n *Node) diskRoom() error {
	err := health.Room(health.Dir{Name: "data", Path: n.cfg.DataDir}, n.cfg.Health.MinFree())
	if err == nil {
		return nil
	}
	n.log.Warn("refused: disk space low", "err", err)
	n.ops.met.Refused("node.disk_full")
	return problem.Unavailable(err, "this node's disk is nearly full (%s); it takes new bulletins again once space is freed",
		strings.TrimPrefix(err.Error(), health.ErrLowDisk.Error()+": "))
}

// Health returns nil while the latest run of the health checks passed,
// and otherwise an error naming each failing check and why (for a
// daemon's /healthz).
func (n *Node) Health() error {
	if n.ops.mon == nil {
		return errors.New("not checked yet")
	}
	if s := health.Failing(n.ops.mon.Results()); s != "" {
		return errors.New(s)
	}
	return nil
}
