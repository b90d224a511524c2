package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Context returns the client context of person p at their own node (the
// secretariat node for secretariat people).
func (nw *Network) Context(p identity.Principal) (client.Context, error) {
	e, ok := nw.PKI.Find(p)
	if !ok {
		return client.Context{}, fmt.Errorf("testenv: no SVID for %s", p)
	}
	nodeP := NodePrincipal(p.State)
	nw.mu.Lock()
	addr := nw.addrs[p.State] // "" for the secretariat's people
	nw.mu.Unlock()
	return client.Context{
		Node: addr, NodeID: nodeP.ID(nw.TD).String(), TrustDomain: nw.TD.Name(),
		Cert: e.CertFile, Key: e.KeyFile, Bundle: nw.PKI.BundleFile,
		TAXII: nw.TAXIIURL(p.State), // "" for the secretariat and without TAXII
	}, nil
}

// ContextFiles lists the context files written, one per person.
func (nw *Network) ContextFiles() ([]string, error) {
	return filepath.Glob(filepath.Join(nw.opts.Dir, "contexts", "*.yaml"))
}

// writeContexts writes a context file for every person of the PKI into
// Dir/contexts, named <cc>-<role>-<name>.yaml or
// secretariat-<role>-<name>.yaml.
func (nw *Network) writeContexts() error {
	dir := filepath.Join(nw.opts.Dir, "contexts")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	for _, e := range nw.PKI.Entries {
		if !e.Principal.Role.IsPerson() {
			continue
		}
		if !e.Principal.Role.IsSecretariat() && !slices.Contains(nw.allStates(), e.Principal.State) {
			continue
		}
		if _, listens := nw.nodeAddr(e.Principal.State); !listens {
			continue // a state that has not joined yet
		}
		c, err := nw.Context(e.Principal)
		if err != nil {
			return err
		}
		if err := c.Save(filepath.Join(dir, e.Stem+".yaml")); err != nil {
			return fmt.Errorf("testenv: %w", err)
		}
	}
	return nil
}
