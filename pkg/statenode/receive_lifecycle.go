package statenode

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Receiving the messages of a bulletin's life. Each was opened and bound
// to the header its sender signed (sealing.go), so what it is — a first
// version, a revision, a revocation, a reply — is its sender's signed
// word: a state's node may be believed about its own bulletins' revisions
// and revocations and about its own replies, and about nothing else.
//
//	message          addressed by    admitted when                          stored
//	bulletin,        its origin      released to this state, the release    store.Apply: newer revisions
//	revision                         policy allows it                       replace older, never the reverse
//	                 a forwarder     the forward policy allows it (with     the same
//	                                 the origin's grant, if it needs one)
//	revocation       its origin      this state is one of its recipients    the tombstone; the content, its
//	                 a forwarder     this state holds the bulletin through  history and indexed text removed;
//	                                 that forwarder's forward               relayed along this node's forwards
//	reply            the replier     this state holds what it answers, the  stored, threaded
//	                                 reply reaches no state beyond it and
//	                                 is marked at least as strictly
//	consent request  the asker       this state is the bulletin's origin    consent.go
//	consent decision the origin      this state asked, or is the target
//
// Each stored message is reported with its receipt in the same
// transaction: delivered (of its revision), or, for a revocation,
// revoked — this state's signed confirmation that the content is gone.

// admitMessage decides whether message o may be stored here, by its kind. It
// returns the rule of a verdict, or "" with a temporary error.
func (n *Node) admitMessage(ctx context.Context, m backbone.Msg, o *opened) (rule string, err error) {
	b := &o.bulletin
	if b.Kind() == bulletin.KindTranslation {
		if o.forwardedBy != "" {
			return "forward", errors.New("a translation is not forwarded")
		}
		return n.admitTranslation(ctx, b)
	}
	if o.forwardedBy != "" {
		if b.Kind() == bulletin.KindRevocation {
			return n.admitForwardedRevocation(ctx, b, o.forwardedBy)
		}
		if err := n.checkForwarded(ctx, m, b, o.forwardedBy); err != nil {
			return ruleOf(err, "forward"), err
		}
		return "", nil
	}
	if !b.ReleasedTo(n.self.State) {
		return "releasability", errors.New("bulletin not released to this state")
	}
	switch b.Kind() {
	case bulletin.KindRevocation:
		return "", nil // its origin withdraws what it released here
	case bulletin.KindReply:
		if rule, err := n.admitReply(ctx, b); err != nil {
			return rule, err
		}
	}
	if err := n.policy.Release(b, n.self.State).Err(); err != nil {
		return "release", err
	}
	return "", nil
}

// ruleOf is the rule err names as a temporary failure ("") or the given
// verdict rule.
func ruleOf(err error, rule string) string {
	if errors.Is(err, errTemporary) {
		return ""
	}
	return rule
}

// errTemporary marks a failure of this node's own (its store) while
// admitting a message: the message is redelivered.
var errTemporary = errors.New("temporary")

// admitForwardedRevocation admits a revocation that state from relays:
// only for a bulletin this state holds through from's forward.
func (n *Node) admitForwardedRevocation(ctx context.Context, b *bulletin.Bulletin, from string) (string, error) {
	rec, err := n.store.Get(ctx, b.Origin, b.ID)
	switch {
	case problem.KindOf(err) == problem.KindNotFound:
		return "forward", fmt.Errorf("%s relays the revocation of %s/%s, which this state does not hold", from, b.Origin, b.ID)
	case err != nil:
		return "", err
	case rec.ForwardedBy != from:
		return "forward", fmt.Errorf("%s relays the revocation of %s/%s, which it did not forward here", from, b.Origin, b.ID)
	}
	return "", nil
}

