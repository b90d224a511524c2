package misp

import (
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// Limits of what IANT decodes.
const (
	// MaxEventBytes bounds an event file.
	MaxEventBytes = 4 << 20
	// MaxAttributes bounds the attributes (and the tags) of one event.
	MaxAttributes = 2048
)

// Imported is a MISP event read as a bulletin.
type Imported struct {
	// Bulletin holds what the event says. The fields the node sets (id,
	// origin, author, recipients) are filled only from iant: tags and an
	// IANT organisation; [Imported.Draft] clears them for posting.
	Bulletin bulletin.Bulletin
	// UUID is the event's UUID.
	UUID string
	// Modified is the event's timestamp.
	Modified time.Time
	// Defaulted names what the event lacked and took IANT's default:
	// precedence (routine, unless threat_level_id says), category
	// (other), language (en).
	Defaulted []string
	// fields maps bulletin fields to JSON paths of the event.
	fields map[string]string
}

// stateOfOrg maps the organisation UUID of each member state to its code.
var stateOfOrg = func() map[string]string {
	m := map[string]string{}
	for _, st := range region.States() {
		m[OrgOf(st.Code).UUID] = st.Code
	}
	return m
}()

// Decode reads a MISP event file ({"Event": {...}}) strictly: it refuses,
// naming the JSON path, duplicate keys, attribute types IANT does not map
// ([ErrUnknownType]), MISP objects, TLP tags other than TLP 2.0
// ([ErrMarking]), unknown iant: tags and values out of range.
func Decode(data []byte) (*Imported, error) {
	im, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("misp: %w", err)
	}
	return im, nil
}

func decode(data []byte) (*Imported, error) {
	doc, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: MaxEventBytes, MaxDepth: 16, MaxElems: MaxAttributes})
	if err != nil {
		return nil, err
	}
	if err := doc.Object(); err != nil {
		return nil, err
	}
	ev := doc.Field("Event")
	if err := ev.Object(); err != nil {
		return nil, err
	}
	im := &Imported{fields: map[string]string{"title": "Event.info", "body": "Event.Attribute", "marking": "Event.Tag",
		"releasability": "Event.Tag", "caveats": "Event.Tag", "category": "Event.Tag", "language": "Event.Tag"}}
	b := &im.Bulletin
	if im.UUID, err = ev.Field("uuid").String(); err != nil {
		return nil, err
	}
	if u, err := uuid.Parse(im.UUID); err != nil || len(im.UUID) != 36 || u.String() != im.UUID {
		return nil, ev.Field("uuid").Errorf("%q is not a UUID", im.UUID)
	}
	if b.Title, err = ev.Field("info").String(); err != nil {
		return nil, err
	}
	ts, err := number(ev.Field("timestamp"), 0, 1<<40)
	if err != nil {
		return nil, err
	}
	im.Modified = time.Unix(ts, 0).UTC()
	b.CreatedAt = im.Modified
	if err := checkEventFields(ev); err != nil {
		return nil, err
	}
	if ref, _ := ev.Field("Orgc").Field("uuid").OptString(); ref != "" {
		b.Origin = stateOfOrg[ref]
	}
	if objs, _ := ev.Field("Object").OptArray(); len(objs) > 0 {
		return nil, strictjson.At("Event.Object", ErrUnknownType, "MISP objects are not mapped: IANT reads attributes")
	}
	if err := decodeTags(im, ev.Field("Tag")); err != nil {
		return nil, err
	}
	if err := decodeAttributes(im, ev); err != nil {
		return nil, err
	}
	return im, decodeDefaults(im, ev)
}

// checkEventFields checks the MISP fields IANT writes but does not map.
func checkEventFields(ev strictjson.Value) error {
	d, err := ev.Field("date").String()
	if err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", d); err != nil {
		return ev.Field("date").Errorf("%q is not a date YYYY-MM-DD", d)
	}
	if _, err := ev.Field("published").OptBool(); err != nil {
		return err
	}
	for _, f := range []struct {
		name   string
		lo, hi int64
	}{{"analysis", 0, 2}, {"threat_level_id", 1, 4}, {"distribution", 0, 5}} {
		if v := ev.Field(f.name); v.Exists() {
			if _, err := number(v, f.lo, f.hi); err != nil {
				return err
			}
		}
	}
	return nil
}

