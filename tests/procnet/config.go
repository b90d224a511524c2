package procnet

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// Hub is one iant-backbone server.
type Hub struct {
	// Name is hub-1, hub-2, ... (the PKI's secretariat/node/hub-N SVID).
	Name string
	// Host is the address it listens on.
	Host string
	// ClientPort is required; RoutePort (0: not clustered), LeafPort and
	// MetricsPort (0: none) are optional.
	ClientPort, RoutePort, LeafPort, MetricsPort int
	// StoreDir defaults to Dir/var/NAME.
	StoreDir string
	// MinFree is disk.min_free, e.g. "4MiB"; "" means the default.
	MinFree string
}

// ClientURL is where nodes connect.
func (h Hub) ClientURL() string { return "tls://" + hostPort(h.Host, h.ClientPort) }

// LeafURL is where leaf nodes connect.
func (h Hub) LeafURL() string { return "tls://" + hostPort(h.Host, h.LeafPort) }

// MetricsURL is the server's /metrics.
func (h Hub) MetricsURL() string { return "http://" + hostPort(h.Host, h.MetricsPort) + "/metrics" }

func hostPort(h string, p int) string { return net.JoinHostPort(h, strconv.Itoa(p)) }

// nodeIDs are the SPIFFE IDs of every node of states and the secretariat.
func nodeIDs(states []string) []string {
	ids := []string{"spiffe://" + TrustDomain + "/secretariat/node/node"}
	for _, s := range states {
		ids = append(ids, "spiffe://"+TrustDomain+"/state/"+s+"/node/node")
	}
	return ids
}

// HubConfig writes h's config, a member of cluster (all its servers, h
// among them) when h has a route port, admitting the nodes of states and
// the secretariat, and returns its path.
func (n *Net) HubConfig(h Hub, cluster []Hub, states []string) string {
	n.t.Helper()
	if h.StoreDir == "" {
		h.StoreDir = filepath.Join(n.Dir, "var", h.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trust_domain: %s\nname: %s\n%slisten: %s\nstore_dir: %s\n", TrustDomain, h.Name,
		n.svid("secretariat-node-"+h.Name), hostPort(h.Host, h.ClientPort), h.StoreDir)
	if h.RoutePort != 0 {
		var routes, peers []string
		for _, c := range cluster {
			routes = append(routes, "nats-route://"+hostPort(c.Host, c.RoutePort))
			peers = append(peers, "spiffe://"+TrustDomain+"/secretariat/node/"+c.Name)
		}
		fmt.Fprintf(&b, "cluster: {name: iant, listen: '%s', routes: [%s], peers: [%s]}\n", hostPort(h.Host, h.RoutePort),
			strings.Join(routes, ", "), strings.Join(peers, ", "))
	}
	if h.LeafPort != 0 {
		fmt.Fprintf(&b, "leafnodes: {listen: '%s'}\n", hostPort(h.Host, h.LeafPort))
	}
	if h.MetricsPort != 0 {
		fmt.Fprintf(&b, "metrics: {listen: '%s', allow_remote: true}\n", hostPort(h.Host, h.MetricsPort))
	}
	if h.MinFree != "" {
		fmt.Fprintf(&b, "disk: {min_free: %s}\n", h.MinFree)
	}
	fmt.Fprintf(&b, "nodes: [%s]\nlog: {level: info}\n", strings.Join(nodeIDs(states), ", "))
	return n.write(h.Name, b.String())
}

// Node is one iantd.
type Node struct {
	// Name is "secretariat" or a state code in lower case.
	Name string
	// State is the state code, "" for the secretariat.
	State string
	// Host and Port are where it serves gRPC; MetricsPort, when set,
	// serves its metrics on Host.
	Host              string
	Port, MetricsPort int
	// DataDir defaults to Dir/var/NAME.
	DataDir string
	// Backbone lists the backbone's client URLs; LeafHubs, instead, runs
	// the node behind its own leaf node linked to these leaf URLs.
	Backbone, LeafHubs []string
	// Replicas is backbone.replicas (the secretariat's: 3 on a cluster).
	Replicas int
	// MinFree is disk.min_free; HealthInterval health.interval ("" for
	// the defaults).
	MinFree, HealthInterval string
	// Extra is appended to the config as is.
	Extra string
}

// Addr is where the node serves gRPC.
func (nd Node) Addr() string { return hostPort(nd.Host, nd.Port) }

// ID is the node's SPIFFE ID.
func (nd Node) ID() string {
	if nd.State == "" {
		return "spiffe://" + TrustDomain + "/secretariat/node/node"
	}
	return "spiffe://" + TrustDomain + "/state/" + nd.State + "/node/node"
}

// MetricsURL is the node's /metrics.
func (nd Node) MetricsURL() string { return "http://" + hostPort(nd.Host, nd.MetricsPort) + "/metrics" }

func (n *Net) dataDir(nd Node) string {
	if nd.DataDir != "" {
		return nd.DataDir
	}
	return filepath.Join(n.Dir, "var", nd.Name)
}

// NodeConfig writes nd's config, listing the nodes of directory, and
// returns its path. A state node reads the secretariat's audit and
// membership verifier keys from the secretariat's data dir (the
// secretariat of directory).
func (n *Net) NodeConfig(nd Node, directory []Node) string {
	n.t.Helper()
	stem := "secretariat-node-node"
	if nd.State != "" {
		stem = strings.ToLower(nd.State) + "-node-node"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trust_domain: %s\nlisten: '%s'\ndata_dir: %s\n%s", TrustDomain, nd.Addr(), n.dataDir(nd), n.svid(stem))
	switch {
	case len(nd.LeafHubs) > 0:
		fmt.Fprintf(&b, "backbone: {leaf: {hub_urls: [%s]}}\n", strings.Join(nd.LeafHubs, ", "))
	default:
		fmt.Fprintf(&b, "backbone: {urls: [%s], replicas: %d}\n", strings.Join(nd.Backbone, ", "), nd.Replicas)
	}
	var states []string
	vkey, mkey := "", ""
	b.WriteString("directory:\n")
	for _, d := range directory {
		fmt.Fprintf(&b, "  - {id: '%s', address: '%s'}\n", d.ID(), d.Addr())
		if d.State != "" {
			states = append(states, d.State)
		} else {
			vkey = filepath.Join(n.dataDir(d), "audit.vkey")
			mkey = filepath.Join(n.dataDir(d), "membership.vkey")
		}
	}
	if nd.State != "" {
		fmt.Fprintf(&b, "audit: {verifier_key_file: %s}\n", vkey)
		fmt.Fprintf(&b, "membership: {verifier_key_file: %s}\n", mkey)
	}
	if nd.State == "" {
		fmt.Fprintf(&b, "provision_states: [%s]\n", strings.Join(states, ", "))
	}
	if nd.MetricsPort != 0 {
		fmt.Fprintf(&b, "metrics: {listen: '%s', allow_remote: true}\n", hostPort(nd.Host, nd.MetricsPort))
	}
	if nd.MinFree != "" {
		fmt.Fprintf(&b, "disk: {min_free: %s}\n", nd.MinFree)
	}
	if nd.HealthInterval != "" {
		fmt.Fprintf(&b, "health: {interval: %s}\n", nd.HealthInterval)
	}
	b.WriteString("log: {level: info}\n" + nd.Extra)
	return n.write(nd.Name, b.String())
}
