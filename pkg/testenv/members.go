package testenv

import (
	"path/filepath"
	"slices"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Admin names the development PKI's secretariat administrator, who
// changes the membership table and the deny list at the secretariat node.
func Admin() identity.Principal {
	return identity.Principal{Role: identity.RoleAdmin, Name: devpki.AdminName}
}

// MembershipKey returns the secretariat's membership verifier key, which
// the backbone and every state node are configured with.
func (nw *Network) MembershipKey() string { return nw.membershipKey }

// secretariatDir is the secretariat node's data directory, where its keys
// (audit and membership) live.
func (nw *Network) secretariatDir() string { return filepath.Join(nw.opts.Dir, "data", "secretariat") }

// allStates are the members at the start and the states that may join.
func (nw *Network) allStates() []string {
	return append(slices.Clone(nw.opts.States), nw.opts.Joining...)
}

// nodeAddr returns the address of state cc's node ("" for the
// secretariat's) and whether it has listened yet.
func (nw *Network) nodeAddr(cc string) (string, bool) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	a, ok := nw.addrs[cc]
	return a, ok
}
