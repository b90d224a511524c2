package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// SignedHeader is what a bulletin's origin signed about it in its sealed
// header, as a [HeaderVerifier] read it from a verified header
// attestation. The log takes a bulletin's precedence, creation time and
// recipients from it, never from the events' claims.
type SignedHeader struct {
	// Origin is the originating state; ID the bulletin's id.
	Origin, ID string
	// Signer is the SPIFFE ID of the origin's node that signed.
	Signer string
	// Precedence is the signed precedence; it sets the deadline.
	Precedence bulletin.Precedence
	// CreatedAt is when the origin sealed the bulletin; the
	// acknowledgement deadline runs from it.
	CreatedAt time.Time
	// ExpiresAt is the signed expiry, zero for none.
	ExpiresAt time.Time
	// Recipients are the states the origin released the bulletin to (the
	// message's recipients). For a confidential audience they are the
	// states whose audience entries the attestation opened: all of them
	// in the origin's, one in a recipient's.
	Recipients []string
	// Confidential reports a confidential audience (sealed format 5): the
	// origin signed a commitment to its recipients, not their names. The
	// log holds such a header only from the origin's own receipts, which
	// open every entry; a recipient's names itself alone, and must be
	// among them. Not stored: the log keeps the recipients it opened.
	Confidential bool
	// Kind is what the message is (zero: a bulletin's first version, as
	// before the lifecycle); Revision the bulletin's revision it carries
	// or revokes (zero: 1); Subkind a reply's kind, a consent's decision
	// or a narrowing revocation; Ref the bulletin a reply or a consent is
	// about.
	Kind     bulletin.Kind
	Revision int
	Subkind  int
	Ref      bulletin.Ref
}

// kind is h's kind, a first version's when unset.
func (h *SignedHeader) kind() bulletin.Kind {
	if h.Kind == bulletin.KindUnspecified {
		return bulletin.KindBulletin
	}
	return h.Kind
}

// revision is h's revision, 1 when unset.
func (h *SignedHeader) revision() int { return max(h.Revision, 1) }

// laterMessage reports whether h is a revision or a revocation of a
// bulletin, kept apart from its first version's header.
func (h *SignedHeader) laterMessage() bool {
	k := h.kind()
	return k == bulletin.KindRevision || k == bulletin.KindRevocation
}

// SignedForward is what a forwarding state signed when it shared a
// bulletin with a state the origin did not release it to, as a
// [ForwardVerifier] read it.
type SignedForward struct {
	// Origin and ID name the forwarded bulletin.
	Origin, ID string
	// Forwarder is the forwarding state, one of the origin's recipients.
	Forwarder string
	// Signer is the SPIFFE ID of the forwarder's node that signed.
	Signer string
	// Recipient is the state forwarded to.
	Recipient string
	// At is when the forward was made.
	At time.Time
}

// HeaderVerifier verifies a header attestation — the bulletin's sealed
// header, the hashes of its wrapped keys and the origin node's signature —
// with the origin's directory signing key, and returns what the origin
// signed. A verdict (a bad signature, a signer that is not the origin's
// node, malformed bytes) wraps [ErrAttestation]; any other error is
// temporary, and the receipt is offered again later.
type HeaderVerifier func(ctx context.Context, attestation []byte) (SignedHeader, error)

// ForwardVerifier verifies a forward statement about the bulletin whose
// verified header is h, with the forwarder's directory signing key, and
// returns what the forwarder signed. Errors as for [HeaderVerifier].
type ForwardVerifier func(ctx context.Context, h SignedHeader, statement []byte) (SignedForward, error)

// Verifiers are the two ways the secretariat checks the evidence receipts
// carry. The log itself never calls them: the secretariat verifies first
// and hands [Log.Submit] what was verified.
type Verifiers struct {
	Header  HeaderVerifier
	Forward ForwardVerifier
}

// Validate reports the first problem with h: what any genuine header
// satisfies, whichever verifier produced it.
func (h *SignedHeader) Validate() error {
	switch {
	case !region.IsMember(h.Origin):
		return fmt.Errorf("%w: origin %q is not a member state", ErrAttestation, h.Origin)
	case h.ID == "" || len(h.ID) > MaxBulletinIDBytes || !token(h.ID):
		return fmt.Errorf("%w: bulletin id %q", ErrAttestation, h.ID)
	case !h.Precedence.Valid():
		return fmt.Errorf("%w: unknown precedence %d", ErrAttestation, int(h.Precedence))
	case h.CreatedAt.Before(minEventTime) || !h.CreatedAt.Before(maxEventTime):
		return fmt.Errorf("%w: creation time outside 1970 to 2261", ErrAttestation)
	case !h.ExpiresAt.IsZero() && !h.ExpiresAt.After(h.CreatedAt):
		return fmt.Errorf("%w: expires before it was created", ErrAttestation)
	case len(h.Recipients) == 0:
		return fmt.Errorf("%w: no recipients", ErrAttestation)
	case h.Kind != bulletin.KindUnspecified && !h.Kind.Valid():
		return fmt.Errorf("%w: unknown message kind %d", ErrAttestation, int(h.Kind))
	case h.Revision < 0 || h.Revision > MaxRevision:
		return fmt.Errorf("%w: revision %d", ErrAttestation, h.Revision)
	case h.kind() == bulletin.KindRevision && h.revision() < 2:
		return fmt.Errorf("%w: a revision of revision %d", ErrAttestation, h.Revision)
	case (h.kind() == bulletin.KindReply || h.kind() == bulletin.KindConsentRequest || h.kind() == bulletin.KindConsentDecision ||
		h.kind() == bulletin.KindTranslation) &&
		(!region.IsMember(h.Ref.Origin) || !token(h.Ref.ID) || len(h.Ref.ID) > MaxBulletinIDBytes):
		return fmt.Errorf("%w: a %s names no bulletin", ErrAttestation, h.kind())
	}
	for _, r := range h.Recipients {
		if !region.IsMember(r) || r == h.Origin {
			return fmt.Errorf("%w: recipient %q", ErrAttestation, r)
		}
	}
	return nil
}

// sameHeader reports whether held, the header the log holds, and b say
// the same about one bulletin (two attestations of one header, e.g. the
// origin's and a recipient's copy's). A confidential b names only the
// recipients it opened, each of which held must name.
func sameHeader(held, b *SignedHeader) bool {
	a := held
	recipients := slices.Equal(sortedStates(a.Recipients), sortedStates(b.Recipients))
	if b.Confidential {
		recipients = len(b.Recipients) > 0
		for _, r := range b.Recipients {
			recipients = recipients && slices.Contains(a.Recipients, r)
		}
	}
	return a.Origin == b.Origin && a.ID == b.ID && a.Precedence == b.Precedence &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && recipients &&
		a.kind() == b.kind() && a.revision() == b.revision() && a.Subkind == b.Subkind && a.Ref == b.Ref
}

// sortedStates returns a sorted copy of states.
func sortedStates(states []string) []string {
	out := slices.Clone(states)
	slices.Sort(out)
	return out
}

// joinStates is the stored form of a recipient list: sorted, comma-separated.
func joinStates(states []string) string { return strings.Join(sortedStates(states), ",") }

// splitStates reads joinStates' form.
func splitStates(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
