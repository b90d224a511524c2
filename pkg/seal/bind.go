package seal

import (
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// Bind reports whether h, an authenticated header ([Open], or a forward's
// [Forwarded.Sealed] after [OpenForwarded]), is the header of bulletin
// b, decoded from the plaintext it protects. The origin signs the header
// but only the ciphertext protects the bulletin, so without this check a
// node could show a bulletin whose routing and audit facts (what the
// backbone, the secretariat and the receiving node's policy see) differ
// from its content.
//
// It compares id, origin, precedence, marking, created and expiry times,
// the recipients (the same states in the same order: the origin's node
// resolves them and seals to exactly those) and what the message is: its
// kind, revision, subkind and the message it names (version 4; earlier
// headers carry a bulletin's first version). A version 5 header (a
// confidential audience) binds only a bulletin marked so whose content
// names no recipient and no releasability: the content is the same for
// every recipient, so it must not tell them the audience; earlier
// headers bind only a bulletin not marked so. A forward carries the
// origin's header unchanged, so the same rule holds for it; the forward's
// own recipient is named by its [ForwardStatement], not by b.
//
// Bind returns an error wrapping [ErrBinding] that names the first field
// that differs (never its value: the plaintext came from another state),
// or [ErrMalformed] if b is nil.
func (h *Header) Bind(b *bulletin.Bulletin) error {
	if b == nil {
		return fmt.Errorf("seal: bind header of %q: %w: nil bulletin", h.ID, ErrMalformed)
	}
	if field := h.mismatch(b); field != "" {
		return fmt.Errorf("seal: bind header of %q: %w: %s differs", h.ID, ErrBinding, field)
	}
	return nil
}

// mismatch returns the name of the first field where h and b differ, or "".
func (h *Header) mismatch(b *bulletin.Bulletin) string {
	switch {
	case b.ID != h.ID:
		return "id"
	case b.Origin != h.Origin:
		return "origin"
	case int64(b.Precedence) != int64(h.Precedence):
		return "precedence"
	case int64(b.Marking) != int64(h.Marking):
		return "marking"
	case !b.CreatedAt.Equal(h.CreatedAt):
		return "created time"
	case !b.ExpiresAt.Equal(h.ExpiresAt):
		return "expiry time"
	case b.ConfidentialAudience != h.IsConfidential():
		return "confidential audience"
	case h.IsConfidential() && (len(b.Recipients) != 0 || !isZeroReleasability(b.Releasability)):
		return "recipients"
	case !h.IsConfidential() && !slices.Equal(b.Recipients, h.Recipients):
		return "recipients"
	case int(b.Kind()) != int(h.MessageKind()):
		return "kind"
	case int64(b.RevisionNumber()) != int64(h.MessageRevision()):
		return "revision"
	case b.Subkind() != int(h.Subkind):
		return "subkind"
	case b.Ref() != bulletin.Ref{Origin: h.Ref.Origin, ID: h.Ref.ID}:
		return "reference"
	}
	return ""
}

// isZeroReleasability reports whether r names no audience.
func isZeroReleasability(r bulletin.Releasability) bool {
	return !r.All && len(r.States) == 0 && len(r.Regions) == 0
}
