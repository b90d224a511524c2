package statenode

import (
	"context"
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Withdrawing what a compromised key signed. Whatever another state sends
// is believed only where a signature of the state that may say it proves
// it; once a state declares one of its signing keys compromised, that
// key's signature proves nothing. Copies it signed are refused from then
// on (compromised.go); those this node took before are withdrawn here:
// every received row of that state (a bulletin, its latest revision, the
// tombstone of its revocation, a reply) whose origin signature the key
// made, and, failing closed, every row of that state whose signing key is
// not known. This happens when the node accepts an entry declaring the
// key (pushed, fetched) and at start, from the keys it kept
// (store.CompromisedSignKeys), so that a restart changes nothing and a
// declaration applied twice withdraws nothing more.
//
// A withdrawn row stays in node.db: Get answers FailedPrecondition (rule
// receive.key_compromised), lists, searches, subscriptions, TAXII and the
// console leave it out. Its origin's re-attestation (reattest.go) — a
// copy of the same bulletin signed with a key not compromised — puts it
// back (store.Apply): the same content is reinstated, other content
// replaces a forgery, which is kept apart as evidence.
//
// The same declaration withdraws what else the state signed that changes
// what this node holds of other states' bulletins: the translations it
// added to them (taken out of the bulletin, kept apart as evidence; its
// translation signed again is added back) and its pending consent
// requests (no list shows them, DecideConsent refuses them).

// ruleWithdrawn is the rule that withdraws a bulletin resting on a
// compromised key: the rule a copy signed by one is refused under.
const ruleWithdrawn = "receive.key_compromised"

// compromisedIn returns the IDs of the signing keys entry e declares
// compromised: its retired keys flagged so and those it names beyond.
func compromisedIn(e seal.DirectoryEntry) []string {
	ids := slices.Clone(e.CompromisedSign)
	for _, r := range e.RetiredSign {
		if r.Compromised && !slices.Contains(ids, r.KeyID) {
			ids = append(ids, r.KeyID)
		}
	}
	return ids
}

// withdrawSignedBy withdraws the bulletins of state resting on keyIDs, the
// translations state added to other states' bulletins and the pending
// consent requests it sent resting on them, and logs, counts and audits
// each one withdrawn. It reports false after a
// failure, which it logs: the caller tries again later.
func (n *Node) withdrawSignedBy(ctx context.Context, state string, keyIDs []string) bool {
	if len(keyIDs) == 0 || state == n.self.State {
		return true
	}
	at := n.now().UTC()
	// The refusal of each row, translation or request withdrawn is queued
	// in the transaction that withdraws it: a crash after the withdrawal
	// cannot lose its audit (what is withdrawn is not withdrawn again at
	// the next start).
	ws, err := n.store.WithdrawSignedByAudited(ctx, state, keyIDs, at, func(w store.Withdrawal) (store.Receipt, error) {
		return n.receiptOf(audit.Event{Kind: audit.EventRefused, BulletinID: w.ID, Origin: w.Origin,
			State: n.self.State, Actor: "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + w.Origin + "/node", Rule: ruleWithdrawn,
			Revision: eventRevision(w.Revision), Detail: "bulletin withdrawn: signing key " + keyOrUnknown(w.SignKey) + " declared compromised",
			At: at})
	})
	if err != nil {
		n.log.Error("bulletins signed by a compromised key not withdrawn; tried again", "origin", state, "err", err)
		return false
	}
	for _, w := range ws {
		n.log.Warn("bulletin withdrawn: its origin declared compromised the signing key it rests on", "rule", ruleWithdrawn,
			"origin", w.Origin, "bulletin_id", w.ID, "revision", w.Revision, "revoked", w.Revoked, "sign_key", w.SignKey)
		n.ops.met.Refused("withdraw.key_compromised")
	}
	trs, err := n.store.WithdrawTranslationsSignedByAudited(ctx, state, keyIDs, at, func(w store.TranslationWithdrawal) (store.Receipt, error) {
		return n.receiptOf(audit.Event{Kind: audit.EventRefused, BulletinID: w.ID, Origin: w.Origin, State: n.self.State,
			Actor: "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + state + "/node", Rule: ruleWithdrawn,
			Detail: "translation by " + state + " into " + w.Translation.Language.String() + " withdrawn: signing key " +
				keyOrUnknown(w.SignKey) + " declared compromised", At: at})
	})
	if err != nil {
		n.log.Error("translations signed by a compromised key not withdrawn; tried again", "translated_by", state, "err", err)
		return false
	}
	for _, w := range trs {
		n.log.Warn("translation withdrawn: the translating state declared compromised the signing key it rests on", "rule", ruleWithdrawn,
			"origin", w.Origin, "bulletin_id", w.ID, "translated_by", state, "language", w.Translation.Language.String(),
			"sign_key", w.SignKey)
		n.ops.met.Refused("withdraw.translation_key_compromised")
	}
	cs, err := n.store.WithdrawConsentsSignedByAudited(ctx, state, keyIDs, at, func(w store.ConsentWithdrawal) (store.Receipt, error) {
		return n.receiptOf(audit.Event{Kind: audit.EventRefused, BulletinID: w.ID, Origin: state, State: n.self.State,
			Actor: "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + state + "/node", Rule: ruleWithdrawn,
			Detail: "consent request about " + w.Bulletin.Origin + "/" + w.Bulletin.ID + " withdrawn: signing key " +
				keyOrUnknown(w.SignKey) + " declared compromised", At: at})
	})
	if err != nil {
		n.log.Error("consent requests signed by a compromised key not withdrawn; tried again", "forwarded_by", state, "err", err)
		return false
	}
	for _, w := range cs {
		n.log.Warn("consent request withdrawn: the requesting state declared compromised the signing key it rests on", "rule", ruleWithdrawn,
			"request_id", w.ID, "origin", w.Bulletin.Origin, "bulletin_id", w.Bulletin.ID, "forwarded_by", state, "recipient", w.Target,
			"sign_key", w.SignKey)
		n.ops.met.Refused("withdraw.consent_key_compromised")
	}
	if len(ws) > 0 || len(trs) > 0 || len(cs) > 0 {
		wakeUp(n.audit.wake)
	}
	if len(ws) > 0 || len(trs) > 0 {
		n.hub.notify()
	}
	return true
}

// keyOrUnknown is id, or "unknown" when empty.
func keyOrUnknown(id string) string {
	if id == "" {
		return "unknown"
	}
	return id
}

// withdrawAtStart records the signing key of rows stored before keys were
// recorded (from the copy kept), then withdraws what the compromised keys
// kept signed.
func (n *Node) withdrawAtStart(ctx context.Context) error {
	if err := n.recordSignKeys(ctx); err != nil {
		return err
	}
	byState, err := n.store.CompromisedSignKeys(ctx)
	if err != nil {
		return err
	}
	for state, ids := range byState {
		if !n.withdrawSignedBy(ctx, state, ids) {
			return fmt.Errorf("withdraw the bulletins of %s", state)
		}
	}
	return nil
}

// recordSignKeys derives the signing key of each received row without
// one from the sealed copy it keeps. A copy that does not parse leaves
// the row without a key: it is withdrawn whenever its origin declares a
// key compromised.
func (n *Node) recordSignKeys(ctx context.Context) error {
	var after uint64
	for {
		us, err := n.store.UnknownSigners(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, u := range us {
			after = u.Cursor
			h, err := sealedHeader(u.Copy)
			if err != nil || h.SignKeyID == "" {
				n.log.Warn("signing key of a stored copy not known: the bulletin is withdrawn if its origin declares a key compromised",
					"cursor", u.Cursor)
				continue
			}
			if err := n.store.SetSignKey(ctx, u.Cursor, h.SignKeyID); err != nil {
				return err
			}
		}
		if len(us) < 200 {
			return nil
		}
	}
}

// signKeyOfCopy is the ID of the origin's signing key in copy data
// (sealed or forwarded), or "" when it does not parse.
func signKeyOfCopy(data []byte) string {
	h, err := sealedHeader(data)
	if err != nil {
		return ""
	}
	return h.SignKeyID
}

// withdrawnProblem is the error a person reading withdrawn rec gets.
func withdrawnProblem(rec *store.Record) error {
	b := &rec.Bulletin
	return &problem.Error{Kind: problem.KindFailedPrecondition, Rule: ruleWithdrawn, Err: store.ErrWithdrawn,
		Msg: fmt.Sprintf("bulletin %s from %s is withdrawn: %s declared compromised the signing key its copy here was signed with, so nothing proves it is %s's; it comes back if %s re-sends it",
			b.ID, b.Origin, b.Origin, b.Origin, b.Origin)}
}

// logPutBack logs a withdrawn row that message b put back (a.Reinstated,
// a.Replaced): a replacement is evidence that the withdrawn row was a
// forgery, and is logged as a warning and counted.
func (n *Node) logPutBack(b *bulletin.Bulletin, a *store.Applied, forwardedBy string) {
	switch {
	case a.Reinstated:
		n.log.Info("withdrawn bulletin reinstated: its origin signed it again with a key not compromised", "bulletin_id", b.ID,
			"origin", b.Origin, "revision", b.RevisionNumber(), "forwarded_by", forwardedBy)
	case a.Replaced:
		n.log.Warn("withdrawn bulletin replaced: its origin signed other content under its id, the copy held was a forgery (kept as evidence)",
			"rule", ruleWithdrawn, "bulletin_id", b.ID, "origin", b.Origin, "revision", b.RevisionNumber(), "forwarded_by", forwardedBy)
		n.ops.met.Refused("withdraw.forgery_replaced")
	}
}

// signedAgain reports whether copy data of message b, from its origin,
// signs again a message this node holds on another signature: the row
// is withdrawn (a key it rested on was declared compromised), or holds
// the same revision signed by another key. Such a copy is the origin's
// re-attestation, which this node relays along its forwards of the
// bulletin, so that the states it forwarded it to put it back too.
func (n *Node) signedAgain(ctx context.Context, b *bulletin.Bulletin, data []byte) (bool, error) {
	rec, err := n.store.Get(ctx, b.Origin, b.ID)
	switch {
	case problem.KindOf(err) == problem.KindNotFound:
		return false, nil
	case err != nil:
		return false, err
	case rec.Direction != store.Received:
		return false, nil
	case rec.Withdrawn():
		return true, nil
	}
	key := signKeyOfCopy(data)
	return key != "" && rec.SignKey != "" && rec.SignKey != key && rec.Bulletin.RevisionNumber() == b.RevisionNumber() &&
		!rec.Bulletin.Revoked, nil
}

// receiptOf is the receipt of event e, without evidence, for a store call
// that queues it in its own transaction.
func (n *Node) receiptOf(e audit.Event) (store.Receipt, error) {
	rs, err := n.receiptsOf(audit.Evidence{}, e)
	if err != nil {
		return store.Receipt{}, err
	}
	return rs[0], nil
}
