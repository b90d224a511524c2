package misp

import (
	"fmt"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// decodeTags reads the event's tags: its TLP marking, its Admiralty
// grading, and IANT's fields; other tags are not mapped.
func decodeTags(im *Imported, v strictjson.Value) error {
	tags, err := v.OptArray()
	if err != nil {
		return err
	}
	seen := map[string]string{} // exclusive tag -> path of its first
	var rel, cred string
	for _, t := range tags {
		name, value, path, err := tagAt(t)
		if err != nil {
			return err
		}
		if exclusive[name] {
			if first, dup := seen[name]; dup {
				return strictjson.At(path, ErrInvalid, "a second %s tag (the first is %s)", name, first)
			}
			seen[name] = path
		}
		switch {
		case strings.HasPrefix(name, tagTLP+":"):
			if err := decodeTLP(im, name, path); err != nil {
				return err
			}
		case name == tagAdmRel:
			rel = strings.ToUpper(value)
			im.fields["source_grading"] = path
		case name == tagAdmCred:
			cred = value
			im.fields["source_grading"] = path
		case strings.HasPrefix(name, "iant:"):
			if err := decodeIANTTag(im, name, value, path); err != nil {
				return err
			}
		}
	}
	if rel == "" && cred == "" {
		return nil
	}
	g, err := bulletin.ParseGrading(rel + cred)
	if err != nil {
		return strictjson.At(im.fields["source_grading"], ErrInvalid, "admiralty-scale tags give %q: both source-reliability a-f and information-credibility 1-6 are needed", rel+cred)
	}
	im.Bulletin.Grading = g
	return nil
}

// exclusive are the tags an event has at most once.
var exclusive = map[string]bool{tagPrecedence: true, tagCategory: true, tagLanguage: true, tagBulletinID: true,
	tagAuthor: true, tagExpires: true, tagRevises: true, tagSupersedes: true, tagAdmRel: true, tagAdmCred: true}

func decodeTLP(im *Imported, name, path string) error {
	v := strings.TrimPrefix(name, tagTLP+":")
	m, err := bulletin.ParseMarking(v)
	switch {
	case v == "white":
		return strictjson.At(path, ErrMarking, "tlp:white is TLP 1.0; IANT accepts only TLP 2.0 (tlp:clear)")
	case err != nil || v != m.String():
		return strictjson.At(path, ErrMarking, "%q is not a TLP 2.0 tag", name)
	case im.Bulletin.Marking != 0 && im.Bulletin.Marking != m:
		return strictjson.At(path, ErrMarking, "a second TLP tag (%s after %s)", m, im.Bulletin.Marking)
	}
	im.Bulletin.Marking = m
	im.fields["marking"] = path
	return nil
}

// decodeIANTTag reads one iant: tag of the event.
func decodeIANTTag(im *Imported, name, value, path string) error {
	b := &im.Bulletin
	bad := func(err error) error { return strictjson.At(path, ErrInvalid, "%v", err) }
	var err error
	switch name {
	case tagPrecedence:
		b.Precedence, err = bulletin.ParsePrecedence(value)
		im.fields["precedence"] = path
	case tagCategory:
		b.Category, err = bulletin.ParseCategory(value)
		im.fields["category"] = path
	case tagLanguage:
		b.Language, err = bulletin.ParseLanguage(value)
		im.fields["language"] = path
	case tagCaveat:
		var c bulletin.Caveat
		c, err = bulletin.ParseCaveat(value)
		b.Caveats = append(b.Caveats, c)
		im.fields["caveats"] = path
	case tagRelease:
		err = addRelease(&b.Releasability, value)
		im.fields["releasability"] = path
	case tagRecipient:
		b.Recipients = append(b.Recipients, value)
	case tagBulletinID:
		b.ID = value
	case tagAuthor:
		b.Author = value
	case tagRevises:
		b.Revises = value
	case tagSupersedes:
		b.Supersedes = value
	case tagRevoked:
		b.Revoked = true
	case tagExpires:
		var t time.Time
		t, err = time.Parse(time.RFC3339Nano, value)
		b.ExpiresAt = t.UTC()
		im.fields["expire_time"] = path
	default:
		return strictjson.At(path, ErrInvalid, "unknown IANT tag %q", name)
	}
	if err != nil {
		return bad(err)
	}
	return nil
}

// addRelease adds one iant:release value: "all", a region or a state.
func addRelease(r *bulletin.Releasability, v string) error {
	switch {
	case v == "all":
		r.All = true
	case region.IsMember(v):
		r.States = append(r.States, v)
	default:
		g, err := region.Parse(v)
		if err != nil || v != g.String() {
			return fmt.Errorf("%q is neither a member state, a region nor all", v)
		}
		r.Regions = append(r.Regions, g)
	}
	return nil
}
