package stix

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// Version is one version of a bulletin as STIX sees it: a revision of a
// bulletin is a new version (a later modified) of the first version's
// report, and a revocation is a version with revoked true.
type Version struct {
	// Bulletin is this version.
	Bulletin bulletin.Bulletin
	// First is the IANT id of the bulletin's first version, which names
	// the report of every version; "" means Bulletin itself. Required
	// when Bulletin revises another.
	First string
	// FirstCreated is when the first version was created (the report's
	// created); zero means Bulletin.CreatedAt. Required with First.
	FirstCreated time.Time
	// Modified is when this version was made; zero means
	// Bulletin.CreatedAt. A revocation is made when the bulletin was
	// revoked: a revoked Bulletin needs Modified.
	Modified time.Time
}

// versionTimes resolves the first version's id and the created and
// modified times of v's objects.
func (v Version) versionTimes() (first string, created, modified time.Time, err error) {
	b := &v.Bulletin
	first, created, modified = v.First, v.FirstCreated, v.Modified
	switch {
	case b.ID == "":
		return "", created, modified, errors.New("bulletin has no id")
	case first == "" && b.Revises != "":
		return "", created, modified, fmt.Errorf("bulletin %s revises %s: the first version's id and create time are required", b.ID, b.Revises)
	case first != "" && first != b.ID && created.IsZero():
		return "", created, modified, fmt.Errorf("bulletin %s: the create time of its first version %s is required", b.ID, first)
	case b.Revoked && modified.IsZero():
		return "", created, modified, fmt.Errorf("bulletin %s is revoked: the time of the revocation is required", b.ID)
	}
	if first == "" {
		first = b.ID
	}
	if created.IsZero() {
		created = b.CreatedAt
	}
	if modified.IsZero() {
		modified = b.CreatedAt
	}
	if modified.Before(created) {
		return "", created, modified, fmt.Errorf("bulletin %s: version made at %s, before its first version (%s)", b.ID, modified, created)
	}
	return first, created, modified, nil
}

// Objects returns every object of one version of a bulletin: the identity
// of its origin state, its TLP 2.0 marking definition, then
// [BulletinObjects].
func Objects(v Version) ([]Object, error) {
	objs, err := BulletinObjects(v)
	if err != nil {
		return nil, err
	}
	shared := []Object{TLPMarking(v.Bulletin.Marking)}
	if region.IsMember(v.Bulletin.Origin) {
		shared = append([]Object{StateIdentity(v.Bulletin.Origin)}, shared...)
	}
	return append(shared, objs...), nil
}

// BulletinObjects returns the objects that are this bulletin's own: one
// object per indicator (an indicator with a pattern for travel documents,
// flights, vehicles and network indicators; an identity for a person; an
// x-iant-weapon for a weapon), then the report referring to them.
func BulletinObjects(v Version) ([]Object, error) {
	first, created, modified, err := v.versionTimes()
	if err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	b := &v.Bulletin
	mark := MarkingID(b.Marking)
	if mark == "" {
		return nil, fmt.Errorf("stix: bulletin %s: no TLP 2.0 marking for %s", b.ID, b.Marking)
	}
	common := func(typ, id string) Common {
		c := Common{Type: typ, SpecVersion: SpecVersion, ID: id, Created: At(created), Modified: At(modified),
			Revoked: b.Revoked, ObjectMarkingRefs: []string{mark}}
		if region.IsMember(b.Origin) {
			c.CreatedByRef = StateIdentityID(b.Origin)
		}
		return c
	}
	var objs []Object
	var refs []string
	seen := map[string]int{}
	for _, in := range b.Indicators {
		key := in.Type.String() + "\x00" + in.Value
		id := IndicatorID(b.Origin, first, in, seen[key])
		seen[key]++
		objs = append(objs, indicatorObject(common(objectTypeOf(in.Type), id), in, b))
		refs = append(refs, id)
	}
	rep := common(TypeReport, ReportID(b.Origin, first))
	if len(refs) == 0 {
		// object_refs is required; a bulletin without indicators is about
		// what its origin state reports.
		refs = []string{rep.CreatedByRef}
		if rep.CreatedByRef == "" {
			refs = []string{mark}
		}
	}
	rep.Labels = []string{b.Category.String()}
	rep.Confidence = confidenceOf(b.Grading)
	rep.Lang = b.Language.String()
	r := Report{Common: rep, Name: b.Title, Description: b.Body, ReportTypes: []string{"threat-report"},
		Published: At(b.CreatedAt), ObjectRefs: refs,
		BulletinID: b.ID, Author: b.Author, Precedence: b.Precedence.String(), Grading: b.Grading.String(),
		Releasability: releasabilityOf(b.Releasability), Recipients: b.Recipients, Conditions: b.Conditions,
		Expires: optTime(b.ExpiresAt), Revises: b.Revises, Supersedes: b.Supersedes}
	for _, c := range b.Caveats {
		r.Caveats = append(r.Caveats, c.String())
	}
	return append(objs, r), nil
}

