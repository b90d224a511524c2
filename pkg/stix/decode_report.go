package stix

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// Imported is a report of a bundle read as a bulletin.
type Imported struct {
	// Bulletin holds what the report says. The fields the node sets (id,
	// origin, author, times, recipients) are filled only from a report
	// IANT wrote; [Imported.Draft] clears them for posting.
	Bulletin bulletin.Bulletin
	// Modified is the report's version.
	Modified time.Time
	// Path is the report's JSON path, e.g. "objects[3]".
	Path string
	// Objects are the ids of the report and of the objects it brought
	// (indicators, persons, weapons), in order.
	Objects []string
	// Defaulted names the properties the report lacked and that took
	// IANT's default: x_iant_precedence (routine), labels (category
	// other), lang (en).
	Defaulted []string
	// fields maps bulletin fields (as problem.Error names them) to JSON
	// paths of the report, to name the path of a validation error.
	fields map[string]string
}

func decodeReport(o *object, byID map[string]*object) (Imported, error) {
	v := o.v
	im := Imported{Modified: o.modified, Path: v.Path(), Objects: []string{o.id}, fields: map[string]string{}}
	b := &im.Bulletin
	field := func(name, prop string) strictjson.Value {
		f := v.Field(prop)
		im.fields[name] = f.Path()
		return f
	}
	var err error
	if o.marking == 0 {
		return im, strictjson.At(strictjson.Join(v.Path(), "object_marking_refs"), ErrMarking, "a report needs a TLP 2.0 marking")
	}
	b.Marking = o.marking
	im.fields["marking"] = strictjson.Join(v.Path(), "object_marking_refs")
	if b.Title, err = field("title", "name").String(); err != nil {
		return im, err
	}
	if b.Body, err = field("body", "description").OptString(); err != nil {
		return im, err
	}
	if b.CreatedAt, err = v.Field("published").Time(true); err != nil {
		return im, err
	}
	if b.Revoked, err = v.Field("revoked").OptBool(); err != nil {
		return im, err
	}
	if ref, _ := v.Field("created_by_ref").OptString(); ref != "" {
		b.Origin, _ = StateOf(ref)
		im.fields["origin"] = strictjson.Join(v.Path(), "created_by_ref")
	}
	if err := decodeEnums(&im, field); err != nil {
		return im, err
	}
	if err := decodeIANT(&im, field); err != nil {
		return im, err
	}
	return im, decodeRefs(&im, o, byID)
}

// decodeEnums reads precedence, category, language and grading, giving
// the first three IANT's default when absent.
func decodeEnums(im *Imported, field func(name, prop string) strictjson.Value) error {
	b := &im.Bulletin
	f := field("precedence", "x_iant_precedence")
	if s, err := f.OptString(); err != nil {
		return err
	} else if s == "" {
		b.Precedence = bulletin.Routine
		im.Defaulted = append(im.Defaulted, "x_iant_precedence (routine)")
	} else if b.Precedence, err = bulletin.ParsePrecedence(s); err != nil {
		return f.Errorf("%v", err)
	}
	f = field("category", "labels")
	labels, err := f.Strings(64)
	if err != nil {
		return err
	}
	for i, l := range labels {
		c, err := bulletin.ParseCategory(l)
		if err != nil {
			continue // other labels are not mapped
		}
		if b.Category != 0 && c != b.Category {
			return strictjson.At(strictjson.Index(f.Path(), i), ErrInvalid, "a second IANT category (%s after %s)", c, b.Category)
		}
		b.Category = c
	}
	if b.Category == 0 {
		b.Category = bulletin.CategoryOther
		im.Defaulted = append(im.Defaulted, "labels (category other)")
	}
	f = field("language", "lang")
	if s, err := f.OptString(); err != nil {
		return err
	} else if s == "" {
		b.Language = bulletin.English
		im.Defaulted = append(im.Defaulted, "lang (en)")
	} else if b.Language, err = bulletin.ParseLanguage(s); err != nil {
		return f.Errorf("language %q is not one of the OAS's (es, en, pt, fr)", s)
	}
	f = field("source_grading", "x_iant_grading")
	if s, err := f.OptString(); err != nil {
		return err
	} else if s != "" {
		if b.Grading, err = bulletin.ParseGrading(s); err != nil {
			return f.Errorf("%v", err)
		}
	}
	return nil
}