// admitReply admits reply b: this state holds what it answers (its
// tombstone will do), the replier is its origin or was released it (for
// a confidential audience, at a recipient, only the origin), the reply
// reaches no state that message did not, and it is marked at least as
// strictly.
func (n *Node) admitReply(ctx context.Context, b *bulletin.Bulletin) (string, error) {
	to := b.Reply.InReplyTo
	parent, err := n.store.Get(ctx, to.Origin, to.ID)
	switch {
	case problem.KindOf(err) == problem.KindNotFound:
		return "reply", fmt.Errorf("a reply to %s, which this state does not hold", to)
	case err != nil:
		return "", err
	case parent.Withdrawn():
		return "reply", fmt.Errorf("a reply to %s, which is withdrawn here (%s declared its signing key compromised)", to, to.Origin)
	}
	p := &parent.Bulletin
	reach := append(slices.Clone(n.heldView(&parent).Recipients), p.Origin)
	switch {
	case p.ConfidentialAudience && n.self.State != p.Origin && b.Origin != p.Origin:
		// A holder of a confidential bulletin knows no other holder: only
		// the origin speaks to it about it (and an answer to another
		// state would tell that state who holds it).
		return "reply", fmt.Errorf("a reply by %s to %s, whose audience is confidential: only its origin %s replies to its recipients", b.Origin, to, p.Origin)
	case !slices.Contains(reach, b.Origin):
		return "reply", fmt.Errorf("a reply by %s to %s, which %s was not released to", b.Origin, to, b.Origin)
	}
	for _, r := range b.Recipients {
		if !slices.Contains(reach, r) {
			return "reply", fmt.Errorf("the reply reaches %s, which %s was not released to", r, to)
		}
	}
	if b.Marking < p.Marking {
		return "reply", fmt.Errorf("the reply is marked %s, looser than %s's %s", b.Marking, to, p.Marking)
	}
	return "", nil
}

// applyReceived stores message o from copy m with its receipt and, for a
// revocation, the relays of it to the states this node forwarded the
// bulletin to.
func (n *Node) applyReceived(ctx context.Context, m backbone.Msg, o *opened, reject func(backbone.Msg, string, error) error) error {
	b := &o.bulletin
	if n.withdrawnInRebuild(b) {
		n.log.Info("replayed copy not restored: a revocation in the inbox withdraws it", "bulletin_id", b.ID,
			"origin", b.Origin, "revision", b.RevisionNumber())
		return nil
	}
	at := n.now().UTC()
	e := audit.Event{Kind: audit.EventDelivered, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: n.nodeID(), Precedence: b.Precedence, Revision: eventRevision(b.RevisionNumber()), At: at}
	if b.Kind() == bulletin.KindRevocation {
		e.Kind, e.Precedence = audit.EventRevoked, 0
	}
	relays, requeue, err := n.relaysOf(ctx, m, o)
	if err != nil {
		return err
	}
	rs, err := n.receiptsOf(o.evidence, e)
	if err != nil {
		return reject(m, "validate", err)
	}
	key := signKeyOfCopy(m.Data)
	current := false
	if key != "" {
		// Only a copy under the origin's current key puts a withdrawn row
		// back (store.Delivery.Current); the copy verified under this
		// entry a moment ago, so a failure here is temporary.
		e, err := n.entryOf(ctx, b.Origin, key)
		if err != nil {
			return fmt.Errorf("directory entry of %s for %s %s: %w", b.Origin, b.Kind(), b.ID, err)
		}
		current = e.SignKeyID == key
	}
	a, err := n.store.Apply(ctx, store.Change{Bulletin: *b, Direction: store.Received, At: at,
		Delivery: store.Delivery{Copy: m.Data, ForwardedBy: o.forwardedBy, SignKey: key, Current: current}, Copies: relays, Receipts: rs,
		Requeue: requeue})
	switch {
	case errors.Is(err, store.ErrStale):
		return reject(m, "revision", err)
	case errors.Is(err, store.ErrConflict):
		return reject(m, "replay", err)
	case err != nil:
		return fmt.Errorf("store received %s %s from %s: %w", b.Kind(), b.ID, b.Origin, err)
	}
	n.logPutBack(b, &a, o.forwardedBy)
	wakeUp(n.audit.wake)
	if len(relays) > 0 {
		wakeUp(n.out.wake)
	}
	if a.Changed {
		if k := b.Kind(); k == bulletin.KindBulletin || k == bulletin.KindRevision {
			n.observeDelivery(b, at)
		}
		n.hub.notify()
		n.log.Info("message received", "kind", b.Kind().String(), "bulletin_id", b.ID, "origin", b.Origin,
			"revision", b.RevisionNumber(), "forwarded_by", o.forwardedBy)
	}
	return nil
}

