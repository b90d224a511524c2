package bench

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
)

// startServers starts the baseline's backbone: one server with cfg, or,
// with n > 1, a cluster of n servers on loopback (each storing in its
// own directory under cfg.StoreDir), all with cfg's SVID, users and
// TLS, so that replication is on both sides when the nodes use an
// external cluster.
func startServers(ctx context.Context, cfg backbone.ServerConfig, n int) ([]*backbone.Server, error) {
	if n <= 1 {
		s, err := backbone.StartServer(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return []*backbone.Server{s}, nil
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	routes := make([]string, n)
	for i := range routes {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[2*i+1])
	}
	self, err := cfg.SVID.GetX509SVID()
	if err != nil {
		return nil, err
	}
	srvs := make([]*backbone.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range srvs {
		c := cfg
		c.Name = fmt.Sprintf("bench-baseline-%d", i+1)
		c.Port = ports[2*i]
		c.StoreDir = filepath.Join(cfg.StoreDir, c.Name)
		c.Cluster = &backbone.ClusterConfig{Name: "bench-baseline", Port: ports[2*i+1], Routes: routes, Peers: []spiffeid.ID{self.ID}}
		wg.Go(func() { srvs[i], errs[i] = backbone.StartServer(ctx, c) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, s := range srvs {
				if s != nil {
					s.Close()
				}
			}
			return nil, fmt.Errorf("baseline server %d of %d: %w", i+1, n, err)
		}
	}
	return srvs, nil
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
