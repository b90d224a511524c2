package secretariat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// republishInterval is how often the node checks that the backbone carries
// the newest documents it signed (a publish may have failed, or the
// backbone's store may be new), and publishes them again if not.
const republishInterval = 10 * time.Second

// govState is the secretariat's authorship of the membership table and the
// deny list: the signing key, the newest documents (kept in DataDir, so a
// restart never signs an older version again), and the lock that makes
// each change one version.
type govState struct {
	signer note.Signer
	vkey   string
	holder *membership.Holder
	mu     sync.Mutex // one change at a time
}

// openMembership loads (or creates) the membership key and the documents
// kept in the data directory, publishes the genesis table when there is
// none, and returns the states whose inboxes to provision: those of
// ProvisionStates and every state the table releases to.
func (n *Node) openMembership(ctx context.Context) ([]string, error) {
	network := n.cfg.TrustDomain.Name()
	var err error
	if n.gov.signer, n.gov.vkey, err = membership.LoadOrCreateKey(n.cfg.DataDir, network); err != nil {
		return nil, fmt.Errorf("secretariat: %w", err)
	}
	if n.gov.holder, err = membership.NewHolder(network, n.gov.vkey, n.cfg.DataDir); err != nil {
		return nil, fmt.Errorf("secretariat: %w", err)
	}
	if err := n.bb.ProvisionMembership(ctx); err != nil {
		return nil, fmt.Errorf("secretariat: provision backbone: %w", err)
	}
	states := n.cfg.ProvisionStates
	if len(states) == 0 {
		states = region.Codes()
	}
	if _, ok := n.gov.holder.Table(); !ok {
		g, err := membership.Genesis(network, states, n.now())
		if err != nil {
			return nil, fmt.Errorf("secretariat: %w", err)
		}
		if err := n.keepSigned(g.Sign(n.gov.signer)); err != nil {
			return nil, err
		}
		n.log.Info("membership table: genesis signed", "version", g.Version, "states", len(g.Members))
	}
	t, _ := n.gov.holder.Table()
	n.republish(ctx)
	all := append(slices.Clone(states), t.Codes(membership.Active, membership.Suspended)...)
	return slices.Compact(slices.Sorted(slices.Values(all))), nil
}

// keepSigned offers a document the node just signed to its holder, which
// keeps it on disk before anything is published.
func (n *Node) keepSigned(signed []byte, err error) error {
	if err != nil {
		return problem.Internal(fmt.Errorf("sign: %w", err))
	}
	if _, _, err := n.gov.holder.Offer(signed); err != nil {
		return problem.Internal(fmt.Errorf("keep signed document: %w", err))
	}
	// Who may sign changed: chains verified before are verified again.
	if n.audit.chains != nil {
		n.audit.chains.Reset()
	}
	return nil
}

// republish publishes each document held that the backbone does not carry
// as its latest.
func (n *Node) republish(ctx context.Context) {
	for _, d := range []struct {
		doc    backbone.MembershipDoc
		signed []byte
	}{{backbone.MembershipTable, n.gov.holder.SignedTable()}, {backbone.DenyList, n.gov.holder.SignedDenyList()}} {
		if d.signed == nil {
			continue
		}
		latest, err := n.bb.LatestMembership(ctx, d.doc)
		if err == nil && bytes.Equal(latest, d.signed) {
			continue
		}
		if err != nil && !errors.Is(err, backbone.ErrNoDocument) {
			n.log.Warn("membership document not checked on the backbone", "doc", string(d.doc), "err", err)
			continue
		}
		if err := n.bb.PublishMembership(ctx, d.doc, d.signed); err != nil {
			n.log.Warn("membership document not published yet", "doc", string(d.doc), "err", err)
			continue
		}
		n.log.Info("membership document published", "doc", string(d.doc))
	}
}

// republishEvery runs republish until ctx ends.
func (n *Node) republishEvery(ctx context.Context) {
	t := time.NewTicker(republishInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.gov.mu.Lock()
			n.republish(ctx)
			n.gov.mu.Unlock()
		}
	}
}

// MembershipVerifierKey returns the note verifier key of the membership
// table and deny list: the key every node and backbone server must be
// configured with (the node writes it to DataDir/membership.vkey).
func (n *Node) MembershipVerifierKey() string { return n.gov.vkey }

// Membership returns the secretariat's documents as it signed them.
func (n *Node) Membership() *membership.Holder { return n.gov.holder }

// changeMembership applies c, asked by admin: it provisions the inbox
// consumers of a state added (or reinstated: a no-op if they exist), then
// signs the next table, keeps it and publishes it.
func (n *Node) changeMembership(ctx context.Context, admin identity.Principal, c membership.Change) (membership.Table, error) {
	n.gov.mu.Lock()
	defer n.gov.mu.Unlock()
	t, _ := n.gov.holder.Table()
	next, err := t.Change(c, n.now())
	if err != nil {
		return membership.Table{}, err
	}
	if c.Kind == membership.Add || c.Kind == membership.Reinstate {
		if err := n.bb.Provision(ctx, []string{c.State}); err != nil {
			return membership.Table{}, problem.Unavailable(err, "the backbone is unreachable: %s's inbox could not be provisioned; nothing changed", c.State)
		}
	}
	if err := n.keepSigned(next.Sign(n.gov.signer)); err != nil {
		return membership.Table{}, err
	}
	n.log.Info("membership changed", "change", c.Kind.String(), "state", c.State, "peer", admin.String(), "version", next.Version)
	return next, n.publishHeld(ctx, backbone.MembershipTable, n.gov.holder.SignedTable())
}

// changeDenyList adds e to the deny list, or, when target is not empty,
// removes the entry denying target, for admin: it signs the next list,
// keeps it and publishes it. The secretariat's own nodes are not denied
// through the list (they sign and carry it).
func (n *Node) changeDenyList(ctx context.Context, admin identity.Principal, e membership.DenyEntry, target string) (membership.DenyList, error) {
	n.gov.mu.Lock()
	defer n.gov.mu.Unlock()
	network := n.cfg.TrustDomain.Name()
	cur := n.gov.holder.DenyList()
	var next membership.DenyList
	var err error
	if target == "" {
		if p, perr := identity.ParseString(n.cfg.TrustDomain, e.ID); e.ID != "" && perr == nil && p.Role == identity.RoleSecretariatNode {
			return membership.DenyList{}, problem.Invalid("spiffe_id", "%s is a node of the secretariat, which signs and carries the deny list: replace its SVID instead", e.ID)
		}
		e.By = admin.ID(n.cfg.TrustDomain).String()
		next, err = cur.With(network, e, n.now())
	} else {
		next, err = cur.Without(network, target, n.now())
	}
	if err != nil {
		return membership.DenyList{}, err
	}
	if err := n.keepSigned(next.Sign(n.gov.signer)); err != nil {
		return membership.DenyList{}, err
	}
	n.log.Info("deny list changed", "denied", e.Target(), "allowed", target, "peer", admin.String(), "version", next.Version)
	return next, n.publishHeld(ctx, backbone.DenyList, n.gov.holder.SignedDenyList())
}

// publishHeld publishes a document just kept; if the backbone cannot take
// it now, the caller is told, and the node publishes it later by itself.
func (n *Node) publishHeld(ctx context.Context, doc backbone.MembershipDoc, signed []byte) error {
	if err := n.bb.PublishMembership(ctx, doc, signed); err != nil {
		n.log.Warn("membership document not published yet", "doc", string(doc), "err", err)
		return problem.Unavailable(err, "the %s was signed and kept, but the backbone did not take it yet; the node publishes it again by itself", doc)
	}
	return nil
}
