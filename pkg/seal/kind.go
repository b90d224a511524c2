package seal

import "fmt"

// Kind says what a sealed message is (the bulletin's lifecycle, DESIGN.md
// "Threat model": an origin may be believed about its own posts,
// revisions, revocations and replies). Its values travel in the signed
// header of [Version4] and are frozen; earlier versions carry only
// bulletins ([Header.MessageKind]).
type Kind uint8

// Message kinds.
const (
	// KindBulletin is a bulletin's first version (revision 1).
	KindBulletin Kind = 1
	// KindRevision is a later version of the origin's bulletin: the same
	// id, [Header.Revision] 2 or more.
	KindRevision Kind = 2
	// KindRevocation withdraws the bulletin from its recipients: all of
	// them, or those a narrowing revision dropped. Its Revision is the
	// bulletin's latest; it never expires.
	KindRevocation Kind = 3
	// KindReply is a state's reply to a bulletin or to another reply
	// ([Header.Ref]); Subkind is the reply kind.
	KindReply Kind = 4
	// KindConsentRequest asks the origin of the bulletin named by Ref to
	// consent to a forward.
	KindConsentRequest Kind = 5
	// KindConsentDecision is the origin's answer to a consent request
	// about its bulletin Ref; Subkind says granted or refused.
	KindConsentDecision Kind = 6
	// KindTranslation carries a translation a state that was released the
	// bulletin named by Ref added to it: signed by the translating state.
	KindTranslation Kind = 7
)

// Subkinds of a reply, a consent decision and a revocation
// ([Header.Subkind]); other kinds have none (0). Their values are frozen.
const (
	ReplySighting uint8 = 1
	ReplyRFI      uint8 = 2
	ReplyAnswer   uint8 = 3
	ReplyNote     uint8 = 4

	ConsentGranted uint8 = 1
	ConsentRefused uint8 = 2

	// RevocationNarrowed is a revocation's subkind when only its
	// recipients' copies are withdrawn (a revision no longer releases the
	// bulletin to them); 0 revokes the bulletin itself.
	RevocationNarrowed uint8 = 1
)

var kindNames = map[Kind]string{KindBulletin: "bulletin", KindRevision: "revision", KindRevocation: "revocation",
	KindReply: "reply", KindConsentRequest: "consent-request", KindConsentDecision: "consent-decision",
	KindTranslation: "translation"}

// String returns the kind's name, e.g. "revocation".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Ref names another message of the network: a state's bulletin (or
// reply) by origin and id.
type Ref struct {
	Origin, ID string
}

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// MessageKind is h's kind: [KindBulletin] for headers before [Version4],
// which carry bulletins only.
func (h *Header) MessageKind() Kind {
	if h.Version < Version4 {
		return KindBulletin
	}
	return h.Kind
}

// MessageRevision is h's revision: 1 before [Version4].
func (h *Header) MessageRevision() uint32 {
	if h.Version < Version4 {
		return 1
	}
	return h.Revision
}

// checkKind validates the message fields of a version 4 header: a known
// kind with its revision, subkind and reference, and no expiry on a
// revocation (withdrawing a bulletin is never too late). A kind or
// subkind this package does not know is [ErrVersion] (newer software,
// not a verdict); any other breach is [ErrMalformed].
func (h *Header) checkKind() error {
	first := false
	switch h.Kind {
	case KindBulletin, KindReply, KindConsentRequest, KindConsentDecision, KindTranslation:
		first = true
	case KindRevision, KindRevocation:
	default:
		return fmt.Errorf("%w: message kind %d", ErrVersion, uint8(h.Kind))
	}
	switch {
	case first && h.Revision != 1:
		return fmt.Errorf("%w: a %s has revision 1, not %d", ErrMalformed, h.Kind, h.Revision)
	case h.Kind == KindRevision && h.Revision < 2:
		return fmt.Errorf("%w: a revision has revision 2 or more, not %d", ErrMalformed, h.Revision)
	case h.Kind == KindRevocation && h.Revision < 1:
		return fmt.Errorf("%w: a revocation names the revision it revokes", ErrMalformed)
	case h.Kind == KindRevocation && !h.ExpiresAt.IsZero():
		return fmt.Errorf("%w: a revocation does not expire", ErrMalformed)
	}
	if err := h.checkSubkind(); err != nil {
		return err
	}
	needsRef := h.Kind == KindReply || h.Kind == KindConsentRequest || h.Kind == KindConsentDecision || h.Kind == KindTranslation
	switch {
	case needsRef:
		if err := checkString("reference origin", h.Ref.Origin, maxState); err != nil {
			return err
		}
		return checkString("reference id", h.Ref.ID, maxID)
	case !h.Ref.IsZero():
		return fmt.Errorf("%w: a %s names no other message", ErrMalformed, h.Kind)
	}
	return nil
}

// checkSubkind validates the subkind of h's kind.
func (h *Header) checkSubkind() error {
	switch h.Kind {
	case KindReply:
		if h.Subkind < ReplySighting || h.Subkind > ReplyNote {
			return fmt.Errorf("%w: reply kind %d", ErrVersion, h.Subkind)
		}
	case KindConsentDecision:
		if h.Subkind != ConsentGranted && h.Subkind != ConsentRefused {
			return fmt.Errorf("%w: consent decision %d", ErrVersion, h.Subkind)
		}
	case KindRevocation:
		if h.Subkind > RevocationNarrowed {
			return fmt.Errorf("%w: revocation subkind %d", ErrVersion, h.Subkind)
		}
	default:
		if h.Subkind != 0 {
			return fmt.Errorf("%w: a %s has no subkind", ErrMalformed, h.Kind)
		}
	}
	return nil
}

// appendKind appends the message fields of a version 4 header:
//
//	u8 kind, u32 revision, u8 subkind,
//	u8 0  or  u8 1 ‖ str ref-origin ‖ str ref-id
func appendKind(b []byte, h *Header) []byte {
	b = append(b, byte(h.Kind))
	b = append(b, byte(h.Revision>>24), byte(h.Revision>>16), byte(h.Revision>>8), byte(h.Revision))
	b = append(b, h.Subkind)
	if h.Ref.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendString(b, h.Ref.Origin)
	return appendString(b, h.Ref.ID)
}

// readKind decodes what appendKind wrote.
func readKind(d *decoder, h *Header) {
	h.Kind = Kind(d.u8("message kind"))
	h.Revision = d.u32("revision")
	h.Subkind = d.u8("subkind")
	switch ref := d.u8("reference"); ref {
	case 0:
	case 1:
		h.Ref.Origin = d.str("reference origin", maxState)
		h.Ref.ID = d.str("reference id", maxID)
	default:
		d.fail("reference marker %d", ref)
	}
}
