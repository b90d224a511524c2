package main

import (
	"fmt"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/yamlfile"
)

// draft is a bulletin as a person writes it, on flags or in a YAML/JSON
// file (-f). Enum values are written as people type them: "flash", "cbrn",
// "amber+strict".
type draft struct {
	Title      string           `yaml:"title"`
	Body       string           `yaml:"body"`
	Release    []string         `yaml:"release"`
	Precedence string           `yaml:"precedence"`
	Category   string           `yaml:"category"`
	Marking    string           `yaml:"marking"`
	Language   string           `yaml:"language"`
	Grading    string           `yaml:"grading"`
	Caveats    []string         `yaml:"caveats"`
	Expires    string           `yaml:"expires"` // a time or a duration, see parseTime
	Indicators []draftIndicator `yaml:"indicators"`
	// ConfidentialAudience is --confidential-audience.
	ConfidentialAudience bool `yaml:"confidential_audience"`
	// Translations are the title and body in other languages (file only).
	Translations []draftTranslation `yaml:"translations"`

	file string            // the -f file, if any
	from map[string]string // field (yaml name) → where its value came from, when not its flag
}

type draftIndicator struct {
	Type        string            `yaml:"type"`
	Value       string            `yaml:"value"`
	Description string            `yaml:"description"`
	Attributes  map[string]string `yaml:"attributes"`
}

// draftTranslation is the title and body in another language than the
// draft's.
type draftTranslation struct {
	Language string `yaml:"language"`
	Title    string `yaml:"title"`
	Body     string `yaml:"body"`
}

// flagOf names the flag of each draft field whose flag name differs.
var flagOf = map[string]string{"caveats": "--caveat"}

// field names where the value of field (its YAML name) came from, for
// errors: its flag, or the file and field.
func (d *draft) field(name string) string {
	if src, ok := d.from[name]; ok {
		return src
	}
	if f, ok := flagOf[name]; ok {
		return f
	}
	return "--" + name
}

// mergeFile reads the -f file; fields whose flag was given (changed
// reports it) keep the flag's value.
func (d *draft) mergeFile(path string, changed func(flag string) bool) error {
	var f draft
	if err := yamlfile.Decode(path, &f); err != nil {
		return usagef("-f %v", err)
	}
	d.file = path
	str := func(name string, dst *string, v string) {
		if !changed(name) && v != "" {
			*dst, d.from[name] = v, path+": "+name
		}
	}
	str("title", &d.Title, f.Title)
	str("body", &d.Body, f.Body)
	str("precedence", &d.Precedence, f.Precedence)
	str("category", &d.Category, f.Category)
	str("marking", &d.Marking, f.Marking)
	str("language", &d.Language, f.Language)
	str("grading", &d.Grading, f.Grading)
	str("expires", &d.Expires, f.Expires)
	if !changed("release") && len(f.Release) > 0 {
		d.Release, d.from["release"] = f.Release, path+": release"
	}
	if !changed("caveat") && len(f.Caveats) > 0 {
		d.Caveats, d.from["caveats"] = f.Caveats, path+": caveats"
	}
	if !changed("confidential-audience") && f.ConfidentialAudience {
		d.ConfidentialAudience, d.from["confidential_audience"] = true, path+": confidential_audience"
	}
	d.Indicators = f.Indicators
	if len(f.Translations) > 0 {
		d.Translations = f.Translations
	}
	return nil
}

// textField is one piece of a draft's text and where it came from.
type textField struct {
	name, s string
	block   bool // newlines and tabs allowed (the body)
}

// checkText refuses text the node would refuse, or that could not even be
// sent (a gRPC string must be UTF-8), naming the flag or file field:
// invalid UTF-8, control and formatting characters (see
// bulletin.CheckLine).
func (d *draft) checkText() error {
	fields := []textField{{d.field("title"), d.Title, false}, {d.field("body"), d.Body, true}}
	for _, r := range d.Release {
		fields = append(fields, textField{d.field("release"), r, false})
	}
	for i, in := range d.Indicators {
		f := fmt.Sprintf("%s: indicators[%d]", d.file, i)
		fields = append(fields, textField{f + ".value", in.Value, false}, textField{f + ".description", in.Description, false})
		for k, v := range in.Attributes {
			fields = append(fields, textField{f + ".attributes", k, false}, textField{f + ".attributes", v, false})
		}
	}
	for i, tr := range d.Translations {
		f := fmt.Sprintf("%s: translations[%d]", d.file, i)
		fields = append(fields, textField{f + ".title", tr.Title, false}, textField{f + ".body", tr.Body, true})
	}
	for _, f := range fields {
		check := bulletin.CheckLine
		if f.block {
			check = bulletin.CheckBlock
		}
		if err := check(f.name, f.s); err != nil {
			return usagef("%s", err.Error())
		}
	}
	return nil
}

// translations converts the draft's translations into p, naming the
// file's field of a bad language.
func (d *draft) translations(p *iantv1.Bulletin) error {
	for i, tr := range d.Translations {
		l, err := bulletin.ParseLanguage(tr.Language)
		if err != nil {
			return usagef("%s: translations[%d].language: %v", d.file, i, err)
		}
		p.Translations = append(p.Translations, &iantv1.Translation{Language: iantv1.Language(l), Title: tr.Title, Body: tr.Body})
	}
	return nil
}
