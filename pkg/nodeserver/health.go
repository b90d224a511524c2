package nodeserver

import (
	"context"
	"crypto/x509"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/health"
)

// CheckService is the gRPC health service name under which each health
// check answers, e.g. "iant.check.disk"; the overall status is the
// empty service name, SERVING only while every check passes.
func CheckService(check string) string { return "iant.check." + check }

// SetChecks sets the gRPC health statuses from the latest results of
// the node's health checks. After Stop it does nothing (every status
// stays NOT_SERVING).
func (s *Server) SetChecks(rs []health.Result) {
	for _, r := range rs {
		s.health.SetServingStatus(CheckService(r.Name), servingStatus(r.OK))
	}
	s.health.SetServingStatus("", servingStatus(health.Healthy(rs)))
}

func servingStatus(ok bool) healthpb.HealthCheckResponse_ServingStatus {
	if ok {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// RegisterStatus registers the StatusService on s, answered by get.
func (s *Server) RegisterStatus(get func(ctx context.Context) (*iantv1.GetStatusResponse, error)) {
	iantv1.RegisterStatusServiceServer(s.grpc, statusService{get: get})
}

type statusService struct {
	iantv1.UnimplementedStatusServiceServer
	get func(ctx context.Context) (*iantv1.GetStatusResponse, error)
}

func (s statusService) GetStatus(ctx context.Context, _ *iantv1.GetStatusRequest) (*iantv1.GetStatusResponse, error) {
	return s.get(ctx)
}

// ChecksToProto converts health check results for GetStatus.
func ChecksToProto(rs []health.Result) []*iantv1.HealthCheck {
	out := make([]*iantv1.HealthCheck, len(rs))
	for i, r := range rs {
		out[i] = &iantv1.HealthCheck{Name: r.Name, Ok: r.OK, Detail: r.Detail, Since: OptTime(r.Since)}
	}
	return out
}

// VolumesToProto measures the free space of dirs now, for GetStatus.
func VolumesToProto(dirs []health.Dir, min uint64) []*iantv1.VolumeStatus {
	out := make([]*iantv1.VolumeStatus, 0, len(dirs))
	for _, d := range dirs {
		free, _ := health.FreeBytes(d.Path) // the disk check reports an error
		out = append(out, &iantv1.VolumeStatus{Name: d.Name, Path: d.Path, FreeBytes: free, MinFreeBytes: min})
	}
	return out
}

// CertificateToProto describes a node's SVID certificate for GetStatus.
func CertificateToProto(c *x509.Certificate) *iantv1.CertificateStatus {
	id := ""
	if len(c.URIs) > 0 {
		id = c.URIs[0].String()
	}
	return &iantv1.CertificateStatus{SpiffeId: id, NotBefore: timestamppb.New(c.NotBefore), NotAfter: timestamppb.New(c.NotAfter)}
}

// OptTime converts t, nil when it is zero.
func OptTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
