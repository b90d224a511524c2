package stix

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// Limits of what IANT decodes.
const (
	// MaxBundleBytes bounds a bundle (or a TAXII envelope) IANT reads.
	MaxBundleBytes = 4 << 20
	// MaxObjects bounds the objects of one bundle.
	MaxObjects = 2048
)

// Limits returns the strict JSON limits of a bundle or a TAXII envelope.
func Limits() strictjson.Limits {
	return strictjson.Limits{MaxBytes: MaxBundleBytes, MaxDepth: 16, MaxElems: MaxObjects}
}

// ObjectInfo is one object of a decoded bundle: what TAXII's status
// resource reports per object.
type ObjectInfo struct {
	ID      string
	Type    string
	Version time.Time // modified, or created
	Path    string    // e.g. "objects[3]"
}

// Decoded is what a bundle holds, as IANT reads it.
type Decoded struct {
	// Bulletins are the bundle's reports with their indicators, in the
	// order of the reports.
	Bulletins []Imported
	// Replies are the bundle's sightings and notes.
	Replies []Reply
	// Objects lists every object of the bundle, in order.
	Objects []ObjectInfo
}

// DecodeBundle reads a STIX 2.1 bundle strictly (see [DecodeObjects]).
func DecodeBundle(data []byte) (*Decoded, error) {
	doc, err := strictjson.Parse(data, Limits())
	if err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	if err := doc.Object(); err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	if typ, err := doc.Field("type").String(); err != nil || typ != TypeBundle {
		return nil, fmt.Errorf("stix: %w", strictjson.At("type", ErrInvalid, "a STIX bundle has type \"bundle\""))
	}
	if id, err := doc.Field("id").String(); err != nil || !checkID(id, TypeBundle) {
		return nil, fmt.Errorf("stix: %w", strictjson.At("id", ErrInvalid, "a bundle id is \"bundle--\" and a UUID"))
	}
	return DecodeObjects(doc.Field("objects"))
}

// DecodeObjects reads the objects of a bundle or of a TAXII envelope (an
// array). It refuses, naming the JSON path of the first problem: objects
// of types IANT does not map, markings other than TLP 2.0, patterns
// [ParsePattern] refuses, indicators no report refers to, an id given
// twice, and any value of the wrong type or out of range.
func DecodeObjects(objects strictjson.Value) (*Decoded, error) {
	d, err := decodeObjects(objects)
	if err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	return d, nil
}

// object is one object of the bundle after the common checks.
type object struct {
	v        strictjson.Value
	typ, id  string
	created  time.Time
	modified time.Time
	marking  bulletin.Marking // 0: none given
	used     bool             // referred to by a report
}

func decodeObjects(objects strictjson.Value) (*Decoded, error) {
	elems, err := objects.Array()
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, objects.Errorf("no objects")
	}
	byID := map[string]*object{}
	var all []*object
	d := &Decoded{}
	for _, v := range elems {
		o, err := decodeCommon(v)
		if err != nil {
			return nil, err
		}
		if prev, dup := byID[o.id]; dup {
			return nil, strictjson.At(strictjson.Join(v.Path(), "id"), ErrInvalid, "%s is given twice (also at %s); IANT reads one version of each object", o.id, prev.v.Path())
		}
		byID[o.id] = o
		all = append(all, o)
		d.Objects = append(d.Objects, ObjectInfo{ID: o.id, Type: o.typ, Version: o.modified, Path: v.Path()})
	}
	for _, o := range all {
		if o.typ != TypeReport {
			continue
		}
		im, err := decodeReport(o, byID)
		if err != nil {
			return nil, err
		}
		d.Bulletins = append(d.Bulletins, im)
	}
	for _, o := range all {
		// An identity that created objects (e.g. an analyst of another
		// tool, class individual) is a reference, not a loose person.
		if ref, _ := o.v.Field("created_by_ref").OptString(); byID[ref] != nil {
			byID[ref].used = true
		}
	}
	for _, o := range all {
		if err := checkUsed(o); err != nil {
			return nil, err
		}
		if o.typ == TypeNote || o.typ == TypeSighting {
			r, err := decodeReply(o, d.Bulletins)
			if err != nil {
				return nil, err
			}
			d.Replies = append(d.Replies, r)
		}
	}
	return d, nil
}

// mappedTypes are the object types IANT reads; stixTypes the other STIX
// 2.1 types, named as such when refused.
var mappedTypes = []string{TypeReport, TypeIndicator, TypeIdentity, TypeMarkingDefinition, TypeNote, TypeSighting, TypeWeapon}
var stixTypes = []string{"attack-pattern", "campaign", "course-of-action", "grouping", "infrastructure", "intrusion-set",
	"location", "malware", "malware-analysis", "observed-data", "opinion", "threat-actor", "tool", "vulnerability",
	"relationship", "language-content", "extension-definition", "artifact", "autonomous-system", "directory",
	"domain-name", "email-addr", "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
	"network-traffic", "process", "software", "url", "user-account", "windows-registry-key", "x509-certificate"}

