package stix

import (
	"errors"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// Draft returns the bulletin to post for state poster: without the fields
// the node sets (id, origin, author, times, recipients). It refuses, with
// [ErrProvenance], a report IANT issued for another state — only that
// state posts it; others share it onward with a forward, which the policy
// decides — and a revoked report.
func (im Imported) Draft(poster string) (bulletin.Bulletin, error) {
	b := im.Bulletin
	switch {
	case b.Origin != "" && b.Origin != poster:
		return b, strictjson.At(strictjson.Join(im.Path, "created_by_ref"), ErrProvenance,
			"this report was issued by %s through IANT; %s may not post it as its own (share it with a forward)", b.Origin, poster)
	case b.Revoked:
		return b, strictjson.At(strictjson.Join(im.Path, "revoked"), ErrProvenance, "a revoked report is not a new bulletin")
	}
	b.ID, b.Origin, b.Author, b.Recipients = "", "", "", nil
	b.CreatedAt = time.Time{}
	b.Revises, b.Supersedes = "", ""
	return b, nil
}

// Check validates draft d (from [Imported.Draft]) as a post would, and
// names the JSON path of the report property (or indicator object) of the
// first bad field.
func (im Imported) Check(d *bulletin.Bulletin) error {
	err := d.ValidateDraft()
	var p *problem.Error
	if err == nil || !errors.As(err, &p) {
		return err
	}
	return strictjson.At(im.PathOf(p.Field), ErrInvalid, "%s", p.Msg)
}

// PathOf returns the JSON path of the report property that holds bulletin
// field name (as problem.Error names fields, e.g. "title",
// "releasability.states", "indicators[2].value"); the report's own path
// when none does.
func (im Imported) PathOf(name string) string {
	if p, ok := im.fields[name]; ok {
		return p
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if p, ok := im.fields[name[:i]]; ok {
			return p
		}
	}
	if name == "releasability" {
		return strictjson.Join(im.Path, "x_iant_releasability")
	}
	return im.Path
}
