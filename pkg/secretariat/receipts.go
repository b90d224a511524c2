package secretariat

import (
	"context"
	"errors"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/region"
)

// consumeReceipts appends every verified receipt on the backbone to the
// log until ctx ends, a batch of receipts at a time.
func (n *Node) consumeReceipts(ctx context.Context) {
	if err := n.bb.ConsumeEventBatches(ctx, n.handleReceipts); err != nil && ctx.Err() == nil {
		n.log.Error("receipt consumer stopped", "err", err)
	}
}

// handleReceipts verifies a batch of receipts — signature, signer, and
// the evidence they carry — and submits those that verify to the log in
// one transaction (one disk sync for the batch), which accepts what
// agrees with what each bulletin's origin signed. A receipt refused is
// terminated on the backbone and its refusal logged; one about a bulletin
// whose signed header the log does not hold yet is redelivered, with
// backoff, for Audit.HeaderWait at most. A temporary failure (the log,
// the directory) has the receipt redelivered.
func (n *Node) handleReceipts(ctx context.Context, ms []backbone.Msg) []error {
	results := make([]error, len(ms))
	var subs []audit.Submission
	var at []int // index in ms of each submission
	for i, m := range ms {
		s, err := n.checkReceipt(ctx, m)
		if err != nil {
			results[i] = err
			continue
		}
		subs, at = append(subs, s), append(at, i)
	}
	if len(subs) == 0 {
		return results
	}
	out, err := n.audit.log.Submit(ctx, subs)
	if err != nil {
		// One receipt the log fails on must not hold back the others of
		// its batch: submit them one by one, each with its own result.
		n.log.Warn("submitting a batch of receipts failed; submitting them one by one", "count", len(subs), "err", err)
		for k := range subs {
			one, err := n.audit.log.Submit(ctx, subs[k:k+1])
			if err != nil {
				results[at[k]] = err
				continue
			}
			results[at[k]] = n.settle(ctx, ms[at[k]], one[0])
		}
		return results
	}
	for k, o := range out {
		results[at[k]] = n.settle(ctx, ms[at[k]], o)
	}
	n.log.Debug("receipts submitted", "count", len(subs))
	return results
}

// checkReceipt verifies the receipt m and the evidence it carries, and
// returns it ready for the log. A refusal is logged and returned wrapping
// backbone.ErrReject; any other error has m redelivered.
func (n *Node) checkReceipt(ctx context.Context, m backbone.Msg) (audit.Submission, error) {
	r, err := n.audit.chains.VerifyReceipt(m.Data, n.cfg.Bundle, n.cfg.TrustDomain, m.Origin, m.Published)
	var re *audit.ReceiptError
	if errors.As(err, &re) {
		return audit.Submission{}, n.refuseReceipt(ctx, m, re)
	}
	if err != nil {
		return audit.Submission{}, err
	}
	s := audit.Submission{Receipt: r, Published: m.Published}
	refuse := func(rule string, err error) (audit.Submission, error) {
		if !errors.Is(err, audit.ErrAttestation) {
			return audit.Submission{}, err // temporary: the directory could not be read
		}
		return audit.Submission{}, n.refuseReceipt(ctx, m, &audit.ReceiptError{Rule: rule, Event: r.Event, Signer: r.Signer, Err: err})
	}
	if len(r.Header) > 0 {
		h, err := n.audit.verify.Header(ctx, r.Header)
		if err != nil {
			return refuse("receipt.header", err)
		}
		s.Header = &h
	}
	if len(r.Forward) > 0 {
		h := s.Header
		if h == nil {
			held, ok, err := n.audit.log.Header(ctx, r.Event.Origin, r.Event.BulletinID)
			switch {
			case err != nil:
				return audit.Submission{}, err
			case !ok:
				return audit.Submission{}, n.waitForHeader(ctx, m, r, fmt.Errorf("forward statement: %w", audit.ErrNoHeader))
			}
			h = &held
		}
		f, err := n.audit.verify.Forward(ctx, *h, r.Forward)
		if err != nil {
			return refuse("receipt.forward", err)
		}
		s.Forward = &f
	}
	return s, nil
}

