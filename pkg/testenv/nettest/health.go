package nettest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// Conn connects person p to their own state's node (the secretariat's
// for a secretariat person) and returns the connection, for the services
// beside BulletinService (health, status, directory).
func Conn(t testing.TB, nw *testenv.Network, p identity.Principal) *grpc.ClientConn {
	t.Helper()
	return conn(t, nw, p, p.Role.IsSecretariat())
}

// WaitServing polls the gRPC health service on conn until service
// (e.g. "" or "iant.check.disk") answers want, and fails the test if it
// does not within [Eventually].
func WaitServing(t testing.TB, conn *grpc.ClientConn, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(Eventually)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		cancel()
		if err == nil && resp.GetStatus() == want {
			return
		}
		last = resp.GetStatus().String()
		if err != nil {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("health of %q is %s after %s, want %s", service, last, Eventually, want)
}

// Status asks the node on conn for its status.
func Status(t testing.TB, conn *grpc.ClientConn) *iantv1.GetStatusResponse {
	t.Helper()
	resp, err := iantv1.NewStatusServiceClient(conn).GetStatus(t.Context(), &iantv1.GetStatusRequest{})
	if err != nil {
		t.Fatalf("GetStatus: %v", err)
	}
	return resp
}

// Check returns the named check of a status, failing the test if absent.
func Check(t testing.TB, st *iantv1.GetStatusResponse, name string) *iantv1.HealthCheck {
	t.Helper()
	for _, c := range st.GetChecks() {
		if c.GetName() == name {
			return c
		}
	}
	t.Fatalf("status has no check %q: %v", name, st.GetChecks())
	return nil
}

// MetricValue returns the value of the series name whose labels include
// labels (a counter, a gauge or a histogram's sample count) in what g
// gathers now, and whether there is one.
func MetricValue(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				return value(m), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}
