package statenode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Receiving copies from the inbox. A copy is the origin's sealed bulletin
// (published by its origin) or a forward of it (published by the
// forwarder); receive opens it (sealing.go), checks that it is addressed
// to this state and allowed here, and stores it with its delivered
// receipt. Only a cryptographic or policy verdict rejects a copy for
// good; a copy that cannot be decided now is parked (park.go): kept in
// node.db and acknowledged on the backbone, so that the inbox, which
// hands the node one unacknowledged copy at a time, moves on at once;
// only a local, brief failure has the copy redelivered:
//
//	failure                                            class       the copy is
//	-------------------------------------------------  ----------  ----------------------------------------------
//	the signature, key commitment, ciphertext, format,  verdict     rejected: terminated on the backbone, never
//	  a signing key its state's verified directory                  shown, audited as refused (rule receive.<why>)
//	  entry does not publish (current or retired),
//	  a format version refused by policy (v1, v2:
//	  seal.ErrVersionRefused), header not matching
//	  the content, another state's copy, a forward
//	  seal refuses (own bulletin, never held, already
//	  a recipient), the policy (release, forward),
//	  other content under a stored origin and id, a
//	  revision or revocation older than what is held
//	  (receive.revision), a reply wider or looser than
//	  what it answers, a forwarded revocation of a
//	  bulletin not forwarded here by that state, an
//	  expired bulletin, a creation or forward time
//	  ahead of this node's clock (MaxClockSkew), a key
//	  its state retired as compromised, whenever the
//	  copy is dated (receive.key_compromised; but a
//	  copy of a bulletin already held is acknowledged)
//	the signer's state's directory cannot vouch yet:    undecided   parked (reason signer) while it is younger than
//	  no entry published, or an entry that does not     (bounded)   Config.EntryWait (the entry may not be
//	  verify now (expired, a chain not trusted yet,                 published yet), retried at once when the node
//	  an entry naming another state)                                sees the entry, else with backoff; then a
//	                                                                verdict (receive.signer)
//	a sealed format version this node does not know     undecided   parked (reason version), retried at every
//	  (seal.ErrVersion: newer software)                             start (an upgrade) and on a schedule
//	the directory cannot be read (backbone down,        temporary   redelivered with backoff; once the copy was
//	  timeout), the store fails (busy, disk), or any                delivered parkAfterDeliveries times, parked
//	  other failure not listed here                                 (reason retry)
//	the node is closing or its context ended,           temporary   redelivered: handed back to the next session
//	  the store is closed
//	the publishing state's parked copies at their       verdict     rejected (receive.park_full); other states'
//	  bound (Config.Park), for a copy to be parked                  copies are parked as before
//
// Parked copies decided later are stored after the copies that arrived
// meanwhile (a new cursor), or rejected as a verdict and audited.
// Rejections during a rebuild (rebuild.go) are logged, not audited; a
// rebuild parks what it cannot decide as the inbox does, and those copies
// are then decided as any parked copy is.

// DefaultEntryWait is how long a copy whose signer's state's directory
// cannot vouch for it yet waits, parked, before it is rejected
// ([Config.EntryWait]).
const DefaultEntryWait = 2 * time.Minute

var (
	// errUnvouched: the directory has no entry of the signer's state, or
	// one that does not verify now.
	errUnvouched = errors.New("the directory does not vouch for the signing key")
	// errNotPublished: the signer's state's verified entry does not
	// publish the signing key.
	errNotPublished = errors.New("the signing key is not its state's")
	// errDirectory: the directory could not be read.
	errDirectory = errors.New("the directory could not be read")
	// errPublisher: a copy published by a state that may not publish it.
	errPublisher = errors.New("copy published by another state than its sealer")
	// errContent: the plaintext is not a bulletin.
	errContent = errors.New("the sealed content is not a bulletin")
)