// settle turns what the log did with receipt m into its result on the
// backbone.
func (n *Node) settle(ctx context.Context, m backbone.Msg, o audit.Outcome) error {
	var re *audit.ReceiptError
	switch {
	case o.Err == nil:
		return nil
	case errors.As(o.Err, &re):
		n.log.Warn("receipt refused", "subject", m.Subject, "peer", m.Origin, "bulletin_id", re.Event.BulletinID,
			"origin", re.Event.Origin, "rule", re.Rule, "err", re.Err)
		return fmt.Errorf("%w: %s", backbone.ErrReject, re.Rule)
	case errors.Is(o.Err, audit.ErrNoHeader):
		r, err := audit.ParseReceipt(m.Data)
		if err != nil {
			return fmt.Errorf("%w: %v", backbone.ErrReject, err)
		}
		return n.waitForHeader(ctx, m, r, o.Err)
	}
	return o.Err
}

// waitForHeader has receipt m, about a bulletin whose signed header the
// log does not hold, redelivered later — or, once it has waited
// Audit.HeaderWait since the backbone stored it, refused.
func (n *Node) waitForHeader(ctx context.Context, m backbone.Msg, r *audit.Receipt, cause error) error {
	if n.now().Sub(m.Published) < n.cfg.Audit.headerWait() {
		n.log.Debug("receipt waits for the bulletin's signed header", "subject", m.Subject, "bulletin_id", r.Event.BulletinID)
		return cause
	}
	signer, _ := spiffeid.FromString("spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + m.Origin + "/node")
	if c := r.LeafCertificate(); c != nil && len(c.URIs) == 1 {
		if id, err := spiffeid.FromURI(c.URIs[0]); err == nil {
			signer = id
		}
	}
	return n.refuseReceipt(ctx, m, &audit.ReceiptError{Rule: "receipt.no_header", Event: r.Event, Signer: signer,
		Err: fmt.Errorf("no signed header of %s/%s within %s: %w", r.Event.Origin, r.Event.BulletinID, n.cfg.Audit.headerWait(), cause)})
}

// refuseReceipt logs the refusal of receipt m and returns its result:
// terminated, or redelivered if the refusal could not be logged.
func (n *Node) refuseReceipt(ctx context.Context, m backbone.Msg, re *audit.ReceiptError) error {
	n.log.Warn("receipt refused", "subject", m.Subject, "peer", m.Origin, "bulletin_id", re.Event.BulletinID,
		"origin", re.Event.Origin, "rule", re.Rule, "err", re.Err)
	if err := n.logForgery(ctx, m.Origin, re); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", backbone.ErrReject, re.Rule)
}

// logForgery appends the refusal of a receipt that named a bulletin, as
// the log's own (signed) event. The refused actor is the signer, or, when
// the chain did not verify, the node of the scope the receipt was
// published under.
func (n *Node) logForgery(ctx context.Context, scope string, re *audit.ReceiptError) error {
	if re.Event.BulletinID == "" {
		return nil
	}
	actor := re.Signer.String()
	if re.Signer.IsZero() {
		actor = "spiffe://" + n.cfg.TrustDomain.Name() + "/secretariat/node"
		if scope != "" {
			actor = "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + scope + "/node"
		}
	}
	state := ""
	if region.IsMember(scope) {
		state = scope
	}
	e := audit.Event{Kind: audit.EventRefused, BulletinID: re.Event.BulletinID, Origin: re.Event.Origin,
		State: state, Actor: actor, Rule: re.Rule, Detail: "refused " + string(re.Event.Kind) + " receipt",
		At: n.now().UTC()}
	if _, err := n.audit.log.Append(ctx, e); err != nil && !errors.Is(err, audit.ErrInvalidEvent) {
		return err
	}
	return nil
}
