package wan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/tests/procnet"
)

// The network on the WAN: where each process runs.
var (
	hubSites = []struct{ name, site string }{{"hub-1", "iad"}, {"hub-2", "pty"}, {"hub-3", "gru"}}
	// nodeSites are the nodes and their sites; JM's node runs behind its
	// leaf node.
	nodeSites = []struct{ name, state, site string }{
		{"secretariat", "", "iad"}, {"us", "US", "mia"}, {"mx", "MX", "mex"}, {"br", "BR", "bsb"}, {"ar", "AR", "eze"}, {"jm", "JM", "kin"},
	}
	states = []string{"US", "MX", "BR", "AR", "JM"}
)

// Ports, the same in every namespace.
const (
	clientPort, routePort, leafPort, hubMetricsPort = 4222, 6222, 7422, 9470
	nodePort, nodeMetricsPort                       = 7402, 9465
)

// network is the processes on the WAN and the test's people.
type network struct {
	w     *WAN
	n     *procnet.Net
	hubs  []procnet.Hub
	nodes map[string]procnet.Node // by name
	// focal and analyst connect each state's people (from the test's own
	// host) to their node, by state code.
	focal, analyst map[string]iantv1.BulletinServiceClient
	conns          map[string]*grpc.ClientConn
	// focalConns connect each state's focal point: the node's status
	// gives its traffic counts to focal points only.
	focalConns map[string]*grpc.ClientConn
}

// startNetwork starts the three backbone servers, the secretariat and the
// state nodes, each in its namespace, and waits until every node serves.
func startNetwork(t *testing.T, w *WAN, rep *report) *network {
	t.Helper()
	start := time.Now()
	nw := &network{w: w, n: procnet.New(t, bin, states, 3), nodes: map[string]procnet.Node{},
		focal: map[string]iantv1.BulletinServiceClient{}, analyst: map[string]iantv1.BulletinServiceClient{}, conns: map[string]*grpc.ClientConn{},
		focalConns: map[string]*grpc.ClientConn{}}
	var urls, leafURLs []string
	for _, h := range hubSites {
		hub := procnet.Hub{Name: h.name, Host: w.IP(h.name), ClientPort: clientPort, RoutePort: routePort, LeafPort: leafPort, MetricsPort: hubMetricsPort}
		nw.hubs = append(nw.hubs, hub)
		urls, leafURLs = append(urls, hub.ClientURL()), append(leafURLs, hub.LeafURL())
	}
	for _, h := range nw.hubs {
		nw.n.Start(h.Name, w.NS(h.Name), "iant-backbone", nw.n.HubConfig(h, nw.hubs, states))
	}
	var all []procnet.Node
	for _, s := range nodeSites {
		nd := procnet.Node{Name: s.name, State: s.state, Host: w.IP(s.name), Port: nodePort, MetricsPort: nodeMetricsPort,
			Backbone: urls, Replicas: 3, HealthInterval: "2s"}
		if s.state == "JM" {
			nd.Backbone, nd.LeafHubs = nil, leafURLs
		}
		nw.nodes[s.name] = nd
		all = append(all, nd)
	}
	for _, h := range nw.hubs {
		nw.n.WaitTCP(h.Name, fmt.Sprintf("%s:%d", h.Host, clientPort), time.Minute)
	}
	sec := nw.nodes["secretariat"]
	nw.n.Start(sec.Name, w.NS(sec.Name), "iantd", nw.n.NodeConfig(sec, all))
	nw.n.WaitTCP(sec.Name, sec.Addr(), 2*time.Minute) // it provisions the R3 streams first
	for _, nd := range all[1:] {
		nw.n.Start(nd.Name, w.NS(nd.Name), "iantd", nw.n.NodeConfig(nd, all))
	}
	for _, nd := range all[1:] {
		nw.n.WaitTCP(nd.Name, nd.Addr(), 2*time.Minute)
		cc := strings.ToLower(nd.State)
		nw.conns[nd.State] = nw.n.Conn(t, cc+"-analyst-analyst", nd)
		nw.focalConns[nd.State] = nw.n.Conn(t, cc+"-focal-point-focal", nd)
		nw.focal[nd.State] = iantv1.NewBulletinServiceClient(nw.focalConns[nd.State])
		nw.analyst[nd.State] = iantv1.NewBulletinServiceClient(nw.conns[nd.State])
	}
	for _, s := range states {
		nw.waitServing(t, s)
	}
	rep.line("network up (3 backbone servers, the secretariat, %d state nodes) in %s", len(states), time.Since(start).Round(time.Millisecond))
	return nw
}

// waitServing waits until state's node answers SERVING.
func (nw *network) waitServing(t *testing.T, state string) {
	t.Helper()
	hc := healthpb.NewHealthClient(nw.conns[state])
	ok := procnet.Eventually(2*time.Minute, func() bool {
		resp, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
	if !ok {
		st, err := iantv1.NewStatusServiceClient(nw.conns[state]).GetStatus(t.Context(), &iantv1.GetStatusRequest{})
		t.Fatalf("%s's node is not serving: %v %v", state, st.GetChecks(), err)
	}
}

// status asks state's node for its status, as its focal point.
func (nw *network) status(t *testing.T, state string) *iantv1.GetStatusResponse {
	t.Helper()
	st, err := iantv1.NewStatusServiceClient(nw.focalConns[state]).GetStatus(t.Context(), &iantv1.GetStatusRequest{})
	if err != nil {
		t.Fatalf("GetStatus at %s: %v", state, err)
	}
	return st
}

// others are the states but s.
func others(s string) []string {
	var out []string
	for _, o := range states {
		if o != s {
			out = append(out, o)
		}
	}
	return out
}

// stopNodes stops every iantd (SIGTERM), leaving the backbone.
func (nw *network) stopNodes() {
	for _, s := range nodeSites {
		if p := nw.n.Proc(s.name); p != nil {
			p.Stop()
		}
	}
}