// rejectFunc is the treatment of a copy rejected for rule: audited for
// the inbox ([Node.reject]), only logged for a rebuild. It returns an
// error wrapping backbone.ErrReject.
type rejectFunc func(m backbone.Msg, rule string, err error) error

// receive handles one copy from this node's inbox.
func (n *Node) receive(ctx context.Context, m backbone.Msg) error {
	return n.receiveWith(ctx, m, n.reject)
}

// receiveWith is receive with the treatment of bad copies given: reject
// (audited) for the inbox, or a quieter one for a rebuild (rebuild.go).
// A copy that cannot be decided now is parked (nil: acknowledged).
func (n *Node) receiveWith(ctx context.Context, m backbone.Msg, reject rejectFunc) error {
	d := n.decide(ctx, m, reject)
	if d.wait != nil {
		return n.park(ctx, m, d.wait, reject)
	}
	return d.err
}

// decision is what trying a copy came to: stored (err nil), rejected (err
// wraps backbone.ErrReject), not decidable now (wait), or a temporary
// failure (any other err).
type decision struct {
	err  error
	wait *wait
}

// wait says why a copy cannot be decided now.
type wait struct {
	// reason is one of the park reasons (park.go); state names the state
	// whose directory entry the copy waits for, "" for none.
	reason, state string
	cause         error
}

// decide opens copy m and, if it opens, checks and stores it (accept).
func (n *Node) decide(ctx context.Context, m backbone.Msg, reject rejectFunc) decision {
	o, err := n.openCopy(ctx, m)
	if err != nil {
		return n.classifyOpen(ctx, m, err, reject)
	}
	err = n.accept(ctx, m, &o, reject)
	if err != nil && !errors.Is(err, backbone.ErrReject) {
		return n.temporary(ctx, m, err)
	}
	return decision{err: err}
}

// accept checks that opened copy o of m is addressed to this state and
// allowed here, and stores it.
func (n *Node) accept(ctx context.Context, m backbone.Msg, o *opened, reject rejectFunc) error {
	b := &o.bulletin
	if err := b.Validate(); err != nil {
		return reject(m, "validate", err)
	}
	// A bulletin carries its origin's own translations only: another
	// state's arrives as a translation message it signed.
	for i, tr := range b.Translations {
		if tr.By != b.Origin {
			return reject(m, "validate", fmt.Errorf("translations[%d] is credited to %s, but %s signed the bulletin", i, tr.By, b.Origin))
		}
	}
	if err := n.ahead(o); err != nil {
		return reject(m, "time", err)
	}
	switch {
	case m.Recipient != n.self.State:
		return reject(m, "recipient", fmt.Errorf("copy addressed to %s", m.Recipient))
	case b.ID != m.ID:
		return reject(m, "subject", fmt.Errorf("subject names %s, bulletin says %s", m.ID, b.ID))
	}
	// What the message is decides where it goes (receive_lifecycle.go).
	switch b.Kind() {
	case bulletin.KindConsentRequest, bulletin.KindConsentDecision:
		return n.receiveConsent(ctx, m, o, reject)
	}
	if rule, err := n.admitMessage(ctx, m, o); err != nil {
		if rule == "" {
			return fmt.Errorf("admit %s %s from %s: %w", b.Kind(), b.ID, b.Origin, err)
		}
		return reject(m, rule, err)
	}
	if b.Kind() == bulletin.KindTranslation {
		return n.applyTranslation(ctx, m, o, reject)
	}
	return n.applyReceived(ctx, m, o, reject)
}

// MaxClockSkew is how far ahead of this node's clock the times a copy's
// signers state may lie: the bulletin's creation (the origin's header)
// and a forward's (the forwarder's statement). Beyond it the copy is
// rejected (receive.time): a state would otherwise date its bulletin or
// forward ahead at will, and its recipients would hold and show what the
// audit log, which takes no receipt dated before the signed creation nor
// a forward reported after it was published, cannot record. It is the
// log's own tolerance ([audit.MaxClockSkew]).
const MaxClockSkew = audit.MaxClockSkew

