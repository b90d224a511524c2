package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
)

// MaxClockSkew is how far a reported time may lie outside what the log
// knows for sure: before the creation time the origin signed, or after
// the backbone stored the receipt.
const MaxClockSkew = 5 * time.Minute

// Submission is a state node's receipt offered to the log, with what the
// secretariat verified of it.
type Submission struct {
	// Receipt was verified by [VerifyReceipt] (its Signer is set).
	Receipt *Receipt
	// Header is what the receipt's header attestation says, as the
	// [HeaderVerifier] returned it; nil exactly when the receipt carries
	// none.
	Header *SignedHeader
	// Forward is what the receipt's forward statement says, as the
	// [ForwardVerifier] returned it; nil exactly when it carries none.
	Forward *SignedForward
	// Published is when the backbone stored the receipt.
	Published time.Time
}

// Outcome is what [Log.Submit] did with one submission.
type Outcome struct {
	// Index is the receipt's leaf (or, when it was logged before, the
	// earlier one's), or the leaf of its refusal.
	Index uint64
	// Err is nil when the receipt is logged; a [*ReceiptError] when it is
	// refused (the refusal is logged at Index, signed by the log); or an
	// error wrapping [ErrNoHeader] when the log does not hold the
	// bulletin's signed header yet: nothing is logged, offer it again
	// later.
	Err error
}

// Submit appends the receipts of state nodes that the log accepts, in
// order, in one transaction, and returns what it did with each. A receipt
// is accepted when what it reports agrees with what the bulletin's origin
// signed — the header a receipt of this batch or an earlier one carried:
//
//   - a posted receipt carries the header attestation, and its precedence
//     and time are the signed ones: else receipt.header;
//   - a header attestation is of the receipt's bulletin and agrees with
//     the signed header the log holds: else receipt.header;
//   - a precedence an event states is the signed one: else receipt.header;
//   - released names a signed recipient; delivered, read, acknowledged and
//     refused come from a signed recipient or from a state a verified
//     forward reached, signed by one of the recipients: else
//     receipt.not_recipient (receipt.forward for a forward that does not
//     fit); a refusal of a copy at its recipient (rule receive.*), and a
//     refusal at the origin about its own bulletin, are always the
//     reporting state's to report, header or not;
//   - its time is not before the signed creation time nor after the
//     receipt was published, give or take [MaxClockSkew]: else
//     receipt.time (receipt.header for a posted time).
//
// A receipt of an event already logged gets the earlier index. Only
// accepted receipts are indexed into reports; a refusal is appended as
// the log's own refused event, naming the rule and the signer. An error
// (rather than an outcome) means nothing was appended: submit them all
// again.
func (l *Log) Submit(ctx context.Context, subs []Submission) ([]Outcome, error) {
	out, err := l.submit(ctx, subs)
	if err != nil {
		return nil, fmt.Errorf("audit: submit %d receipts: %w", len(subs), err)
	}
	return out, nil
}

func (l *Log) submit(ctx context.Context, subs []Submission) ([]Outcome, error) {
	for i := range subs {
		if err := subs[i].check(); err != nil {
			return nil, fmt.Errorf("submission %d: %w", i, err)
		}
	}
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	w, err := l.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(w.tx)
	out := make([]Outcome, len(subs))
	for i := range subs {
		if out[i], err = w.submit(ctx, l, &subs[i]); err != nil {
			return nil, err
		}
	}
	return out, l.commit(w)
}

// check refuses a submission that is not what Submit's contract says (a
// caller's mistake, not a state's).
func (s *Submission) check() error {
	switch {
	case s.Receipt == nil || s.Receipt.Signer.IsZero():
		return errors.New("receipt not verified")
	case (len(s.Receipt.Header) > 0) != (s.Header != nil):
		return errors.New("header attestation and verified header do not match")
	case (len(s.Receipt.Forward) > 0) != (s.Forward != nil):
		return errors.New("forward statement and verified forward do not match")
	}
	return s.Receipt.Event.Validate()
}

