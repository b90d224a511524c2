package stix

import (
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// decodeReply reads a note or a sighting as a reply. Ref is the report or
// indicator it refers to; when that is an indicator of a bulletin in the
// same bundle, Of and OfIndex name it.
func decodeReply(o *object, bulletins []Imported) (Reply, error) {
	v := o.v
	r := Reply{CreatedAt: o.created, Marking: o.marking}
	if r.Marking == 0 {
		return r, strictjson.At(strictjson.Join(v.Path(), "object_marking_refs"), ErrMarking, "a %s needs a TLP 2.0 marking", o.typ)
	}
	if ref, _ := v.Field("created_by_ref").OptString(); ref != "" {
		r.Origin, _ = StateOf(ref)
	}
	var err error
	for _, f := range []struct {
		prop string
		dst  *string
	}{{"x_iant_reply_id", &r.ID}, {"x_iant_bulletin_id", &r.Bulletin}, {"x_iant_bulletin_origin", &r.BulletinOrigin},
		{"x_iant_author", &r.Author}} {
		if *f.dst, err = v.Field(f.prop).OptString(); err != nil {
			return r, err
		}
	}
	if o.typ == TypeSighting {
		return r, decodeSighting(&r, v, bulletins)
	}
	if r.Body, err = v.Field("content").String(); err != nil {
		return r, err
	}
	if r.Subject, err = v.Field("abstract").OptString(); err != nil {
		return r, err
	}
	f := v.Field("x_iant_reply_kind")
	switch kind, err := f.OptString(); {
	case err != nil:
		return r, err
	case kind == "" || kind == "note":
		r.Kind = ReplyNote
	case kind == "rfi":
		r.Kind = ReplyRFI
	default:
		return r, f.Errorf("reply kind %q is neither note nor rfi", kind)
	}
	f = v.Field("object_refs")
	refs, err := f.Strings(MaxObjects)
	if err != nil {
		return r, err
	}
	for _, ref := range refs {
		if checkID(ref, TypeReport) {
			r.Ref = ref
			break
		}
	}
	if r.Ref == "" {
		return r, f.Errorf("a note IANT reads refers to a report")
	}
	if len(r.Body) > bulletin.MaxBodyBytes {
		return r, v.Field("content").Errorf("content is %d bytes, the limit is %d", len(r.Body), bulletin.MaxBodyBytes)
	}
	return r, nil
}

func decodeSighting(r *Reply, v strictjson.Value, bulletins []Imported) error {
	r.Kind = ReplySighting
	var err error
	if r.Body, err = v.Field("description").OptString(); err != nil {
		return err
	}
	if r.FirstSeen, err = v.Field("first_seen").OptTime(true); err != nil {
		return err
	}
	if r.LastSeen, err = v.Field("last_seen").OptTime(true); err != nil {
		return err
	}
	if c := v.Field("count"); c.Exists() {
		n, err := c.Int(0, 999999999)
		if err != nil {
			return err
		}
		r.Count = int(n)
	}
	f := v.Field("sighting_of_ref")
	if r.Ref, err = f.String(); err != nil {
		return err
	}
	if !checkID(r.Ref, TypeReport) && !checkID(r.Ref, TypeIndicator) && !checkID(r.Ref, TypeIdentity) && !checkID(r.Ref, TypeWeapon) {
		return f.Errorf("%q: IANT reads sightings of reports and indicators", r.Ref)
	}
	r.Of, r.OfIndex = findIndicator(r.BulletinOrigin, r.Bulletin, r.Ref, bulletins)
	return nil
}

// findIndicator finds the indicator with STIX id ref among those of the
// decoded bulletins of origin whose first version is first ("" origin:
// of any origin).
func findIndicator(origin, first, ref string, bulletins []Imported) (*bulletin.Indicator, int) {
	if first == "" {
		return nil, 0
	}
	for _, im := range bulletins {
		if origin != "" && im.Bulletin.Origin != origin {
			continue
		}
		seen := map[string]int{}
		for _, in := range im.Bulletin.Indicators {
			key := in.Type.String() + "\x00" + in.Value
			n := seen[key]
			seen[key]++
			if IndicatorID(im.Bulletin.Origin, first, in, n) == ref {
				found := in
				return &found, n
			}
		}
	}
	return nil, 0
}