func indicatorObject(c Common, in bulletin.Indicator, b *bulletin.Bulletin) Object {
	switch in.Type {
	case bulletin.IndicatorPerson:
		return Identity{Common: c, Name: in.Value, Description: in.Description, IdentityClass: "individual", Attributes: in.Attributes}
	case bulletin.IndicatorWeapon:
		return Weapon{Common: c, Name: in.Value, Description: in.Description, Attributes: in.Attributes}
	}
	pattern, _ := PatternOf(in)
	return Indicator{Common: c, Name: in.Value, Description: in.Description, Pattern: pattern, PatternType: "stix",
		ValidFrom: At(b.CreatedAt), ValidUntil: optTime(b.ExpiresAt), Attributes: in.Attributes}
}

// confidenceOf maps the credibility of a grading to STIX confidence by
// the Admiralty Credibility scale of STIX 2.1 Appendix B: 1 → 90, 2 → 70,
// 3 → 50, 4 → 30, 5 → 10; 6 (cannot be judged) and ungraded → none.
func confidenceOf(g bulletin.Grading) *int {
	if g.IsZero() || g.Credibility < 1 || g.Credibility > 5 {
		return nil
	}
	c := 90 - 20*(g.Credibility-1)
	return &c
}

func releasabilityOf(r bulletin.Releasability) *Releasability {
	out := &Releasability{States: r.States, All: r.All}
	for _, g := range r.Regions {
		out.Regions = append(out.Regions, g.String())
	}
	return out
}

// identitiesCreated is the created time of the member states' identity
// objects: the state table's version (region.Version 2026-11.1).
var identitiesCreated = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// StateIdentity returns the identity object of member state cc.
func StateIdentity(cc string) Identity {
	name := cc
	if st, ok := region.Lookup(cc); ok {
		name = st.Name
	}
	return Identity{
		Common: Common{Type: TypeIdentity, SpecVersion: SpecVersion, ID: StateIdentityID(cc),
			Created: At(identitiesCreated), Modified: At(identitiesCreated)},
		Name: name, IdentityClass: "organization", Sectors: []string{"government-national"},
		Description: "Member state " + cc + " of the Inter-American Network against Terrorism (IANT)",
	}
}

// NewBundle returns a bundle of objs, each object version once (the first
// occurrence), in the order given. Its id is derived from the ids and
// versions it holds, so the same objects make the same bundle.
func NewBundle(objs []Object) Bundle {
	seen := map[string]bool{}
	var keep []Object
	var keys []string
	for _, o := range objs {
		k := o.ObjectID() + "@" + At(o.ObjectVersion()).String()
		if !seen[k] {
			seen[k] = true
			keep = append(keep, o)
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return Bundle{Type: TypeBundle, ID: derive(TypeBundle, strings.Join(keys, "\n")), Objects: keep}
}

// FromBulletins returns one bundle holding every object of the given
// versions.
func FromBulletins(vs ...Version) (Bundle, error) {
	var all []Object
	for _, v := range vs {
		objs, err := Objects(v)
		if err != nil {
			return Bundle{}, err
		}
		all = append(all, objs...)
	}
	return NewBundle(all), nil
}
