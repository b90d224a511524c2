package misp

import (
	"slices"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// IANT's machine tags (namespace iant) and the taxonomies it uses.
const (
	tagPrecedence = "iant:precedence"
	tagCategory   = "iant:category"
	tagCaveat     = "iant:caveat"
	tagRelease    = "iant:release" // a state code, a region slug or all
	tagRecipient  = "iant:recipient"
	tagLanguage   = "iant:language"
	tagBulletinID = "iant:bulletin-id"
	tagAuthor     = "iant:author"
	tagExpires    = "iant:expires"
	tagRevises    = "iant:revises"
	tagSupersedes = "iant:supersedes"
	tagRevoked    = "iant:revoked"
	tagField      = "iant:field"     // on the body attribute: "body"
	tagIndicator  = "iant:indicator" // on an attribute: the indicator type
	tagAttribute  = "iant:attribute" // on an attribute: key=value of an indicator attribute
	tagTLP        = "tlp"
	tagAdmRel     = "admiralty-scale:source-reliability"
	tagAdmCred    = "admiralty-scale:information-credibility"
)

// machineTag writes name="value", escaping '%' and '"' in value.
func machineTag(name, value string) Tag {
	v := strings.NewReplacer("%", "%25", `"`, "%22").Replace(value)
	return Tag{Name: name + `="` + v + `"`}
}

// parseTag splits a tag into its name and value: `ns:pred="v"` gives
// ("ns:pred", "v", true); a tag without a value gives (tag, "", false).
func parseTag(tag string) (name, value string, hasValue bool) {
	name, v, ok := strings.Cut(tag, "=")
	if !ok {
		return tag, "", false
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
	return name, strings.NewReplacer("%22", `"`, "%25", "%").Replace(v), true
}

// tagsOf returns the event tags of bulletin b.
func tagsOf(b *bulletin.Bulletin) []Tag {
	tags := []Tag{{Name: tagTLP + ":" + b.Marking.String(), Colour: tlpColour[b.Marking]}}
	if !b.Grading.IsZero() {
		g := b.Grading.String()
		tags = append(tags, machineTag(tagAdmRel, strings.ToLower(g[:1])), machineTag(tagAdmCred, g[1:]))
	}
	tags = append(tags, machineTag(tagPrecedence, b.Precedence.String()), machineTag(tagCategory, b.Category.String()),
		machineTag(tagLanguage, b.Language.String()))
	for _, c := range b.Caveats {
		tags = append(tags, machineTag(tagCaveat, c.String()))
	}
	if b.Releasability.All {
		tags = append(tags, machineTag(tagRelease, "all"))
	}
	for _, s := range b.Releasability.States {
		tags = append(tags, machineTag(tagRelease, s))
	}
	for _, r := range b.Releasability.Regions {
		tags = append(tags, machineTag(tagRelease, r.String()))
	}
	for _, r := range b.Recipients {
		tags = append(tags, machineTag(tagRecipient, r))
	}
	strs := []struct{ name, v string }{{tagBulletinID, b.ID}, {tagAuthor, b.Author}, {tagRevises, b.Revises}, {tagSupersedes, b.Supersedes}}
	for _, s := range strs {
		if s.v != "" {
			tags = append(tags, machineTag(s.name, s.v))
		}
	}
	if !b.ExpiresAt.IsZero() {
		tags = append(tags, machineTag(tagExpires, b.ExpiresAt.UTC().Format(time.RFC3339Nano)))
	}
	if b.Revoked {
		tags = append(tags, Tag{Name: tagRevoked})
	}
	return tags
}

// tlpColour are the colours of MISP's tlp taxonomy.
var tlpColour = map[bulletin.Marking]string{
	bulletin.Clear: "#ffffff", bulletin.Green: "#339900", bulletin.Amber: "#ffc000",
	bulletin.AmberStrict: "#ffc000", bulletin.Red: "#cc0033",
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
