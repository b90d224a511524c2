package stix_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
)

// TestVersionOfStoredBulletins: a node's revision keeps the bulletin's
// id, so its STIX version is the same report with the first version's
// created and the revision's modified; its tombstone is the version with
// revoked true, modified when it was revoked.
func TestVersionOfStoredBulletins(t *testing.T) {
	first := sample()
	rev := sample()
	rev.Revision, rev.FirstCreatedAt, rev.CreatedAt = 2, first.CreatedAt, first.CreatedAt.Add(time.Hour)
	rev.Title = "corrected"
	revokedAt := first.CreatedAt.Add(2 * time.Hour)
	tomb := bulletin.Bulletin{ID: first.ID, Origin: first.Origin, Author: first.Author, CreatedAt: rev.CreatedAt, FirstCreatedAt: first.CreatedAt,
		Revision: 2, Revoked: true, Marking: first.Marking, Precedence: first.Precedence, Category: first.Category, Language: first.Language,
		Revocation: &bulletin.Revocation{Reason: "retracted", By: first.Author, At: revokedAt}}
	tests := []struct {
		name              string
		b                 bulletin.Bulletin
		created, modified time.Time
		revoked           bool
	}{
		{"first version", first, first.CreatedAt, first.CreatedAt, false},
		{"revision", rev, first.CreatedAt, rev.CreatedAt, false},
		{"revoked", tomb, first.CreatedAt, revokedAt, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := stix.Objects(stix.VersionOf(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			r := reportOf(t, objs)
			if r.ID != stix.ReportID(first.Origin, first.ID) || !r.Created.Time.Equal(tt.created) ||
				!r.Modified.Time.Equal(tt.modified) || r.Revoked != tt.revoked {
				t.Errorf("report %s created %v modified %v revoked %v; want %s, %v, %v, %v", r.ID, r.Created, r.Modified, r.Revoked,
					stix.ReportID(first.Origin, first.ID), tt.created, tt.modified, tt.revoked)
			}
		})
	}
}

// TestReplyOfStoredReplies maps a node's replies (a false-positive
// sighting with its place, an answer) to STIX and back.
func TestReplyOfStoredReplies(t *testing.T) {
	b := sample()
	at := b.CreatedAt.Add(time.Hour)
	seen := at.Add(-10 * time.Minute)
	replies := []bulletin.Bulletin{
		{ID: "01KAR1000000000000000000S9", Origin: "US", Author: "spiffe://iant.test/state/US/analyst/analyst", CreatedAt: at, Marking: bulletin.Amber,
			Reply: &bulletin.Reply{Kind: bulletin.ReplySighting, InReplyTo: bulletin.Ref{Origin: b.Origin, ID: b.ID},
				Sighting: &bulletin.Sighting{Kind: bulletin.SightingFalsePositive, SeenAt: seen, Place: "Tocumen"}}},
		{ID: "01KAR1000000000000000000A9", Origin: "JM", CreatedAt: at, Marking: bulletin.Amber, Title: "re", Body: "known to us",
			Reply: &bulletin.Reply{Kind: bulletin.ReplyAnswer, InReplyTo: bulletin.Ref{Origin: b.Origin, ID: b.ID}}},
	}
	want := []stix.Reply{
		{ID: replies[0].ID, Kind: stix.ReplySighting, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "US", Author: replies[0].Author,
			CreatedAt: at, Marking: bulletin.Amber, FirstSeen: seen, LastSeen: seen, SightingKind: "false-positive", Place: "Tocumen",
			Ref: stix.ReportID(b.Origin, b.ID)},
		{ID: replies[1].ID, Kind: stix.ReplyAnswer, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "JM", CreatedAt: at,
			Marking: bulletin.Amber, Subject: "re", Body: "known to us", Ref: stix.ReportID(b.Origin, b.ID)},
	}
	objs, err := stix.Objects(stix.Version{Bulletin: b})
	if err != nil {
		t.Fatal(err)
	}
	for _, rb := range replies {
		r, err := stix.ReplyOf(rb)
		if err != nil {
			t.Fatal(err)
		}
		o, err := stix.ReplyObject(r)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	d, err := stix.DecodeBundle(marshal(t, stix.NewBundle(objs)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, d.Replies, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replies -> STIX -> replies (-want +got):\n%s", diff)
	}
	if _, err := stix.ReplyOf(b); err == nil {
		t.Error("ReplyOf of a bulletin that is no reply succeeded")
	}
}
