package backbone_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func TestServerConfigValidate(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	good := backbonetest.Config(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"))
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	analyst := identity.Principal{State: "MX", Role: identity.RoleAnalyst, Name: "ana"}.ID(ca.TD)
	tests := []struct {
		name   string
		change func(*backbone.ServerConfig)
		field  string
	}{
		{"no store", func(c *backbone.ServerConfig) { c.StoreDir = "" }, "StoreDir"},
		{"no trust domain", func(c *backbone.ServerConfig) { c.TrustDomain = spiffeid.TrustDomain{} }, "TrustDomain"},
		{"no svid", func(c *backbone.ServerConfig) { c.SVID = nil }, "SVID"},
		{"no bundle", func(c *backbone.ServerConfig) { c.Bundle = nil }, "Bundle"},
		{"bad port", func(c *backbone.ServerConfig) { c.Port = 70000 }, "Port"},
		{"no nodes", func(c *backbone.ServerConfig) { c.Nodes = nil }, "Nodes"},
		{"person", func(c *backbone.ServerConfig) { c.Nodes = append(c.Nodes, analyst) }, "Nodes"},
		{"duplicate", func(c *backbone.ServerConfig) { c.Nodes = append(c.Nodes, c.Nodes[0]) }, "Nodes"},
		{"other trust domain", func(c *backbone.ServerConfig) {
			c.Nodes = append(c.Nodes, spiffeid.RequireFromString("spiffe://other.test/state/MX/node/x"))
		}, "Nodes"},
		{"cluster without name", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Peers: []spiffeid.ID{backbonetest.HubPeer(1).ID(ca.TD)}}
		}, "Cluster.Name"},
		{"cluster name with dot", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Name: "a.b", Peers: []spiffeid.ID{backbonetest.HubPeer(1).ID(ca.TD)}}
		}, "Cluster.Name"},
		{"cluster without peers", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Name: "iant"}
		}, "Cluster.Peers"},
		{"cluster peer is a state node", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Name: "iant", Peers: []spiffeid.ID{backbonetest.Node("MX").ID(ca.TD)}}
		}, "Cluster.Peers"},
		{"cluster route without port", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Name: "iant", Routes: []string{"nats-route://hub-1"},
				Peers: []spiffeid.ID{backbonetest.HubPeer(1).ID(ca.TD)}}
		}, "Cluster.Routes"},
		{"cluster bad port", func(c *backbone.ServerConfig) {
			c.Cluster = &backbone.ClusterConfig{Name: "iant", Port: -2, Peers: []spiffeid.ID{backbonetest.HubPeer(1).ID(ca.TD)}}
		}, "Cluster.Port"},
		{"leaf bad port", func(c *backbone.ServerConfig) { c.LeafNodes = &backbone.ListenConfig{Port: 65536} }, "LeafNodes.Port"},
		{"outside scheme", func(c *backbone.ServerConfig) {
			c.Nodes = append(c.Nodes, spiffeid.RequireFromString("spiffe://iant.test/workload/x"))
		}, "Nodes"},
		// An inspector reads stored copies: never a node or a person.
		{"inspector is a node", func(c *backbone.ServerConfig) {
			c.Inspectors = []spiffeid.ID{backbonetest.Node("MX").ID(ca.TD)}
		}, "Inspectors"},
		{"inspector is the secretariat", func(c *backbone.ServerConfig) {
			c.Inspectors = []spiffeid.ID{backbonetest.Secretariat.ID(ca.TD)}
		}, "Inspectors"},
		{"inspector is a person", func(c *backbone.ServerConfig) { c.Inspectors = []spiffeid.ID{analyst} }, "Inspectors"},
		{"inspector of another trust domain", func(c *backbone.ServerConfig) {
			c.Inspectors = []spiffeid.ID{spiffeid.RequireFromString("spiffe://other.test/test/inspector")}
		}, "Inspectors"},
		{"inspector twice", func(c *backbone.ServerConfig) {
			c.Inspectors = []spiffeid.ID{backbonetest.InspectorID(ca.TD), backbonetest.InspectorID(ca.TD)}
		}, "Inspectors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			cfg.Nodes = append([]spiffeid.ID(nil), good.Nodes...)
			tt.change(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, backbone.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
			if _, err := backbone.StartServer(context.Background(), cfg); !errors.Is(err, backbone.ErrInvalidConfig) {
				t.Errorf("StartServer() = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestStartServerPortInUse(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "MX")
	cfg := backbonetest.Config(t, e.ca, backbonetest.Secretariat)
	port := e.srv.ClientURL()[strings.LastIndex(e.srv.ClientURL(), ":")+1:]
	var err error
	if cfg.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if srv, err := backbone.StartServer(ctx, cfg); err == nil {
		srv.Close()
		t.Fatal("StartServer on a port in use succeeded")
	} else if ctx.Err() != nil {
		t.Fatalf("StartServer on a port in use = %v only after the deadline", err)
	}
}