// submit judges one submission inside w and appends it, or its refusal.
func (w *write) submit(ctx context.Context, l *Log, s *Submission) (Outcome, error) {
	e := &s.Receipt.Event
	if idx, ok, err := w.logged(ctx, e); err != nil || ok {
		return Outcome{Index: idx}, err
	}
	held, firstHeld, err := heldFor(ctx, w.q, e)
	if err != nil {
		return Outcome{}, err
	}
	by := ""
	if e.State != "" {
		if by, err = forwardedBy(ctx, w.q, e.Origin, e.BulletinID, e.State); err != nil {
			return Outcome{}, err
		}
	}
	rule, verdict := judge(e, s, held, by)
	if verdict == nil && !firstHeld && !ownRefusal(e) && (s.Header == nil || s.Header.laterMessage()) {
		verdict = ErrNoHeader // a later message waits for its bulletin's first version
	}
	switch {
	case errors.Is(verdict, ErrNoHeader):
		return Outcome{Err: fmt.Errorf("%s event of bulletin %s/%s: %w", e.Kind, e.Origin, e.BulletinID, verdict)}, nil
	case verdict != nil:
		return w.refuse(ctx, l, s, rule, verdict)
	}
	data, err := s.Receipt.Marshal()
	if err != nil {
		return Outcome{}, err
	}
	idx, err := w.add(ctx, e, data)
	if err != nil {
		return Outcome{}, err
	}
	if s.Header != nil && held == nil {
		if err := storeSigned(ctx, w.q, s.Header, idx); err != nil {
			return Outcome{}, err
		}
	}
	if s.Forward != nil && by == "" {
		if err := storeForward(ctx, w.q, s.Forward); err != nil {
			return Outcome{}, err
		}
	}
	if e.Kind == EventForwarded {
		if err := indexForwarded(ctx, w.q, s.Forward); err != nil {
			return Outcome{}, err
		}
	}
	if err := index(ctx, w.q, e); err != nil {
		return Outcome{}, err
	}
	return Outcome{Index: idx}, indexLifecycle(ctx, w.q, e)
}

// refuse appends the log's own refusal of a receipt.
func (w *write) refuse(ctx context.Context, l *Log, s *Submission, rule string, cause error) (Outcome, error) {
	e := &s.Receipt.Event
	state := e.State
	switch {
	case e.Kind.byOrigin() || e.Kind == EventReleased:
		state = e.Origin
	case e.Kind == EventForwarded:
		state = reporterState(s)
	}
	r := Event{Kind: EventRefused, BulletinID: e.BulletinID, Origin: e.Origin, State: state,
		Actor: s.Receipt.Signer.String(), Rule: rule, Detail: "refused " + string(e.Kind) + " receipt", At: l.now().UTC()}
	if err := validateOwn(&r); err != nil {
		return Outcome{}, err
	}
	idx, _, err := w.addOwn(ctx, l, &r)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Index: idx, Err: &ReceiptError{Rule: rule, Event: *e, Signer: s.Receipt.Signer, Err: cause}}, nil
}

// judge decides a submission against the signed header held (nil if
// none) and the state that forwarded the bulletin to e.State (""). It
// returns the refusing rule and why, an error wrapping ErrNoHeader when
// it cannot decide yet, or "" and nil.
func judge(e *Event, s *Submission, held *SignedHeader, forwardedBy string) (string, error) {
	h := held
	if s.Header != nil {
		switch {
		case s.Header.Origin != e.Origin || s.Header.ID != e.BulletinID:
			return "receipt.header", fmt.Errorf("the header attestation is of bulletin %s/%s", s.Header.Origin, s.Header.ID)
		case !fits(s.Header, e):
			return "receipt.header", fmt.Errorf("the header attestation is of the %s of revision %d, not of what the %s event is about",
				s.Header.kind(), s.Header.revision(), e.Kind)
		case held != nil && !sameHeader(held, s.Header):
			return "receipt.header", errors.New("the header attestation contradicts the signed header the log holds")
		case held == nil && s.Header.Confidential && !e.Kind.byOrigin():
			// A recipient's attestation of a confidential audience names
			// itself alone: the origin's, which names all, comes first.
			return "", ErrNoHeader
		case held == nil:
			h = s.Header
		}
	}
	if !s.Published.IsZero() && e.At.After(s.Published.Add(MaxClockSkew)) {
		return "receipt.time", fmt.Errorf("%s at %s, after the receipt was published", e.Kind, e.At.Format(time.RFC3339))
	}
	switch {
	case e.Kind.byOrigin() && s.Header == nil:
		return "receipt.header", fmt.Errorf("a %s receipt carries the origin's header attestation", e.Kind)
	case h == nil && ownRefusal(e):
		return "", nil // a header may never exist: see ownRefusal
	case h == nil:
		return "", ErrNoHeader
	case e.Precedence != 0 && e.Precedence != h.Precedence:
		return "receipt.header", fmt.Errorf("precedence %s, the origin signed %s", e.Precedence, h.Precedence)
	case e.Kind.byOrigin() && !e.At.Equal(h.CreatedAt):
		return "receipt.header", fmt.Errorf("%s at %s, the origin signed %s", e.Kind, e.At.Format(time.RFC3339Nano), h.CreatedAt.Format(time.RFC3339Nano))
	case !e.Kind.byOrigin() && e.At.Before(h.CreatedAt.Add(-MaxClockSkew)):
		return "receipt.time", fmt.Errorf("%s at %s, before the bulletin was created (%s)", e.Kind, e.At.Format(time.RFC3339), h.CreatedAt.Format(time.RFC3339))
	}
	if e.Kind == EventPosted && !authorMayWrite(s, e, h) {
		return "receipt.actor", fmt.Errorf("%s may not be the author of a %s (only focal points are, but of a sighting or a note in reply)", e.Actor, h.kind())
	}
	if e.Kind == EventForwarded {
		return judgeForwarded(e, s, h)
	}
	return judgeHolder(e, s, h, forwardedBy)
}