// eventRevision is a revision as audit events carry it: 0 for the first.
func eventRevision(r int) int {
	if r <= 1 {
		return 0
	}
	return r
}

// relaysOf returns what receiving message o relays along this node's
// forwards of the bulletin: a revocation, or the bulletin its origin
// signed again (requeue: in place of the forward sent before).
func (n *Node) relaysOf(ctx context.Context, m backbone.Msg, o *opened) (relays []store.Copy, requeue bool, err error) {
	b := &o.bulletin
	if b.Kind() == bulletin.KindRevocation {
		if relays, err = n.relays(ctx, m, o, "revocation relayed to a state this state forwarded the bulletin to"); err != nil {
			return nil, false, fmt.Errorf("relay the revocation of %s/%s: %w", b.Origin, b.ID, err)
		}
		return relays, false, nil
	}
	again, err := n.signedAgain(ctx, b, m.Data)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("copy held of %s/%s: %w", b.Origin, b.ID, err)
	case !again:
		return nil, false, nil
	}
	if relays, err = n.relays(ctx, m, o, "bulletin its origin signed again relayed to a state this state forwarded it to"); err != nil {
		return nil, false, fmt.Errorf("relay %s/%s signed again: %w", b.Origin, b.ID, err)
	}
	return relays, true, nil
}

// relays are the forwards of message o (from its origin) to the states
// this node forwarded the bulletin to, for reason: the origin's signed
// message — a revocation, or the bulletin its origin signed again after
// declaring a key compromised (reattest.go) — which a forwarder cannot
// forge, with this node's statement. A state whose keys the directory no
// longer holds is skipped (a revocation's confirmation stays pending at
// the secretariat); any other failure is temporary.
func (n *Node) relays(ctx context.Context, m backbone.Msg, o *opened, reason string) ([]store.Copy, error) {
	b := &o.bulletin
	if o.forwardedBy != "" {
		return nil, nil // a forward's recipient forwards nothing onward
	}
	targets, err := n.store.Forwards(ctx, b.Origin, b.ID)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	c, err := seal.Unmarshal(m.Data)
	if err != nil {
		return nil, err
	}
	var out []store.Copy
	for _, t := range targets {
		e, err := n.entryOf(ctx, t, "")
		switch {
		case errors.Is(err, backbone.ErrNoEntry):
			n.log.Warn("message not relayed: no keys of the state forwarded to", "kind", b.Kind().String(), "bulletin_id", b.ID,
				"origin", b.Origin, "recipient", t)
			continue
		case err != nil:
			return nil, err
		}
		st := seal.ForwardStatement{Signer: n.nodeID(), Reason: reason, At: n.now().UTC()}
		f, err := seal.Forward(c, n.self.State, n.keys.snapshot(), e.PublicKeys(), st, n.keys.current())
		if err != nil {
			return nil, err
		}
		data, err := f.Marshal()
		if err != nil {
			return nil, err
		}
		out = append(out, store.Copy{Recipient: t, Origin: n.self.State, BulletinOrigin: b.Origin, BulletinID: b.ID,
			Kind: int(b.Kind()), Revision: b.RevisionNumber(), Data: data})
	}
	return out, nil
}
