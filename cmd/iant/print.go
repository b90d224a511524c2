package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/region"
)

var jsonOpts = protojson.MarshalOptions{Multiline: false, EmitUnpopulated: false}

// printJSON writes one message as a line of JSON.
func printJSON(w io.Writer, m proto.Message) error {
	b, err := jsonOpts.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func fmtTime(ts interface{ AsTime() time.Time }, valid bool) string {
	if !valid {
		return "-"
	}
	return ts.AsTime().UTC().Format("2006-01-02 15:04:05Z")
}

func releaseString(r *iantv1.Releasability) string {
	if r.GetAll() {
		return "all"
	}
	parts := append([]string{}, r.GetStates()...)
	for _, g := range r.GetRegions() {
		parts = append(parts, region.Region(g).String())
	}
	return strings.Join(parts, ",")
}

func markingString(m iantv1.Marking) string {
	return "TLP:" + strings.ToUpper(bulletin.Marking(m).String())
}

// printTable writes bulletins as a human table.
func printTable(w io.Writer, recs []*iantv1.StoredBulletin, pref bulletin.Language) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CURSOR\tID\tORIGIN\tPRECEDENCE\tCATEGORY\tMARKING\tCREATED\tACK\tTITLE")
	for _, r := range recs {
		b := r.GetBulletin()
		ack := "-"
		if r.GetAcknowledgeTime() != nil {
			ack = "yes"
		}
		origin := escape.Line(b.GetOrigin())
		if r.GetForwardedBy() != "" {
			origin += " via " + escape.Line(r.GetForwardedBy())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.GetCursor(), escape.Line(b.GetId()), origin,
			strings.ToUpper(bulletin.Precedence(b.GetPrecedence()).String()), bulletin.Category(b.GetCategory()),
			markingString(b.GetMarking()), fmtTime(b.GetCreateTime(), b.GetCreateTime() != nil), ack, kindTag(r)+shownTitle(b, preferredFor(r, pref), 60))
	}
	return tw.Flush()
}

// printDetail writes one bulletin in full.
func printDetail(w io.Writer, r *iantv1.StoredBulletin, pref bulletin.Language) error {
	b := r.GetBulletin()
	text, note := shownText(b, preferredFor(r, pref))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	// A revoked bulletin's holders keep only its tombstone: say where
	// its title and body went rather than print them blank.
	revoked := r.GetState() == iantv1.BulletinState_BULLETIN_STATE_REVOKED && text.Title == "" && text.Body == ""
	row("ID", escape.Line(b.GetId()))
	if revoked {
		row("Title", "(removed by the revocation; the tombstone keeps who, when and why)")
	} else {
		row("Title", escape.Line(text.Title))
	}
	lifecycleRows(r, row)
	row("Origin", escape.Line(b.GetOrigin()))
	if r.GetForwardedBy() != "" {
		row("Forwarded by", escape.Line(r.GetForwardedBy()))
	}
	row("Author", escape.Line(b.GetAuthor()))
	row("Precedence", strings.ToUpper(bulletin.Precedence(b.GetPrecedence()).String()))
	row("Category", bulletin.Category(b.GetCategory()).String())
	row("Marking", markingString(b.GetMarking()))
	row("Language", note)
	if g := b.GetSourceGrading(); g != nil {
		row("Source grading", bulletin.Grading{Reliability: int(g.GetReliability()), Credibility: int(g.GetCredibility())}.String())
	}
	row("Released to", releaseString(b.GetReleasability()))
	row("Recipients", escape.Line(strings.Join(b.GetRecipients(), ",")))
	if b.GetConfidentialAudience() {
		row("Audience", "confidential (each recipient sees only its own state)")
	}
	if len(b.GetCaveats()) > 0 {
		var cs []string
		for _, c := range b.GetCaveats() {
			cs = append(cs, bulletin.Caveat(c).String())
		}
		row("Caveats", strings.Join(cs, ","))
	}
	row("Created", fmtTime(b.GetCreateTime(), b.GetCreateTime() != nil))
	if b.GetExpireTime() != nil {
		row("Expires", fmtTime(b.GetExpireTime(), true))
	}
	row("Direction", strings.ToLower(strings.TrimPrefix(r.GetDirection().String(), "DIRECTION_")))
	row("Stored", fmtTime(r.GetReceiveTime(), r.GetReceiveTime() != nil))
	if r.GetAcknowledgeTime() != nil {
		row("Acknowledged", fmtTime(r.GetAcknowledgeTime(), true)+" by "+escape.Line(r.GetAcknowledgedBy()))
	}
	row("Cursor", fmt.Sprint(r.GetCursor()))
	if err := tw.Flush(); err != nil {
		return err
	}
	if !revoked {
		fmt.Fprintf(w, "\n%s\n", escape.Block(text.Body))
	}
	for _, in := range b.GetIndicators() {
		fmt.Fprintf(w, "  - %s: %s", bulletin.IndicatorType(in.GetType()), escape.Line(in.GetValue()))
		if in.GetDescription() != "" {
			fmt.Fprintf(w, " (%s)", escape.Line(in.GetDescription()))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// oneLine fits hostile text s into one table cell of at most max
// characters: white space collapsed, anything unprintable escaped.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return escape.Line(s) // after cutting, so no escape is cut in two
}