// decodeCommon checks what every object must have: a mapped type, an id
// of that type, spec_version 2.1, timestamps, and TLP 2.0 markings only.
func decodeCommon(v strictjson.Value) (*object, error) {
	if err := v.Object(); err != nil {
		return nil, err
	}
	typ, err := v.Field("type").String()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(mappedTypes, typ) {
		what := "unknown object type"
		if slices.Contains(stixTypes, typ) {
			what = "STIX type"
		}
		return nil, strictjson.At(strictjson.Join(v.Path(), "type"), ErrUnknownType, "%s %q is not one IANT maps (want one of %s)", what, typ, strings.Join(mappedTypes, ", "))
	}
	o := &object{v: v, typ: typ}
	if o.id, err = v.Field("id").String(); err != nil {
		return nil, err
	}
	if !checkID(o.id, typ) {
		return nil, v.Field("id").Errorf("%q is not %q followed by a UUID", o.id, typ+"--")
	}
	if sv, err := v.Field("spec_version").String(); err != nil {
		return nil, err
	} else if sv != SpecVersion {
		return nil, v.Field("spec_version").Errorf("spec_version %q: IANT reads STIX 2.1 only", sv)
	}
	if v.Field("granular_markings").Exists() {
		return nil, strictjson.At(strictjson.Join(v.Path(), "granular_markings"), ErrMarking, "granular markings are not supported: IANT marks whole bulletins")
	}
	if typ == TypeMarkingDefinition {
		return o, decodeMarkingDefinition(o)
	}
	if o.created, err = v.Field("created").Time(true); err != nil {
		return nil, err
	}
	if o.modified, err = v.Field("modified").Time(true); err != nil {
		return nil, err
	}
	if o.modified.Before(o.created) {
		return nil, v.Field("modified").Errorf("modified is before created")
	}
	if ref, err := v.Field("created_by_ref").OptString(); err != nil {
		return nil, err
	} else if ref != "" && !checkID(ref, TypeIdentity) {
		return nil, v.Field("created_by_ref").Errorf("%q is not an identity id", ref)
	}
	o.marking, err = decodeMarkingRefs(v.Field("object_marking_refs"))
	return o, err
}

// decodeMarkingRefs reads object_marking_refs: at most one marking, and
// that a TLP 2.0 definition.
func decodeMarkingRefs(v strictjson.Value) (bulletin.Marking, error) {
	refs, err := v.Strings(8)
	if err != nil {
		return 0, err
	}
	var m bulletin.Marking
	for i, ref := range refs {
		path := strictjson.Index(v.Path(), i)
		got, ok := MarkingOf(ref)
		switch {
		case tlp1IDs[ref] != "":
			return 0, strictjson.At(path, ErrMarking, "%s is TLP 1.0 (%s); IANT accepts only TLP 2.0 markings", ref, tlp1IDs[ref])
		case !ok:
			return 0, strictjson.At(path, ErrMarking, "%q is not a TLP 2.0 marking definition", ref)
		case m != 0 && got != m:
			return 0, strictjson.At(path, ErrMarking, "a second TLP marking (%s after %s)", got, m)
		}
		m = got
	}
	return m, nil
}

// decodeMarkingDefinition accepts only the five official TLP 2.0
// definitions, as published.
func decodeMarkingDefinition(o *object) error {
	v := o.v
	m, ok := MarkingOf(o.id)
	if !ok {
		if name := tlp1IDs[o.id]; name != "" {
			return strictjson.At(strictjson.Join(v.Path(), "id"), ErrMarking, "%s is TLP 1.0 (%s); IANT accepts only TLP 2.0 markings", o.id, name)
		}
		return strictjson.At(strictjson.Join(v.Path(), "id"), ErrMarking, "%q is not one of the TLP 2.0 marking definitions", o.id)
	}
	var err error
	if o.created, err = v.Field("created").Time(true); err != nil {
		return err
	}
	o.modified = o.created
	if v.Field("definition_type").Exists() || v.Field("definition").Exists() {
		return strictjson.At(strictjson.Join(v.Path(), "definition_type"), ErrMarking, "a TLP 2.0 marking definition has no definition_type (that is TLP 1.0)")
	}
	ext := v.Field("extensions").Field(TLPExtensionID).Field("tlp_2_0")
	if got, err := ext.OptString(); err != nil {
		return err
	} else if got != "" && got != m.String() {
		return strictjson.At(ext.Path(), ErrMarking, "%q does not match the definition's id (%s)", got, m)
	}
	if name, err := v.Field("name").OptString(); err != nil {
		return err
	} else if name != "" && name != tlpName(m) {
		return strictjson.At(strictjson.Join(v.Path(), "name"), ErrMarking, "%q does not match the definition's id (%s)", name, tlpName(m))
	}
	return nil
}

// checkUsed refuses indicators and observables no report refers to: IANT
// imports reports with their indicators, never loose ones.
func checkUsed(o *object) error {
	loose := o.typ == TypeIndicator || o.typ == TypeWeapon
	if o.typ == TypeIdentity {
		class, _ := o.v.Field("identity_class").OptString()
		loose = class == "individual"
	}
	if loose && !o.used {
		return strictjson.At(o.v.Path(), ErrInvalid, "%s is not referred to by any report (IANT imports reports with their indicators)", o.id)
	}
	return nil
}
