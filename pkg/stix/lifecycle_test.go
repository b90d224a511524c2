package stix_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
)

// reportOf returns the report among objs.
func reportOf(t *testing.T, objs []stix.Object) stix.Report {
	t.Helper()
	for _, o := range objs {
		if r, ok := o.(stix.Report); ok {
			return r
		}
	}
	t.Fatal("no report")
	return stix.Report{}
}

func TestRevisionIsANewVersionOfTheFirstReport(t *testing.T) {
	first := sample()
	rev := sample()
	rev.ID, rev.Revises = "01KAR0000000000000000000RV", first.ID
	rev.CreatedAt = first.CreatedAt.Add(2 * time.Hour)
	rev.Title = "Suspected MANPADS shipment (corrected)"
	rev.Indicators = rev.Indicators[:3]

	v1, err := stix.BulletinObjects(stix.Version{Bulletin: first})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := stix.BulletinObjects(stix.Version{Bulletin: rev, First: first.ID, FirstCreated: first.CreatedAt})
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := reportOf(t, v1), reportOf(t, v2)
	if r1.ID != r2.ID || !r2.Created.Equal(r1.Created.Time) || !r2.Modified.Equal(rev.CreatedAt) || !r2.Modified.After(r1.Modified.Time) {
		t.Errorf("revision report %s created %v modified %v; first %s created %v modified %v: want the same id and created, a later modified",
			r2.ID, r2.Created, r2.Modified, r1.ID, r1.Created, r1.Modified)
	}
	if r2.Revises != first.ID || r2.BulletinID != rev.ID {
		t.Errorf("x_iant_revises %q, x_iant_bulletin_id %q", r2.Revises, r2.BulletinID)
	}
	// An indicator the revision keeps keeps its id.
	if v1[0].ObjectID() != v2[0].ObjectID() {
		t.Errorf("kept indicator has id %s in the revision, %s before", v2[0].ObjectID(), v1[0].ObjectID())
	}
	// A bundle holding both versions is refused: IANT reads one version
	// of each object, and says which id is repeated.
	all := append(append([]stix.Object{}, v1...), v2...)
	_, err = stix.DecodeBundle(marshal(t, stix.NewBundle(all)))
	if err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("decoding two versions = %v, want a refusal naming the repeated id", err)
	}
	// The revision alone round-trips.
	d, err := stix.DecodeBundle(bundleOf(t, stix.Version{Bulletin: rev, First: first.ID, FirstCreated: first.CreatedAt}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rev, d.Bulletins[0].Bulletin, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("revision round trip (-want +got):\n%s", diff)
	}
}

func TestRevocationIsAVersionWithRevokedTrue(t *testing.T) {
	b := sample()
	b.Revoked = true
	revokedAt := b.CreatedAt.Add(time.Hour)
	if _, err := stix.BulletinObjects(stix.Version{Bulletin: b}); err == nil || !strings.Contains(err.Error(), "time of the revocation is required") {
		t.Errorf("revoked without a revocation time = %v, want an error", err)
	}
	objs, err := stix.BulletinObjects(stix.Version{Bulletin: b, Modified: revokedAt})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var c stix.Common
		switch x := o.(type) {
		case stix.Report:
			c = x.Common
		case stix.Indicator:
			c = x.Common
		case stix.Identity:
			c = x.Common
		case stix.Weapon:
			c = x.Common
		}
		if !c.Revoked || !c.Modified.Equal(revokedAt) || !c.Created.Equal(b.CreatedAt) {
			t.Errorf("%s: revoked %v modified %v created %v; want revoked at %v", o.ObjectID(), c.Revoked, c.Modified, c.Created, revokedAt)
		}
	}
	d, err := stix.DecodeBundle(bundleOf(t, stix.Version{Bulletin: b, Modified: revokedAt}))
	if err != nil {
		t.Fatal(err)
	}
	if im := d.Bulletins[0]; !im.Bulletin.Revoked || !im.Modified.Equal(revokedAt) {
		t.Errorf("decoded revoked %v modified %v", im.Bulletin.Revoked, im.Modified)
	}
	if _, err := d.Bulletins[0].Draft("MX"); err == nil {
		t.Error("a revoked report became a draft")
	}
}

