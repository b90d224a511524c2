package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/identity"
)

func TestDeployConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../deploy/nats/hub-*.yaml")
	if err != nil || len(files) != 3 {
		t.Fatalf("want 3 hub configs in deploy/nats, got %v (%v)", files, err)
	}
	names := map[string]bool{}
	for _, f := range files {
		c, err := loadConfig(f)
		if err != nil {
			t.Errorf("loadConfig(%s) = %v", f, err)
			continue
		}
		sc, _ := c.serverConfig()
		if sc.Cluster == nil || len(sc.Cluster.Routes) != 3 || len(sc.Cluster.Peers) != 3 || sc.LeafNodes == nil {
			t.Errorf("%s: cluster %+v, leafnodes %+v: want 3 routes, 3 peers and a leaf port", f, sc.Cluster, sc.LeafNodes)
		}
		names[c.Name] = true
	}
	if len(names) != 3 {
		t.Errorf("server names %v are not unique", names)
	}
}

func TestBadConfigsNameTheProblem(t *testing.T) {
	const svid = "svid: {cert: a, key: b, bundle: c}\n"
	const base = "trust_domain: iant.test\nstore_dir: s\n" + svid
	const nodes = "nodes: [spiffe://iant.test/state/MX/node/node]\n"
	const peers = "peers: [spiffe://iant.test/secretariat/node/hub-1]"
	tests := []struct{ name, yaml, want string }{
		{"unknown field", base + nodes + "colour: blue\n", "colour"},
		{"no trust domain", "store_dir: s\n" + svid + nodes, "trust_domain is required"},
		{"bad trust domain", "trust_domain: Bad Domain\nstore_dir: s\n" + svid + nodes, "trust_domain:"},
		{"no store", "trust_domain: iant.test\n" + svid + nodes, "store_dir is required"},
		{"no svid", "trust_domain: iant.test\nstore_dir: s\n" + nodes, "svid: give cert, key and bundle"},
		{"both svid sources", "trust_domain: iant.test\nstore_dir: s\nsvid: {cert: a, key: b, bundle: c, workload_api: unix:///x}\n" + nodes, "not both"},
		{"no nodes", base, "Nodes is empty"},
		{"node is a person", base + "nodes: [spiffe://iant.test/state/MX/analyst/ana]\n", "not a node"},
		{"node not a SPIFFE ID", base + "nodes: [mx-node]\n", `nodes: "mx-node"`},
		{"listen without port", base + nodes + "listen: 127.0.0.1\n", `listen "127.0.0.1"`},
		{"listen port out of range", base + nodes + "listen: 127.0.0.1:70000\n", "port must be 1 to 65535"},
		{"cluster without server name", base + nodes + "cluster: {name: iant, " + peers + "}\n", "name is required in a cluster"},
		{"cluster without peers", base + nodes + "name: hub-1\ncluster: {name: iant}\n", "Cluster.Peers is empty"},
		{"cluster peer is a state node", base + nodes + "name: hub-1\ncluster: {name: iant, peers: [spiffe://iant.test/state/MX/node/node]}\n", "not a secretariat node"},
		{"cluster route not a URL", base + nodes + "name: hub-1\ncluster: {name: iant, routes: [hub-2], " + peers + "}\n", `Cluster.Routes: "hub-2"`},
		{"cluster listen bad", base + nodes + "name: hub-1\ncluster: {name: iant, listen: x, " + peers + "}\n", `cluster.listen "x"`},
		{"leaf listen bad", base + nodes + "leafnodes: {listen: ':0'}\n", "leafnodes.listen"},
		{"metrics beyond loopback", base + nodes + "metrics: {listen: '10.0.0.1:9465'}\n", `metrics.listen "10.0.0.1:9465" is not a loopback address`},
		{"bad disk min_free", base + nodes + "disk: {min_free: '-1'}\n", `disk.min_free "-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hub.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig = %v, want error containing %q", err, tt.want)
			}
		})
	}
	if err := run(context.Background(), nil, io.Discard); err == nil || !strings.Contains(err.Error(), "-config is required") {
		t.Errorf("run without -config = %v", err)
	}
}

// TestClusterFromConfigFiles runs three iant-backbone servers in-process
// from config files like deploy/nats's, provisions R3 streams as the
// secretariat, sends a copy from MX to US through the cluster, and stops
// the servers as a signal would.
func TestClusterFromConfigFiles(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX", "US"}, Hubs: 3})
	if err != nil {
		t.Fatal(err)
	}
	ports := backbonetest.FreePorts(t, 9)
	routes := fmt.Sprintf("[nats-route://127.0.0.1:%d, nats-route://127.0.0.1:%d, nats-route://127.0.0.1:%d]", ports[1], ports[4], ports[7])
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make([]error, 3)
	var urls []string
	for i := range 3 {
		stem := filepath.Join(pki.Dir, "svid", fmt.Sprintf("secretariat-node-hub-%d", i+1))
		body := fmt.Sprintf(`trust_domain: iant.test
name: hub-%d
svid: {cert: %s.pem, key: %s.key, bundle: %s}
listen: 127.0.0.1:%d
store_dir: store-%d
cluster:
  name: iant
  listen: 127.0.0.1:%d
  routes: %s
  peers: [spiffe://iant.test/secretariat/node/hub-1, spiffe://iant.test/secretariat/node/hub-2, spiffe://iant.test/secretariat/node/hub-3]
leafnodes: {listen: 127.0.0.1:%d}
nodes: [spiffe://iant.test/secretariat/node/node, spiffe://iant.test/state/MX/node/node, spiffe://iant.test/state/US/node/node]
log: {level: info}
`, i+1, stem, stem, pki.BundleFile, ports[3*i], i+1, ports[3*i+1], routes, ports[3*i+2])
		path := filepath.Join(dir, fmt.Sprintf("hub-%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, fmt.Sprintf("tls://127.0.0.1:%d", ports[3*i]))
		wg.Go(func() { errs[i] = run(ctx, []string{"-config", path}, testWriter{t}) })
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()

	connect := func(p identity.Principal, stem string) *backbone.Client {
		t.Helper()
		src, err := identity.LoadFiles(pki.TrustDomain, filepath.Join(pki.Dir, "svid", stem+".pem"), filepath.Join(pki.Dir, "svid", stem+".key"), pki.BundleFile)
		if err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer ccancel()
		for {
			c, err := backbone.Connect(cctx, backbone.ClientConfig{URLs: urls, TrustDomain: pki.TrustDomain, SVID: src, Bundle: src, Replicas: 3})
			if err == nil {
				t.Cleanup(func() { _ = c.Close() })
				return c
			}
			if cctx.Err() != nil {
				t.Fatalf("connect %v: %v", p, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	sec := connect(backbonetest.Secretariat, "secretariat-node-node")
	pctx, pcancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer pcancel()
	// The cluster elects its meta leader a moment after the servers
	// listen; Provision waits for it.
	if err := sec.Provision(pctx, []string{"MX", "US"}); err != nil {
		cancel()
		wg.Wait()
		t.Fatalf("Provision R3 on the config-file cluster: %v (servers: %v)", err, errs)
	}
	mx := connect(backbonetest.Node("MX"), "mx-node-node")
	us := connect(backbonetest.Node("US"), "us-node-node")
	if _, err := mx.PublishInbox(pctx, "US", "MX", "b1", []byte("sealed")); err != nil {
		t.Fatalf("PublishInbox: %v", err)
	}
	got := make(chan backbone.Msg, 1)
	cctx, ccancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- us.ConsumeInbox(cctx, func(_ context.Context, m backbone.Msg) error { got <- m; return nil })
	}()
	select {
	case m := <-got:
		if m.ID != "b1" || m.Origin != "MX" {
			t.Errorf("US got %+v, want b1 from MX", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("US received nothing from the cluster")
	}
	ccancel()
	<-done
	for _, c := range []*backbone.Client{mx, us, sec} {
		_ = c.Close()
	}
	stop()
	for i, err := range errs {
		if err != nil {
			t.Errorf("hub-%d stopped with %v, want nil", i+1, err)
		}
	}
}

// testWriter writes a server's log into the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSecondServerOnTheSameStoreIsRefused: two servers on one JetStream
// store would corrupt it; the second is refused, naming the first's pid.
func TestSecondServerOnTheSameStoreIsRefused(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX"}})
	if err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(pki.Dir, "svid", "secretariat-node-node")
	ports := backbonetest.FreePorts(t, 2)
	config := func(port int) config {
		path := filepath.Join(dir, fmt.Sprintf("hub-%d.yaml", port))
		body := fmt.Sprintf("trust_domain: iant.test\nsvid: {cert: %s.pem, key: %s.key, bundle: %s}\nlisten: 127.0.0.1:%d\nstore_dir: store\n"+
			"nodes: [spiffe://iant.test/secretariat/node/node, spiffe://iant.test/state/MX/node/node]\n", stem, stem, pki.BundleFile, port)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, closeSrc, err := start(t.Context(), config(ports[0]), log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Close(); closeSrc() }()
	_, _, err = start(t.Context(), config(ports[1]), log)
	want := fmt.Sprintf("store_dir %s is in use by this process (pid %d)", filepath.Join(dir, "store"), os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second start on the same store_dir = %v, want an error containing %q", err, want)
	}
}
