package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/metrics"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		name        string
		addr        string
		allowRemote bool
		wantErr     bool
		remote      bool
	}{
		{"ipv4 loopback", "127.0.0.1:9464", false, false, false},
		{"ipv6 loopback", "[::1]:9464", false, false, false},
		{"localhost", "localhost:9464", false, false, false},
		{"all interfaces", ":9464", false, true, true},
		{"any address", "0.0.0.0:9464", false, true, true},
		{"a host's address", "10.0.0.5:9464", false, true, true},
		{"a host's address allowed", "10.0.0.5:9464", true, false, false},
		{"no port", "127.0.0.1", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := metrics.CheckAddr(tt.addr, tt.allowRemote)
			if (err != nil) != tt.wantErr || errors.Is(err, metrics.ErrRemote) != tt.remote {
				t.Errorf("CheckAddr(%q, %v) = %v, want error %v (remote %v)", tt.addr, tt.allowRemote, err, tt.wantErr, tt.remote)
			}
		})
	}
}

// TestTwoNodesOneRegistry: the demo's nodes share a registry, told apart
// by their node label; a node that closes unregisters and may register
// again when it restarts.
func TestTwoNodesOneRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	mx, us := metrics.NewNode(metrics.StateNode), metrics.NewNode(metrics.StateNode)
	unMX, err := metrics.Register(reg, metrics.LabelNode, "MX", mx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Register(reg, metrics.LabelNode, "US", us); err != nil {
		t.Fatal(err)
	}
	mx.Posted(bulletin.Flash)
	us.Received(bulletin.Flash, time.Now().Add(-time.Second), time.Now())
	srv, err := metrics.Listen(metrics.ServerConfig{Addr: "127.0.0.1:0", Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := scrape(t, srv.URL())
	for _, want := range []string{
		`iant_bulletins_posted_total{node="MX",precedence="flash"} 1`,
		`iant_bulletins_posted_total{node="US",precedence="flash"} 0`,
		`iant_bulletins_received_total{node="US",precedence="flash"} 1`,
		`iant_delivery_latency_seconds_bucket{node="US",precedence="flash",le="1"} 0`,
		`iant_delivery_latency_seconds_bucket{node="US",precedence="flash",le="2.5"} 1`,
		`iant_seal_failures_total{node="MX",op="open",reason="signature"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "iant_escalations_total") {
		t.Error("a state node exports the secretariat's escalations")
	}
	unMX()
	if body := scrape(t, srv.URL()); strings.Contains(body, `node="MX"`) {
		t.Error("MX's series remain after it unregistered")
	}
	if _, err := metrics.Register(reg, metrics.LabelNode, "MX", metrics.NewNode(metrics.StateNode)); err != nil {
		t.Errorf("register again after unregistering: %v", err)
	}
	if _, err := metrics.Register(reg, metrics.LabelNode, "US", metrics.NewNode(metrics.StateNode)); err == nil {
		t.Error("a second node US registered beside the first")
	}
}

func TestNilNodeRecordsNothing(t *testing.T) {
	var m *metrics.Node
	m.Posted(bulletin.Flash)
	m.Refused("post.role")
	m.Call("/x", "OK")
	m.Escalated(bulletin.Flash)
	sec := metrics.NewNode(metrics.SecretariatNode)
	sec.Posted(bulletin.Flash) // a state node's figure: ignored
	ch := make(chan prometheus.Metric, 100)
	sec.Collect(ch)
	close(ch)
	for m := range ch {
		if strings.Contains(m.Desc().String(), "posted") {
			t.Errorf("the secretariat collects %s", m.Desc())
		}
	}
}

func TestHealthz(t *testing.T) {
	var failing atomic.Pointer[error]
	srv, err := metrics.Listen(metrics.ServerConfig{Addr: "127.0.0.1:0", Gatherer: prometheus.NewRegistry(),
		Health: func() error {
			if p := failing.Load(); p != nil {
				return *p
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := strings.TrimSuffix(srv.URL(), "/metrics") + "/healthz"
	if code, body := get(t, url); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", code, body)
	}
	err = errors.New("disk: data dir /x has 1 MiB free")
	failing.Store(&err)
	if code, body := get(t, url); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk") {
		t.Errorf("GET /healthz = %d %q, want 503 naming the disk", code, body)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	code, body := get(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", url, code)
	}
	return body
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec // a test's own server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