// judgeForwarded checks a forwarded event against the forward statement
// its receipt carries, verified with the forwarder's key: only the
// forwarder reports it, about a bulletin the origin released to it, to a
// state that did not hold it, at the time the statement says.
func judgeForwarded(e *Event, s *Submission, h *SignedHeader) (string, error) {
	f, by := s.Forward, reporterState(s)
	switch {
	case f == nil:
		return "receipt.forward", errors.New("a forwarded receipt carries the forwarder's signed statement")
	case f.Origin != e.Origin || f.ID != e.BulletinID || f.Recipient != e.State:
		return "receipt.forward", fmt.Errorf("the forward statement is of bulletin %s/%s to %s", f.Origin, f.ID, f.Recipient)
	case f.Forwarder != by:
		return "receipt.forward", fmt.Errorf("the forward statement is %s's, reported by %s", f.Forwarder, by)
	case !slices.Contains(h.Recipients, f.Forwarder):
		return "receipt.not_recipient", fmt.Errorf("%s, which forwarded it, was not released the bulletin", f.Forwarder)
	case slices.Contains(h.Recipients, f.Recipient) || f.Recipient == h.Origin:
		return "receipt.forward", fmt.Errorf("%s held the bulletin already", f.Recipient)
	case !e.At.Equal(f.At):
		return "receipt.forward", fmt.Errorf("forwarded at %s, the statement says %s", e.At.Format(time.RFC3339Nano), f.At.Format(time.RFC3339Nano))
	}
	return "", nil
}

// authorMayWrite reports whether e's actor may be the author of the
// message h, as the network policy has it (reply-analyst-sightings-notes):
// a focal point anything, an analyst a sighting or a note in reply to a
// bulletin; checkReporter has admitted only persons of these two roles
// of the reporting state.
func authorMayWrite(s *Submission, e *Event, h *SignedHeader) bool {
	a, err := identity.ParseString(s.Receipt.Signer.TrustDomain(), e.Actor)
	switch {
	case err != nil:
		return false
	case a.Role == identity.RoleFocalPoint:
		return true
	}
	return a.Role == identity.RoleAnalyst && h.kind() == bulletin.KindReply &&
		(h.Subkind == int(bulletin.ReplySighting) || h.Subkind == int(bulletin.ReplyNote))
}

// reporterState is the state of the node that signed s's receipt, "" for
// the secretariat's.
func reporterState(s *Submission) string {
	p, err := identity.Parse(s.Receipt.Signer.TrustDomain(), s.Receipt.Signer)
	if err != nil {
		return ""
	}
	return p.State
}

// ownRefusal reports whether e is a refusal a state reports about its
// own doing whether or not it holds the bulletin: a copy refused at its
// recipient (rule receive.*, the copy may be garbage with no header ever),
// or a refusal at the origin about its own bulletin (e.g. a post the
// policy refused: never sealed). Refusals make no report.
func ownRefusal(e *Event) bool {
	return e.Kind == EventRefused && (strings.HasPrefix(e.Rule, "receive.") || e.State == e.Origin)
}

// judgeHolder checks that the state e is about held the bulletin h.
func judgeHolder(e *Event, s *Submission, h *SignedHeader, forwardedBy string) (string, error) {
	if e.Kind.byOrigin() || slices.Contains(h.Recipients, e.State) || forwardedBy != "" {
		return "", nil
	}
	if e.Kind == EventReleased {
		return "receipt.not_recipient", fmt.Errorf("the origin did not release the bulletin to %s", e.State)
	}
	if ownRefusal(e) {
		return "", nil
	}
	f := s.Forward
	switch {
	case f == nil:
		return "receipt.not_recipient", fmt.Errorf("%s was neither released the bulletin nor forwarded it", e.State)
	case f.Origin != e.Origin || f.ID != e.BulletinID || f.Recipient != e.State:
		return "receipt.forward", fmt.Errorf("the forward statement is of bulletin %s/%s to %s", f.Origin, f.ID, f.Recipient)
	case !slices.Contains(h.Recipients, f.Forwarder) || f.Forwarder == f.Recipient:
		return "receipt.forward", fmt.Errorf("%s, which forwarded it, was not released the bulletin", f.Forwarder)
	}
	return "", nil
}
