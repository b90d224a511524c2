package statenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// openMembership opens the node's holder of the secretariat's documents,
// with those it kept in its data directory (so a restart never goes back
// a version), checked with the configured verifier key.
func (n *Node) openMembership() error {
	h, err := membership.NewHolder(n.cfg.TrustDomain.Name(), n.cfg.MembershipKey, n.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	n.members = h
	return nil
}

// refusalCheck is how often the node looks whether the backbone refuses it.
const refusalCheck = 100 * time.Millisecond

// watchRefusal ends open streams of the node's people as soon as the
// backbone refuses the node (or admits it again), until ctx ends.
func (n *Node) watchRefusal(ctx context.Context) {
	t := time.NewTicker(refusalCheck)
	defer t.Stop()
	was := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if now := n.bb.Refused(); now != was {
				was = now
				n.log.Warn("the backbone refuses this node", "refused", now)
				n.srv.Recheck()
			}
		}
	}
}

// watchMembership reads the documents from the backbone until ctx ends,
// keeping the newest verified version of each.
func (n *Node) watchMembership(ctx context.Context) {
	err := n.bb.WatchMembership(ctx, 0, func(doc backbone.MembershipDoc, data []byte) {
		kind, changed, err := n.members.Offer(data)
		switch {
		case errors.Is(err, membership.ErrStale):
			n.log.Warn("older membership document ignored (a replay)", "doc", string(doc), "err", err)
		case err != nil:
			n.log.Error("membership document refused", "doc", string(doc), "err", err)
		case changed:
			tv, dv := n.members.Versions()
			n.log.Info("membership document accepted", "doc", kind.String(), "table_version", tv, "deny_version", dv)
		}
	})
	if err != nil && !errors.Is(err, backbone.ErrClosed) {
		n.log.Error("membership watcher stopped", "err", err)
	}
}

// Membership returns the secretariat's documents as this node holds them.
func (n *Node) Membership() *membership.Holder { return n.members }

// receiving returns the states copies are released to: those the
// membership table held releases to (active and suspended), or, before the
// node holds a table, every state of the region table.
func (n *Node) receiving() []region.State {
	if t, ok := n.members.Table(); ok {
		return t.Receiving()
	}
	return region.States()
}

// resolveRecipients resolves a draft's releasability among the states
// copies are released to. A state the draft names that is not among them
// (not a member, or removed) is refused, naming it: a person who names a
// state must learn that it gets nothing.
func (n *Node) resolveRecipients(b *bulletin.Bulletin) ([]string, error) {
	members := n.receiving()
	for _, s := range b.Releasability.States {
		if s != b.Origin && !slices.ContainsFunc(members, func(m region.State) bool { return m.Code == s }) {
			st, _ := n.members.StatusOf(s)
			why := "not a member of the network"
			if st == membership.Removed {
				why = "removed from the network"
			}
			return nil, problem.Invalid("releasability.states", "%s is %s: it receives no bulletin", s, why)
		}
	}
	return bulletin.Resolve(b.Origin, b.Releasability, members), nil
}

// admitState refuses every person of this node while its own state is not
// an active member (suspended or removed), or while the backbone refuses
// the node: the backbone cut it off, and its people may do nothing
// through it. The backbone's refusal counts when the node could not read
// the table that suspended it before it was cut off.
func (n *Node) admitState() (rule, msg string) {
	if n.bb != nil && n.bb.Refused() {
		return "caller.node_refused", fmt.Sprintf("the backbone refuses the node of %s (its state suspended or removed, or the node denied): it refuses every call until the backbone admits it again", n.self.State)
	}
	if st, held := n.members.StatusOf(n.self.State); held && st != membership.Active {
		if st == membership.StatusUnspecified {
			return "caller.state_member", fmt.Sprintf("%s is not a member of the network", n.self.State)
		}
		return "caller.state_" + st.String(), fmt.Sprintf("%s is %s from the network by the secretariat: its node refuses every call until it is reinstated", n.self.State, st)
	}
	return "", ""
}
