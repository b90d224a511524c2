package statenode

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// good; a failure that says nothing about the copy has it redelivered:
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
//	  bulletin not forwarded here by that state
//	the signer's state's directory cannot vouch yet:    temporary   redelivered with backoff while it is younger
//	  no entry published, or an entry that does not    (bounded)   than Config.EntryWait (the entry may not be
//	  verify now (expired, a chain not trusted yet)                 published yet); then a verdict (receive.signer)
//	the directory cannot be read (backbone down,        temporary   redelivered with backoff
//	  timeout), the node is closing or its context
//	  ended, the store fails (busy, closed, disk)
//	a sealed format version this node does not know     not yet     redelivered with backoff until the node is
//	  (seal.ErrVersion: newer software)                 readable    upgraded; later copies wait behind it
//
// Rejections during a rebuild (rebuild.go) are logged, not audited.

// DefaultEntryWait is how long a copy whose signer's state's directory
// cannot vouch for it yet is redelivered before it is rejected
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

// receive handles one copy from this node's inbox.
func (n *Node) receive(ctx context.Context, m backbone.Msg) error {
	return n.receiveWith(ctx, m, n.reject)
}

// receiveWith is receive with the treatment of bad copies given: reject
// (audited) for the inbox, or a quieter one for a rebuild (rebuild.go).
func (n *Node) receiveWith(ctx context.Context, m backbone.Msg, reject func(m backbone.Msg, rule string, err error) error) error {
	o, err := n.openCopy(ctx, m)
	if err != nil {
		if rule, verdict := n.classifyOpen(ctx, m, err); verdict {
			return reject(m, rule, err)
		}
		return fmt.Errorf("open copy %s from %s: %w", m.ID, m.Origin, err)
	}
	b := &o.bulletin
	if err := b.Validate(); err != nil {
		return reject(m, "validate", err)
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
		return n.receiveConsent(ctx, m, &o, reject)
	}
	if rule, err := n.admitMessage(ctx, m, &o); err != nil {
		if rule == "" {
			return fmt.Errorf("admit %s %s from %s: %w", b.Kind(), b.ID, b.Origin, err)
		}
		return reject(m, rule, err)
	}
	if b.Kind() == bulletin.KindTranslation {
		return n.applyTranslation(ctx, m, &o, reject)
	}
	return n.applyReceived(ctx, m, &o, reject)
}

// classifyOpen decides what a failure to open copy m is (the table
// above): a verdict, with the rule that rejects it, or not.
func (n *Node) classifyOpen(ctx context.Context, m backbone.Msg, err error) (rule string, verdict bool) {
	switch {
	case ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, errDirectory), errors.Is(err, backbone.ErrClosed), errors.Is(err, store.ErrClosed):
		n.log.Warn("copy not opened for now; it is redelivered", "bulletin_id", m.ID, "origin", m.Origin, "err", err)
		return "", false
	case errors.Is(err, errUnvouched):
		if age := n.now().Sub(m.Published); !m.Published.IsZero() && age < n.entryWait() {
			n.log.Warn("copy's signing key not vouched for by its state's directory yet; it is redelivered",
				"bulletin_id", m.ID, "origin", m.Origin, "waited", age.Round(time.Second), "err", err)
			return "", false
		}
		return "signer", true
	case errors.Is(err, seal.ErrVersion):
		// A format this node does not know yet (another node runs newer
		// software): not a bad copy. It stays in the inbox, redelivered
		// with backoff, and later copies wait behind it, until this node
		// is upgraded; nothing is lost meanwhile.
		n.log.Warn("copy sealed in a format this node cannot read yet; upgrade the node", "bulletin_id", m.ID, "origin", m.Origin, "err", err)
		return "", false
	case errors.Is(err, errPublisher), errors.Is(err, errNotPublished):
		return "signer", true
	case errors.Is(err, seal.ErrBinding), errors.Is(err, errContent):
		return "content", true
	}
	return "open", true
}

// entryWait is Config.EntryWait or its default.
func (n *Node) entryWait() time.Duration {
	if n.cfg.EntryWait == 0 {
		return DefaultEntryWait
	}
	return n.cfg.EntryWait
}

func (n *Node) reject(m backbone.Msg, rule string, err error) error {
	n.log.Warn("rejected inbox message", "subject", m.Subject, "origin", m.Origin, "bulletin_id", m.ID, "rule", "receive."+rule, "err", err)
	n.emitRejected(m, rule)
	return fmt.Errorf("%w: %s: %v", backbone.ErrReject, rule, err)
}
