package secretariat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/metrics"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/region"
)

// Health of the secretariat's node (docs/operations.md, "Health and
// status"): the backbone answers, the consumers it provisioned exist
// (every state's inbox consumer and its own receipt consumer), its data
// disk has Health.MinFreeDisk free, its SVID is valid. The gRPC health
// service answers SERVING only while all pass.

// Health defaults (package health's, for a secretariat node).
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

// initOps makes the node's metrics and registers them with reg (nil:
// none), under node="secretariat".
func (n *Node) initOps(reg prometheus.Registerer) error {
	n.ops.met = metrics.NewNode(metrics.SecretariatNode)
	n.ops.started = n.now()
	unregister, err := metrics.Register(reg, metrics.LabelNode, "secretariat", n.ops.met)
	if err != nil {
		return fmt.Errorf("secretariat: %w", err)
	}
	n.ops.unregister = unregister
	return nil
}

// startHealth runs the checks once, registers the StatusService and runs
// them every interval on n.wg until ctx ends.
func (n *Node) startHealth(ctx context.Context) {
	n.ops.mon = health.NewMonitor([]health.Check{
		{Name: "backbone", Run: n.checkBackbone},
		{Name: "consumers", Run: func(ctx context.Context) error {
			if !n.bb.Connected() {
				return errors.New("not checked: the backbone is not reachable")
			}
			return n.bb.CheckConsumers(ctx, n.provisioned())
		}},
		{Name: "disk", Run: health.Disk{Dirs: n.diskDirs(), Min: n.cfg.Health.MinFree(), Record: func(d health.Dir, free uint64) {
			n.ops.met.DiskFree(d.Name, free)
		}}.Check},
		{Name: "svid", Run: func(context.Context) error {
			c, err := health.SVID(n.cfg.SVID, n.now())
			if c != nil {
				n.ops.met.SVID(c.NotBefore, c.NotAfter)
			}
			return err
		}},
	}, health.Options{Now: n.now, Report: func(r health.Result) { n.ops.met.Check(r.Name, r.OK) }})
	n.ops.met.DiskMin(n.cfg.Health.MinFree())
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

// checkHealth runs the checks, sets the gRPC health statuses and the
// log's figures, and returns the results.
func (n *Node) checkHealth(ctx context.Context) []health.Result {
	rs := n.ops.mon.CheckNow(ctx)
	n.srv.SetChecks(rs)
	n.ops.met.AuditLogSize(n.audit.log.Size())
	return rs
}

// provisioned lists the states whose inboxes the node provisions.
func (n *Node) provisioned() []string {
	if len(n.cfg.ProvisionStates) > 0 {
		return n.cfg.ProvisionStates
	}
	return region.Codes()
}

func (n *Node) diskDirs() []health.Dir { return []health.Dir{{Name: "data", Path: n.cfg.DataDir}} }

// checkBackbone: connected and answering (the receipt consumer looked up
// is one round trip; the consumers check says whether it exists).
func (n *Node) checkBackbone(ctx context.Context) error {
	err := n.backboneErr(ctx)
	n.ops.met.BackboneConnected(err == nil)
	return err
}

func (n *Node) backboneErr(ctx context.Context) error {
	if !n.bb.Connected() {
		return fmt.Errorf("not connected to any backbone server (%s)", strings.Join(n.cfg.BackboneURLs, ", "))
	}
	err := n.bb.CheckConsumers(ctx, nil)
	if err != nil && !errors.Is(err, backbone.ErrNotProvisioned) {
		return fmt.Errorf("the backbone does not answer: %w", err)
	}
	return nil
}

// observeEscalations records a pass: the overdue pairs by precedence and
// the events it escalated.
func (n *Node) observeEscalations(late []audit.OverdueItem, escalated []audit.Event) {
	counts := map[bulletin.Precedence]int{}
	for _, it := range late {
		counts[it.Precedence]++
	}
	n.ops.met.Overdue(counts)
	for _, e := range escalated {
		n.ops.met.Escalated(e.Precedence)
	}
}

// status answers GetStatus for the secretariat's people.
func (n *Node) status(ctx context.Context) (*iantv1.GetStatusResponse, error) {
	rs := n.checkHealth(ctx)
	resp := &iantv1.GetStatusResponse{
		NodeId: n.self.ID(n.cfg.TrustDomain).String(), Serving: health.Healthy(rs), Checks: nodeserver.ChecksToProto(rs),
		Backbone:  &iantv1.BackboneStatus{Urls: n.cfg.BackboneURLs, Connected: n.bb.Connected(), ConnectedUrl: n.bb.ConnectedURL()},
		StartTime: timestamppb.New(n.ops.started),
		Volumes:   nodeserver.VolumesToProto(n.diskDirs(), n.cfg.Health.MinFree()),
	}
	if c, _ := health.SVID(n.cfg.SVID, n.now()); c != nil { // the svid check reports an error
		resp.Certificate = nodeserver.CertificateToProto(c)
	}
	return resp, nil
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
