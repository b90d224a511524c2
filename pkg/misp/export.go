package misp

import (
	"crypto/md5"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

// Version is one version of a bulletin as MISP sees it: MISP updates an
// event in place, so a revision is the first version's event (same UUID)
// with a later timestamp, and a revocation marks every attribute deleted
// (MISP's soft delete) and tags the event iant:revoked.
type Version struct {
	// Bulletin is this version.
	Bulletin bulletin.Bulletin
	// First is the IANT id of the bulletin's first version, which names
	// the event; "" means Bulletin itself. Required when Bulletin revises
	// another.
	First string
	// Modified is when this version was made (the event timestamp); zero
	// means Bulletin.CreatedAt. A revoked Bulletin needs it.
	Modified time.Time
	// Sightings are the replies of kind sighting, as attribute sightings.
	Sightings []Sighted
}

// Sighted is a sighting reply: a state saw an indicator (Of; OfIndex its
// occurrence among indicators of the same type and value) at At.
type Sighted struct {
	ReplyID string
	Origin  string
	At      time.Time
	Of      bulletin.Indicator
	OfIndex int
}

// uuidOf returns the UUID of a STIX id: the event of a bulletin and the
// report of its STIX export share it.
func uuidOf(stixID string) string {
	_, u, _ := strings.Cut(stixID, "--")
	return u
}

// OrgOf returns the organisation of member state cc: the Orgc of its
// events.
func OrgOf(cc string) Org {
	name := cc
	if st, ok := region.Lookup(cc); ok {
		name = st.Name
	}
	return Org{Name: "IANT " + cc + " " + name, UUID: uuidOf(stix.StateIdentityID(cc))}
}

// distribution is the event distribution of a marking: CLEAR all
// communities, GREEN this community, AMBER and stricter the organisation
// only.
func distribution(m bulletin.Marking) string {
	switch m {
	case bulletin.Clear:
		return "3"
	case bulletin.Green:
		return "1"
	}
	return "0"
}

// threatLevel is the threat level of a precedence: FLASH and IMMEDIATE
// high, PRIORITY medium, ROUTINE low.
func threatLevel(p bulletin.Precedence) string {
	switch p {
	case bulletin.Flash, bulletin.Immediate:
		return "1"
	case bulletin.Priority:
		return "2"
	}
	return "3"
}

// FromBulletin returns the MISP event of one version of a bulletin.
func FromBulletin(v Version) (Event, error) {
	b := &v.Bulletin
	first, modified := v.First, v.Modified
	switch {
	case b.ID == "":
		return Event{}, errors.New("misp: bulletin has no id")
	case first == "" && b.Revises != "":
		return Event{}, fmt.Errorf("misp: bulletin %s revises %s: the first version's id is required", b.ID, b.Revises)
	case b.Revoked && modified.IsZero():
		return Event{}, fmt.Errorf("misp: bulletin %s is revoked: the time of the revocation is required", b.ID)
	case !b.Marking.Valid():
		return Event{}, fmt.Errorf("misp: bulletin %s has no marking", b.ID)
	}
	if first == "" {
		first = b.ID
	}
	if modified.IsZero() {
		modified = b.CreatedAt
	}
	ts := strconv.FormatInt(modified.Unix(), 10)
	ev := Event{
		UUID: uuidOf(stix.ReportID(b.Origin, first)), Info: b.Title, Date: b.CreatedAt.UTC().Format("2006-01-02"),
		Timestamp: ts, PublishTimestamp: ts, Published: true, Analysis: "2",
		ThreatLevelID: threatLevel(b.Precedence), Distribution: distribution(b.Marking), OrgID: "0", OrgcID: "0",
		Tag: tagsOf(b),
	}
	if region.IsMember(b.Origin) {
		ev.Orgc = OrgOf(b.Origin)
	}
	body := Attribute{UUID: uuid.NewSHA1(stix.Namespace, []byte(stix.BulletinName(b.Origin, first)+"/body")).String(), Type: "text",
		Category: "Other", Value: b.Body, Comment: "bulletin body", Timestamp: ts, Distribution: "5",
		Deleted: b.Revoked, DisableCorrelation: true, Tag: []Tag{machineTag(tagField, "body")}}
	ev.Attribute = append(ev.Attribute, body)
	seen := map[string]int{}
	for _, in := range b.Indicators {
		key := in.Type.String() + "\x00" + in.Value
		n := seen[key]
		seen[key]++
		k := kindOf(in)
		a := Attribute{UUID: uuidOf(stix.IndicatorID(b.Origin, first, in, n)), Type: k.typ, Category: k.category, ToIDs: k.toIDs,
			Value: in.Value, Comment: in.Description, Timestamp: ts, Distribution: "5", Deleted: b.Revoked,
			Tag: []Tag{machineTag(tagIndicator, in.Type.String())}}
		for _, key := range sortedKeys(in.Attributes) {
			if !strings.HasPrefix(key, "misp_") {
				a.Tag = append(a.Tag, machineTag(tagAttribute, key+"="+in.Attributes[key]))
			}
		}
		for _, s := range v.Sightings {
			if s.Of.Type == in.Type && s.Of.Value == in.Value && s.OfIndex == n {
				a.Sighting = append(a.Sighting, Sighting{UUID: uuid.NewSHA1(stix.Namespace, []byte("reply/"+s.ReplyID)).String(),
					Type: "0", DateSighting: strconv.FormatInt(s.At.Unix(), 10), Source: "IANT " + s.Origin, Orgc: OrgOf(s.Origin)})
			}
		}
		ev.Attribute = append(ev.Attribute, a)
	}
	return ev, nil
}

// Hashes returns the lines of hashes.csv for ev: the MD5 of each value of
// its attributes not deleted, with the event's UUID.
func Hashes(ev Event) []string {
	var out []string
	for _, a := range ev.Attribute {
		if a.Deleted {
			continue
		}
		out = append(out, fmt.Sprintf("%x,%s", md5.Sum([]byte(a.Value)), ev.UUID))
	}
	return out
}
