package main

import (
	"fmt"
	"io"
	"strings"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
)

// kindTag marks, in one-line listings, what a stored bulletin is when it
// is more than a first version: "[REVOKED] ", "[rev 2] ",
// "[reply: sighting] ", "[EXPIRED] ".
func kindTag(r *iantv1.StoredBulletin) string {
	b := r.GetBulletin()
	switch {
	case r.GetState() == iantv1.BulletinState_BULLETIN_STATE_REVOKED:
		return "[REVOKED] "
	case r.GetState() == iantv1.BulletinState_BULLETIN_STATE_EXPIRED:
		return "[EXPIRED] "
	case b.GetReply() != nil:
		return "[reply: " + bulletin.ReplyKind(b.GetReply().GetKind()).String() + "] "
	case b.GetRevision() > 1:
		return fmt.Sprintf("[rev %d] ", b.GetRevision())
	}
	return ""
}

// lifecycleRows are the detail rows of a bulletin's life: its revision,
// revocation, expiry and what it replies to.
func lifecycleRows(r *iantv1.StoredBulletin, row func(k, v string)) {
	b := r.GetBulletin()
	if b.GetRevision() > 1 {
		row("Revision", fmt.Sprintf("%d (first version %s)", b.GetRevision(), fmtTime(b.GetFirstCreateTime(), b.GetFirstCreateTime() != nil)))
	}
	switch r.GetState() {
	case iantv1.BulletinState_BULLETIN_STATE_REVOKED:
		rv := b.GetRevocation()
		row("State", fmt.Sprintf("REVOKED at %s by %s: %s", fmtTime(rv.GetRevokeTime(), rv.GetRevokeTime() != nil),
			escape.Line(rv.GetRevokedBy()), escape.Line(rv.GetReason())))
	case iantv1.BulletinState_BULLETIN_STATE_EXPIRED:
		row("State", "EXPIRED at "+fmtTime(b.GetExpireTime(), b.GetExpireTime() != nil))
	}
	if rp := b.GetReply(); rp != nil {
		ref := rp.GetInReplyTo()
		row("In reply to", escape.Line(ref.GetOrigin())+"/"+escape.Line(ref.GetId()))
		row("Reply", bulletin.ReplyKind(rp.GetKind()).String()+", to "+bulletin.ReplyAudience(rp.GetAudience()).String())
		if s := rp.GetSighting(); s != nil {
			row("Sighting", fmt.Sprintf("%s at %s, %s", bulletin.SightingKind(s.GetKind()), fmtTime(s.GetSeenTime(), s.GetSeenTime() != nil),
				escape.Line(s.GetPlace())))
		}
	}
}

// printGet writes a GetBulletin answer: the bulletin, its thread and,
// when asked, its earlier revisions.
func printGet(w io.Writer, resp *iantv1.GetBulletinResponse, history bool, pref bulletin.Language) error {
	if err := printDetail(w, resp.GetBulletin(), pref); err != nil {
		return err
	}
	if th := resp.GetThread(); len(th) > 0 {
		n := "1 reply"
		if len(th) != 1 {
			n = fmt.Sprintf("%d replies", len(th))
		}
		fmt.Fprintf(w, "\nThread (%s):\n", n)
		for _, r := range th {
			printThreadItem(w, r, resp.GetBulletin().GetBulletin())
		}
	}
	if history {
		h := resp.GetHistory()
		fmt.Fprintf(w, "\nHistory (%s before this one):\n", plural(len(h), "revision"))
		for _, b := range h {
			fmt.Fprintf(w, "  revision %d  %s  %s  %s\n", max(b.GetRevision(), 1), fmtTime(b.GetCreateTime(), b.GetCreateTime() != nil),
				markingString(b.GetMarking()), oneLine(b.GetTitle(), 60))
			if body := strings.TrimSpace(b.GetBody()); body != "" {
				fmt.Fprintf(w, "    %s\n", oneLine(body, 100))
			}
		}
	}
	return nil
}

// printThreadItem writes one reply of the thread of bulletin top on a
// line or two; a reply to another reply names it.
func printThreadItem(w io.Writer, r *iantv1.StoredBulletin, top *iantv1.Bulletin) {
	b := r.GetBulletin()
	rp := b.GetReply()
	line := fmt.Sprintf("  %s  %s  %s %s", fmtTime(b.GetCreateTime(), b.GetCreateTime() != nil), escape.Line(b.GetOrigin()),
		bulletin.ReplyKind(rp.GetKind()), escape.Line(b.GetId()))
	if s := rp.GetSighting(); s != nil {
		line += fmt.Sprintf(" — %s at %s, %s", bulletin.SightingKind(s.GetKind()), fmtTime(s.GetSeenTime(), s.GetSeenTime() != nil), oneLine(s.GetPlace(), 40))
	}
	if ref := rp.GetInReplyTo(); ref.GetId() != "" && (ref.GetId() != top.GetId() || ref.GetOrigin() != top.GetOrigin()) {
		line += " (to " + escape.Line(ref.GetOrigin()) + "/" + escape.Line(ref.GetId()) + ")"
	}
	fmt.Fprintln(w, line)
	if t := strings.TrimSpace(b.GetTitle() + " " + b.GetBody()); t != "" {
		fmt.Fprintf(w, "      %s\n", oneLine(t, 100))
	}
}