// decodeIANT reads the x_iant_* properties of a report.
func decodeIANT(im *Imported, field func(name, prop string) strictjson.Value) error {
	b := &im.Bulletin
	var err error
	strs := []struct {
		name, prop string
		dst        *string
	}{
		{"id", "x_iant_bulletin_id", &b.ID}, {"author", "x_iant_author", &b.Author},
		{"conditions", "x_iant_conditions", &b.Conditions}, {"revises", "x_iant_revises", &b.Revises},
		{"supersedes", "x_iant_supersedes", &b.Supersedes},
	}
	for _, s := range strs {
		if *s.dst, err = field(s.name, s.prop).OptString(); err != nil {
			return err
		}
	}
	if b.ExpiresAt, err = field("expire_time", "x_iant_expires").OptTime(true); err != nil {
		return err
	}
	f := field("caveats", "x_iant_caveats")
	cs, err := f.Strings(bulletin.MaxCaveats)
	if err != nil {
		return err
	}
	for i, s := range cs {
		c, err := bulletin.ParseCaveat(s)
		if err != nil {
			return strictjson.At(strictjson.Index(f.Path(), i), ErrInvalid, "%v", err)
		}
		b.Caveats = append(b.Caveats, c)
	}
	if b.Recipients, err = field("recipients", "x_iant_recipients").Strings(64); err != nil {
		return err
	}
	f = field("releasability", "x_iant_releasability")
	im.fields["releasability.states"] = strictjson.Join(f.Path(), "states")
	im.fields["releasability.regions"] = strictjson.Join(f.Path(), "regions")
	if !f.Exists() {
		return nil
	}
	if err := f.Object(); err != nil {
		return err
	}
	if b.Releasability.States, err = f.Field("states").Strings(64); err != nil {
		return err
	}
	if b.Releasability.All, err = f.Field("all").OptBool(); err != nil {
		return err
	}
	rs, err := f.Field("regions").Strings(8)
	if err != nil {
		return err
	}
	for i, s := range rs {
		g, err := region.Parse(s)
		if err != nil {
			return strictjson.At(strictjson.Index(f.Field("regions").Path(), i), ErrInvalid, "unknown region %q", s)
		}
		b.Releasability.Regions = append(b.Releasability.Regions, g)
	}
	return nil
}

// decodeRefs reads the report's object_refs: its indicators, persons and
// weapons, in order.
func decodeRefs(im *Imported, rep *object, byID map[string]*object) error {
	f := rep.v.Field("object_refs")
	refs, err := f.Strings(MaxObjects)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return f.Errorf("a report refers to at least one object")
	}
	for i, ref := range refs {
		path := strictjson.Index(f.Path(), i)
		typ, _, _ := strings.Cut(ref, "--")
		o := byID[ref]
		switch {
		case !checkID(ref, typ):
			return strictjson.At(path, ErrInvalid, "%q is not a STIX id", ref)
		case typ == TypeMarkingDefinition || typ == TypeIdentity && o == nil:
			continue // the origin's identity, or a marking: not content
		case typ != TypeIndicator && typ != TypeWeapon && typ != TypeIdentity:
			return strictjson.At(path, ErrUnknownType, "refers to a %q, which IANT does not map", typ)
		case o == nil:
			return strictjson.At(path, ErrInvalid, "%s is not in the bundle", ref)
		}
		if o.marking != 0 && o.marking != im.Bulletin.Marking {
			return strictjson.At(strictjson.Join(o.v.Path(), "object_marking_refs"), ErrMarking,
				"marked %s, its report %s: IANT marks whole bulletins", o.marking, im.Bulletin.Marking)
		}
		ins, err := decodeIndicators(o)
		if err != nil {
			return err
		}
		for _, in := range ins {
			im.fields["indicators["+strconv.Itoa(len(im.Bulletin.Indicators))+"]"] = o.v.Path()
			im.Bulletin.Indicators = append(im.Bulletin.Indicators, in)
		}
		if len(ins) > 0 {
			o.used = true
			im.Objects = append(im.Objects, o.id)
		}
	}
	return nil
}

// decodeIndicators reads the IANT indicators of an indicator, person or
// weapon object: one per comparison of a pattern.
func decodeIndicators(o *object) ([]bulletin.Indicator, error) {
	v := o.v
	var in bulletin.Indicator
	var err error
	if in.Description, err = v.Field("description").OptString(); err != nil {
		return nil, err
	}
	if in.Attributes, err = stringMap(v.Field("x_iant_attributes")); err != nil {
		return nil, err
	}
	switch o.typ {
	case TypeIdentity:
		if class, err := v.Field("identity_class").OptString(); err != nil || class != "individual" {
			return nil, err // an organization: not an indicator
		}
		in.Type = bulletin.IndicatorPerson
		in.Value, err = v.Field("name").String()
		return []bulletin.Indicator{in}, err
	case TypeWeapon:
		in.Type = bulletin.IndicatorWeapon
		in.Value, err = v.Field("name").String()
		return []bulletin.Indicator{in}, err
	}
	if pt, err := v.Field("pattern_type").String(); err != nil {
		return nil, err
	} else if pt != "stix" {
		return nil, strictjson.At(strictjson.Join(v.Path(), "pattern_type"), ErrPattern, "pattern_type %q is not supported (only stix)", pt)
	}
	if _, err := v.Field("valid_from").Time(true); err != nil {
		return nil, err
	}
	src, err := v.Field("pattern").String()
	if err != nil {
		return nil, err
	}
	p, err := ParsePattern(src)
	if err != nil {
		return nil, strictjson.At(strictjson.Join(v.Path(), "pattern"), ErrPattern, "%v", err)
	}
	var out []bulletin.Indicator
	for _, c := range p.Comparisons {
		in := in
		in.Type, in.Value = c.Type(), c.Value
		out = append(out, in)
	}
	return out, nil
}

// stringMap reads an object of strings (absent: nil).
func stringMap(v strictjson.Value) (map[string]string, error) {
	if !v.Exists() {
		return nil, nil
	}
	if err := v.Object(); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, k := range v.Keys() {
		s, err := v.Field(k).String()
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(k) {
			return nil, v.Errorf("key is not UTF-8")
		}
		m[k] = s
	}
	return m, nil
}