func TestVersionNeedsItsFirst(t *testing.T) {
	b := sample()
	b.Revises = "01KAQZ7W3M4T3V9K6R5N0B0000"
	tests := []struct {
		name string
		v    stix.Version
		want string
	}{
		{"revision without its first", stix.Version{Bulletin: b}, "first version's id and create time are required"},
		{"first without its time", stix.Version{Bulletin: b, First: b.Revises}, "create time of its first version"},
		{"made before its first", stix.Version{Bulletin: sample(), First: "X", FirstCreated: b.CreatedAt.Add(time.Hour)}, "before its first version"},
		{"no id", stix.Version{Bulletin: bulletin.Bulletin{Marking: bulletin.Red}}, "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := stix.Objects(tt.v); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Objects = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRepliesRoundTrip(t *testing.T) {
	b := sample()
	at := b.CreatedAt.Add(30 * time.Minute)
	flight := b.Indicators[15] // the second CM471: occurrence 1
	replies := []stix.Reply{
		{ID: "01KAR1000000000000000000S1", Kind: stix.ReplySighting, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "US", Author: "spiffe://iant.test/state/US/focal-point/focal",
			CreatedAt: at, Marking: bulletin.Amber, Body: "seen at MIA gate D4", Of: &flight, OfIndex: 1, Count: 2,
			FirstSeen: at.Add(-time.Hour), LastSeen: at},
		{ID: "01KAR1000000000000000000S2", Kind: stix.ReplySighting, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "JM", CreatedAt: at, Marking: bulletin.Green},
		{ID: "01KAR1000000000000000000N1", Kind: stix.ReplyNote, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "JM", Author: "spiffe://iant.test/state/JM/analyst/analyst",
			CreatedAt: at, Marking: bulletin.Amber, Subject: "context", Body: "the courier is known to us"},
		{ID: "01KAR1000000000000000000R1", Kind: stix.ReplyRFI, Bulletin: b.ID, BulletinOrigin: b.Origin, Origin: "US", CreatedAt: at, Marking: bulletin.AmberStrict,
			Body: "please send the manifest"},
	}
	objs, err := stix.Objects(stix.Version{Bulletin: b})
	if err != nil {
		t.Fatal(err)
	}
	for i := range replies {
		o, err := stix.ReplyObject(replies[i])
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
		want := stix.ReportID(b.Origin, b.ID)
		if replies[i].Of != nil {
			want = stix.IndicatorID(b.Origin, b.ID, *replies[i].Of, replies[i].OfIndex)
		}
		replies[i].Ref = want
	}
	if _, ok := objs[len(objs)-4].(stix.Sighting); !ok {
		t.Fatalf("a sighting reply is a %T", objs[len(objs)-4])
	}
	if n, ok := objs[len(objs)-1].(stix.Note); !ok || n.ReplyKind != "rfi" {
		t.Fatalf("an RFI reply is %+v", objs[len(objs)-1])
	}
	d, err := stix.DecodeBundle(marshal(t, stix.NewBundle(objs)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(replies, d.Replies, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replies -> STIX -> replies (-want +got):\n%s", diff)
	}
}

func TestReplyObjectRefuses(t *testing.T) {
	ok := stix.Reply{ID: "r", Kind: stix.ReplyNote, Bulletin: "b", BulletinOrigin: "MX", Origin: "US", CreatedAt: time.Now(), Marking: bulletin.Green, Body: "x"}
	tests := []struct {
		name  string
		spoil func(r *stix.Reply)
	}{
		{"no id", func(r *stix.Reply) { r.ID = "" }},
		{"not a member", func(r *stix.Reply) { r.Origin = "FR" }},
		{"bulletin of no member", func(r *stix.Reply) { r.BulletinOrigin = "" }},
		{"no marking", func(r *stix.Reply) { r.Marking = 0 }},
		{"no time", func(r *stix.Reply) { r.CreatedAt = time.Time{} }},
		{"note without body", func(r *stix.Reply) { r.Body = "" }},
		{"unknown kind", func(r *stix.Reply) { r.Kind = 9 }},
		{"negative count", func(r *stix.Reply) { r.Kind, r.Count = stix.ReplySighting, -1 }},
	}
	if _, err := stix.ReplyObject(ok); err != nil {
		t.Fatalf("ReplyObject(valid) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.spoil(&r)
			if o, err := stix.ReplyObject(r); err == nil {
				t.Errorf("ReplyObject(%+v) = %+v, want an error", r, o)
			}
		})
	}
}
