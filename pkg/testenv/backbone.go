package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/oas-cicte/iant/pkg/backbone"
)

// StopBackbone stops the embedded backbone server, as an outage would; its
// data stays, and the nodes keep running and reconnect by themselves once
// [Network.StartBackbone] started it again. It fails on an external
// backbone.
func (nw *Network) StopBackbone() error {
	if nw.Backbone == nil {
		return errors.New("testenv: no embedded backbone to stop")
	}
	// Pin the ports a random choice gave, so that the nodes (and the leaf
	// links) find the server again where it was.
	port, err := portOf(nw.Backbone.ClientURL())
	if err != nil {
		return err
	}
	nw.bbCfg.Port = port
	if l := nw.bbCfg.LeafNodes; l != nil {
		lp, err := portOf(nw.Backbone.LeafURL())
		if err != nil {
			return err
		}
		pinned := *l
		pinned.Port = lp
		nw.bbCfg.LeafNodes = &pinned
	}
	return nw.Backbone.Close()
}

// StartBackbone starts the embedded backbone stopped by
// [Network.StopBackbone] again, on the same ports with the same data, and
// returns once it accepts connections.
func (nw *Network) StartBackbone(ctx context.Context) error {
	if nw.Backbone == nil {
		return errors.New("testenv: no embedded backbone to start")
	}
	srv, err := backbone.StartServer(ctx, nw.bbCfg)
	if err != nil {
		return fmt.Errorf("testenv: restart backbone: %w", err)
	}
	nw.Backbone = srv
	return nw.registerBackbone(srv)
}

// portOf returns the port of a URL such as "tls://127.0.0.1:4222".
func portOf(raw string) (int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, fmt.Errorf("testenv: backbone URL %q: %w", raw, err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("testenv: backbone URL %q has no port", raw)
	}
	return p, nil
}