// ahead returns why opened copy o is dated ahead of this node's clock
// (beyond MaxClockSkew), nil if it is not.
func (n *Node) ahead(o *opened) error {
	limit := n.now().Add(MaxClockSkew)
	switch {
	case o.bulletin.CreatedAt.After(limit):
		return fmt.Errorf("bulletin created at %s, ahead of this node's clock", o.bulletin.CreatedAt.UTC().Format(time.RFC3339))
	case o.forwardedAt.After(limit):
		return fmt.Errorf("forwarded at %s, ahead of this node's clock", o.forwardedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// classifyOpen decides what a failure to open copy m is (the table
// above): a verdict, rejected through reject with its rule; a wait; or a
// temporary failure.
func (n *Node) classifyOpen(ctx context.Context, m backbone.Msg, err error, reject rejectFunc) decision {
	var uv *unvouchedError
	switch {
	case stopping(ctx, err):
		return decision{err: fmt.Errorf("open copy %s from %s: %w", m.ID, m.Origin, err)}
	case errors.As(err, &uv):
		if age := n.now().Sub(m.Published); m.Published.IsZero() || age >= n.entryWait() {
			return decision{err: reject(m, "signer", err)}
		}
		return decision{wait: &wait{reason: reasonSigner, state: uv.state, cause: err}}
	case errors.Is(err, seal.ErrVersion):
		// A format this node does not know yet (another node runs newer
		// software): not a bad copy. It waits in the park until the node
		// is upgraded; the copies behind it flow meanwhile.
		return decision{wait: &wait{reason: reasonVersion, cause: err}}
	case errors.Is(err, errDirectory):
		return n.temporary(ctx, m, err)
	case errors.Is(err, seal.ErrKeyCompromised):
		return n.compromised(ctx, m, err, reject)
	case errors.Is(err, errPublisher), errors.Is(err, errNotPublished):
		return decision{err: reject(m, "signer", err)}
	case errors.Is(err, seal.ErrBinding), errors.Is(err, errContent):
		return decision{err: reject(m, "content", err)}
	}
	return decision{err: reject(m, "open", err)}
}

// stopping reports whether err, met while receiving under ctx, comes of
// the node closing: the copy goes back to the backbone for the next
// session.
func stopping(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, backbone.ErrClosed) ||
		errors.Is(err, store.ErrClosed)
}

// temporary is the decision on a copy whose receiving failed for a
// reason that says nothing about it (err): redelivered, unless the
// failure has lasted parkAfterDeliveries deliveries of the copy, which
// is then parked (reason retry), so that no failure, however it came
// about, holds the inbox back for long.
func (n *Node) temporary(ctx context.Context, m backbone.Msg, err error) decision {
	if stopping(ctx, err) || m.NumDelivered < parkAfterDeliveries {
		n.log.Warn("copy not received for now; it is tried again", "bulletin_id", m.ID, "origin", m.Origin,
			"delivered", m.NumDelivered, "err", err)
		return decision{err: fmt.Errorf("receive copy %s from %s: %w", m.ID, m.Origin, err)}
	}
	return decision{wait: &wait{reason: reasonRetry, cause: err}}
}

// entryWait is Config.EntryWait or its default.
func (n *Node) entryWait() time.Duration {
	if n.cfg.EntryWait == 0 {
		return DefaultEntryWait
	}
	return n.cfg.EntryWait
}

// reject is the inbox's rejectFunc: logged and audited.
func (n *Node) reject(m backbone.Msg, rule string, err error) error {
	n.log.Warn("rejected inbox message", "subject", m.Subject, "origin", m.Origin, "bulletin_id", m.ID, "rule", "receive."+rule, "err", err)
	n.emitRejected(m, rule)
	n.observeRejected(rule, err)
	return fmt.Errorf("%w: %s: %v", backbone.ErrReject, rule, err)
}
