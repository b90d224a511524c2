package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/taxiiproxy"
)

const taxiiProxyLong = `Expose your node's TAXII 2.1 server on this machine's loopback address for
TAXII clients that cannot present a client certificate (MISP, OpenCTI
connectors, scripts): they use HTTP Basic auth instead, with any user
name and the token printed at start as password. The proxy speaks to the
node with your own SVID (the context file's), so the node decides what
you may read exactly as for you: the proxy holds no more rights than you.
Anyone with the token acts as you: keep it like a password. A new token
is minted at every start; stop with Ctrl-C.

The node's TAXII URL is the context file's taxii field (iant demo writes
it) or --url. docs/interop.md, "TAXII without a client certificate".`

func newTaxiiProxyCmd(g *globals) *cobra.Command {
	var listen, upstream string
	cmd := &cobra.Command{
		Use:   "taxii-proxy [--listen 127.0.0.1:0] [--url https://NODE:PORT/taxii2/]",
		Short: "Expose your node's TAXII server on loopback with a Basic auth token",
		Long:  taxiiProxyLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, me, err := g.taxiiProxyConfig(upstream)
			if err != nil {
				return err
			}
			cfg.Listen = listen
			p, err := taxiiproxy.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "TAXII proxy for %s to %s\ndiscovery: %s\nuser:      iant (any name)\npassword:  %s\n",
				me, cfg.Upstream, p.DiscoveryURL(), p.Token())
			<-cmd.Context().Done()
			return p.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to listen on (port 0 = a free port)")
	cmd.Flags().StringVar(&upstream, "url", "", "the node's TAXII discovery URL (default the context file's taxii)")
	return cmd
}

// taxiiProxyConfig reads the context file: the person's SVID, the node's
// SPIFFE ID and, unless upstream is given, its TAXII URL.
func (g *globals) taxiiProxyConfig(upstream string) (taxiiproxy.Config, identity.Principal, error) {
	path := g.contextFile
	if path == "" {
		path = os.Getenv("IANT_CONTEXT")
	}
	if path == "" {
		return taxiiproxy.Config{}, identity.Principal{}, usagef("no context: pass --context FILE or set IANT_CONTEXT (iant demo writes them into DIR/contexts)")
	}
	c, err := g.loadContext(path)
	if err != nil {
		return taxiiproxy.Config{}, identity.Principal{}, err
	}
	if upstream == "" {
		upstream = c.TAXII
	}
	if upstream == "" {
		return taxiiproxy.Config{}, identity.Principal{}, usagef("%s names no TAXII server (no taxii field): pass --url https://NODE:PORT/taxii2/", path)
	}
	if g.stderr != nil {
		warnExpiry(g.stderr, c.CertFile(), time.Now())
	}
	td := spiffeid.RequireTrustDomainFromString(c.TrustDomain) // LoadContext validated it
	src, err := identity.LoadFiles(td, c.CertFile(), c.KeyFile(), c.BundleFile())
	if err != nil {
		return taxiiproxy.Config{}, identity.Principal{}, err
	}
	me, err := identity.SelfFrom(src, td)
	if err != nil {
		return taxiiproxy.Config{}, identity.Principal{}, fmt.Errorf("own certificate %s: %w", c.CertFile(), err)
	}
	return taxiiproxy.Config{Upstream: upstream, NodeID: spiffeid.RequireFromString(c.NodeID), SVID: src, Bundle: src}, me, nil
}
