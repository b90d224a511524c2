package stix

import (
	"fmt"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// VersionOf is the STIX version of bulletin b as a node holds it: the
// bulletin keeps its id across revisions, so every revision is a version
// of the same report (created: the first version's time; modified: the
// revision's), and a revoked bulletin (its tombstone) is the version that
// says revoked true, made when it was revoked.
func VersionOf(b bulletin.Bulletin) Version {
	v := Version{Bulletin: b, First: b.ID, FirstCreated: b.FirstCreated(), Modified: b.CreatedAt}
	if b.Revoked && b.Revocation != nil && !b.Revocation.At.IsZero() {
		v.Modified = b.Revocation.At
	}
	if v.Modified.Before(v.FirstCreated) {
		v.Modified = v.FirstCreated
	}
	return v
}

// ReplyOf is reply b (a bulletin whose Reply is set) as [ReplyObject]
// maps it: a sighting, with its kind when not "seen", its time as
// first_seen and last_seen and its place; or a note (note, rfi, answer).
func ReplyOf(b bulletin.Bulletin) (Reply, error) {
	rp := b.Reply
	if rp == nil {
		return Reply{}, fmt.Errorf("stix: bulletin %s is not a reply", b.ID)
	}
	r := Reply{ID: b.ID, Bulletin: rp.InReplyTo.ID, BulletinOrigin: rp.InReplyTo.Origin, Origin: b.Origin, Author: b.Author,
		CreatedAt: b.CreatedAt, Marking: b.Marking, Subject: b.Title, Body: b.Body}
	switch rp.Kind {
	case bulletin.ReplySighting:
		r.Kind = ReplySighting
		if s := rp.Sighting; s != nil {
			r.FirstSeen, r.LastSeen, r.Place = s.SeenAt, s.SeenAt, s.Place
			if s.Kind != bulletin.SightingSeen && s.Kind.Valid() {
				r.SightingKind = s.Kind.String()
			}
		}
	case bulletin.ReplyRFI:
		r.Kind = ReplyRFI
	case bulletin.ReplyAnswer:
		r.Kind = ReplyAnswer
	case bulletin.ReplyNote:
		r.Kind = ReplyNote
	default:
		return Reply{}, fmt.Errorf("stix: reply %s: unknown kind %s", b.ID, rp.Kind)
	}
	return r, nil
}