// number reads a whole number written as MISP does (a string of digits)
// or as a JSON number.
func number(v strictjson.Value, lo, hi int64) (int64, error) {
	if v.Kind() != strictjson.KindString {
		return v.Int(lo, hi)
	}
	s, _ := v.String()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, v.Errorf("%q is not a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// decodeDefaults fills precedence (from threat_level_id when no iant
// tag), category and language.
func decodeDefaults(im *Imported, ev strictjson.Value) error {
	b := &im.Bulletin
	if b.Precedence == 0 {
		tl := ev.Field("threat_level_id")
		n := int64(4)
		if tl.Exists() {
			n, _ = number(tl, 1, 4)
			im.fields["precedence"] = tl.Path()
		}
		b.Precedence = map[int64]bulletin.Precedence{1: bulletin.Immediate, 2: bulletin.Priority, 3: bulletin.Routine, 4: bulletin.Routine}[n]
		if !tl.Exists() {
			im.Defaulted = append(im.Defaulted, "precedence (routine)")
		}
	}
	if b.Category == 0 {
		b.Category = bulletin.CategoryOther
		im.Defaulted = append(im.Defaulted, "category (other)")
	}
	if b.Language == 0 {
		b.Language = bulletin.English
		im.Defaulted = append(im.Defaulted, "language (en)")
	}
	if b.Marking == 0 {
		return strictjson.At("Event.Tag", ErrMarking, "a TLP 2.0 tag (tlp:clear, tlp:green, tlp:amber, tlp:amber+strict or tlp:red) is required")
	}
	return nil
}

// decodeAttributes reads the body and the indicators.
func decodeAttributes(im *Imported, ev strictjson.Value) error {
	attrs, err := ev.Field("Attribute").OptArray()
	if err != nil {
		return err
	}
	b := &im.Bulletin
	bodyAt := ""
	for _, a := range attrs {
		in, isBody, deleted, err := decodeAttribute(a)
		switch {
		case err != nil:
			return err
		case deleted:
			continue
		case isBody && bodyAt != "":
			return strictjson.At(a.Path(), ErrInvalid, "a second body attribute (the first is %s)", bodyAt)
		case isBody:
			bodyAt, b.Body = a.Path(), in.Value
			im.fields["body"] = strictjson.Join(a.Path(), "value")
		default:
			im.fields["indicators["+strconv.Itoa(len(b.Indicators))+"]"] = a.Path()
			b.Indicators = append(b.Indicators, in)
		}
	}
	if bodyAt == "" {
		reports, err := ev.Field("EventReport").OptArray()
		if err != nil {
			return err
		}
		for _, r := range reports {
			if del, _ := r.Field("deleted").OptBool(); del {
				continue
			}
			if b.Body, err = r.Field("content").String(); err != nil {
				return err
			}
			im.fields["body"] = strictjson.Join(r.Path(), "content")
			break
		}
	}
	return nil
}

// decodeAttribute reads one attribute as an indicator, or as the body.
func decodeAttribute(a strictjson.Value) (in bulletin.Indicator, isBody, deleted bool, err error) {
	if err = a.Object(); err != nil {
		return
	}
	if deleted, err = a.Field("deleted").OptBool(); err != nil || deleted {
		return
	}
	typ, err := a.Field("type").String()
	if err != nil {
		return
	}
	category, err := a.Field("category").String()
	if err != nil {
		return
	}
	if !contains(categories, category) {
		err = a.Field("category").Errorf("%q is not a MISP category", category)
		return
	}
	toIDs, err := a.Field("to_ids").OptBool()
	if err != nil {
		return
	}
	if in.Value, err = a.Field("value").String(); err != nil {
		return
	}
	if in.Description, err = a.Field("comment").OptString(); err != nil {
		return
	}
	tagged, attrs, isBody, err := attributeTags(a.Field("Tag"))
	if err != nil || isBody {
		return
	}
	known, ok := typeOf[typ]
	switch {
	case !ok:
		err = strictjson.At(strictjson.Join(a.Path(), "type"), ErrUnknownType, "MISP type %q is not one IANT maps", typ)
		return
	case tagged == 0 && known == 0:
		err = strictjson.At(strictjson.Join(a.Path(), "Tag"), ErrInvalid, "a %q attribute needs an iant:indicator tag saying what it is", typ)
		return
	case tagged != 0 && known != 0 && tagged != known:
		err = strictjson.At(strictjson.Join(a.Path(), "Tag"), ErrInvalid, "tagged %s, but MISP type %q is a %s", tagged, typ, known)
		return
	case tagged != 0:
		known = tagged
	}
	in.Type = known
	for k, v := range keep(in, typ, category, toIDs) {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[k] = v
	}
	in.Attributes = attrs
	return
}

// attributeTags reads an attribute's iant: tags: its indicator type, its
// indicator attributes, and whether it is the body.
func attributeTags(v strictjson.Value) (typ bulletin.IndicatorType, attrs map[string]string, isBody bool, err error) {
	tags, err := v.OptArray()
	if err != nil {
		return
	}
	for _, t := range tags {
		name, value, path, err := tagAt(t)
		if err != nil {
			return 0, nil, false, err
		}
		switch name {
		case tagField:
			if value != "body" {
				return 0, nil, false, strictjson.At(path, ErrInvalid, "iant:field %q: the only field is body", value)
			}
			isBody = true
		case tagIndicator:
			if typ, err = bulletin.ParseIndicatorType(value); err != nil {
				return 0, nil, false, strictjson.At(path, ErrInvalid, "%v", err)
			}
		case tagAttribute:
			k, val, ok := cutEq(value)
			if !ok {
				return 0, nil, false, strictjson.At(path, ErrInvalid, "iant:attribute %q is not key=value", value)
			}
			if attrs == nil {
				attrs = map[string]string{}
			}
			attrs[k] = val
		}
	}
	return
}

// tagAt reads the name of tag object t, split into name and value.
func tagAt(t strictjson.Value) (name, value, path string, err error) {
	f := t.Field("name")
	s, err := f.String()
	if err != nil {
		return "", "", "", err
	}
	name, value, _ = parseTag(s)
	return name, value, f.Path(), nil
}

func cutEq(s string) (k, v string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], i > 0
		}
	}
	return "", "", false
}
