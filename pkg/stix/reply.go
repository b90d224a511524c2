package stix

import (
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// ReplyKind is what a reply to a bulletin is.
type ReplyKind int

// Reply kinds: a sighting becomes a STIX sighting; a note and a request
// for information become a STIX note (x_iant_reply_kind tells them apart).
const (
	ReplyUnspecified ReplyKind = iota
	ReplySighting
	ReplyRFI
	ReplyNote
)

var replyKindNames = []string{"", "sighting", "rfi", "note"}

// String returns "sighting", "rfi" or "note".
func (k ReplyKind) String() string {
	if k <= 0 || int(k) >= len(replyKindNames) {
		return fmt.Sprintf("reply-kind(%d)", int(k))
	}
	return replyKindNames[k]
}

// Reply is a reply of a state to a bulletin, as the mapping needs it. The
// bulletin lifecycle (replies, revisions, revocations) is the node's; it
// fills a Reply from its own record of one.
type Reply struct {
	ID       string    // IANT id of the reply
	Kind     ReplyKind // sighting, rfi or note
	Bulletin string    // IANT id of the first version of the bulletin replied to
	// BulletinOrigin is the origin of the bulletin replied to (a bulletin
	// is named by its origin and id); required.
	BulletinOrigin string
	Origin         string // the replying state
	Author         string // SPIFFE ID of the person who replied
	CreatedAt      time.Time
	Marking        bulletin.Marking
	// Subject is a note's or request's one-line summary (abstract).
	Subject string
	// Body is a note's or request's text, or a sighting's description.
	Body string

	// Sighting only: Of is the bulletin's indicator that was sighted and
	// OfIndex its occurrence among the indicators of the same type and
	// value (usually 0); nil means the bulletin as a whole. Count is how
	// many times, FirstSeen and LastSeen when (zero: not said).
	Of                  *bulletin.Indicator
	OfIndex             int
	Count               int
	FirstSeen, LastSeen time.Time

	// Ref is the STIX id the reply refers to (a report or an indicator).
	// It is set by decoding; ReplyObject derives it from BulletinOrigin,
	// Bulletin and Of.
	Ref string
}

// ReplyObject returns the STIX object of reply r: a sighting of the
// bulletin's report (or of one of its indicators), or a note about the
// report.
func ReplyObject(r Reply) (Object, error) {
	switch {
	case r.ID == "" || r.Bulletin == "":
		return nil, errors.New("stix: reply: id and bulletin are required")
	case !region.IsMember(r.BulletinOrigin):
		return nil, fmt.Errorf("stix: reply %s: the bulletin's origin %q is not a member state", r.ID, r.BulletinOrigin)
	case !region.IsMember(r.Origin):
		return nil, fmt.Errorf("stix: reply %s: origin %q is not a member state", r.ID, r.Origin)
	case MarkingID(r.Marking) == "":
		return nil, fmt.Errorf("stix: reply %s: no TLP 2.0 marking for %s", r.ID, r.Marking)
	case r.CreatedAt.IsZero():
		return nil, fmt.Errorf("stix: reply %s: create time is required", r.ID)
	case r.Count < 0 || r.Count > 999999999:
		return nil, fmt.Errorf("stix: reply %s: count %d is out of range", r.ID, r.Count)
	}
	c := Common{SpecVersion: SpecVersion, ID: ReplyID(r.Kind, r.ID), CreatedByRef: StateIdentityID(r.Origin),
		Created: At(r.CreatedAt), Modified: At(r.CreatedAt), ObjectMarkingRefs: []string{MarkingID(r.Marking)}}
	switch r.Kind {
	case ReplySighting:
		c.Type = TypeSighting
		of := ReportID(r.BulletinOrigin, r.Bulletin)
		if r.Of != nil {
			of = IndicatorID(r.BulletinOrigin, r.Bulletin, *r.Of, r.OfIndex)
		}
		s := Sighting{Common: c, Description: r.Body, FirstSeen: optTime(r.FirstSeen), LastSeen: optTime(r.LastSeen),
			SightingOfRef: of, WhereSightedRefs: []string{StateIdentityID(r.Origin)},
			ReplyID: r.ID, BulletinID: r.Bulletin, BulletinOrigin: r.BulletinOrigin, Author: r.Author}
		if r.Count > 0 {
			n := r.Count
			s.Count = &n
		}
		return s, nil
	case ReplyRFI, ReplyNote:
		c.Type = TypeNote
		if r.Body == "" {
			return nil, fmt.Errorf("stix: reply %s: a %s needs a body", r.ID, r.Kind)
		}
		n := Note{Common: c, Abstract: r.Subject, Content: r.Body, ObjectRefs: []string{ReportID(r.BulletinOrigin, r.Bulletin)},
			ReplyID: r.ID, ReplyKind: r.Kind.String(), BulletinID: r.Bulletin, BulletinOrigin: r.BulletinOrigin, Author: r.Author}
		if r.Author != "" {
			n.Authors = []string{r.Author}
		}
		return n, nil
	}
	return nil, fmt.Errorf("stix: reply %s: unknown kind %s", r.ID, r.Kind)
}
