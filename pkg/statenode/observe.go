package statenode

import (
	"errors"
	"os"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
)

// What the node's paths tell its metrics, each a one-line call at the
// point where it happens (health.go holds the rest).

// observeDelivery counts a bulletin received and stored for the first
// time, with its latency from the time its origin signed, unless the
// store is being rebuilt from the inbox (rebuild.go): those copies were
// delivered before, and their age is no latency.
func (n *Node) observeDelivery(b *bulletin.Bulletin, at time.Time) {
	if _, err := os.Stat(n.markerPath()); err == nil {
		return
	}
	n.ops.met.Received(b.Precedence, b.CreatedAt, at)
}

// observeRejected counts a copy rejected from the inbox under rule
// (receive.<rule>), and a copy that did not open by why.
func (n *Node) observeRejected(rule string, err error) {
	n.ops.met.Refused("receive." + rule)
	if rule == "open" || rule == "signer" {
		n.ops.met.SealFailed("open", sealReason(err))
	}
}

// observeSealFailed counts a bulletin that could not be sealed.
func (n *Node) observeSealFailed(err error) {
	n.ops.met.SealFailed("seal", sealReason(err))
}

// sealReasons map seal's sentinels to the reason label of
// iant_seal_failures_total (metrics.SealFailureReasons).
var sealReasons = []struct {
	reason string
	errs   []error
}{
	{"signature", []error{seal.ErrSignature, seal.ErrStatement}},
	{"signer", []error{seal.ErrSigner, seal.ErrEntrySigner, seal.ErrOwnForward, seal.ErrNotHeld}},
	{"key", []error{seal.ErrKey, seal.ErrUnknownKey, seal.ErrKeyRetired}},
	{"expired", []error{seal.ErrExpired, seal.ErrEntryExpired}},
	{"not_recipient", []error{seal.ErrNotRecipient, seal.ErrAlreadyRecipient}},
	{"decrypt", []error{seal.ErrUnwrap, seal.ErrDecrypt, seal.ErrCiphertextHash, seal.ErrKeyCommitment, seal.ErrBinding}},
	{"malformed", []error{seal.ErrMalformed, seal.ErrTooLarge, seal.ErrSuite}},
	{"version", []error{seal.ErrVersion, seal.ErrVersionRefused}},
	{"directory", []error{seal.ErrEntryUnsigned, seal.ErrEntryChain, seal.ErrEntrySignature, backbone.ErrNoEntry}},
}

// sealReason classifies a seal or open failure.
func sealReason(err error) string {
	for _, r := range sealReasons {
		for _, e := range r.errs {
			if errors.Is(err, e) {
				return r.reason
			}
		}
	}
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Kind == problem.KindUnavailable {
		return "directory" // the recipients' keys could not be read
	}
	return "other"
}
