package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

const postLong = `Post a bulletin as a focal point of your state.

The bulletin is released to the states, regions (north-america,
central-america, caribbean, south-america) or "all" given by --release; the
node resolves them to recipient states (never your own: a bulletin that
would reach nobody is refused) and answers once every recipient's copy is
committed on the backbone.

-f reads the bulletin from a YAML or JSON file (one document; its fields are
the flags' names, with caveats and indicators as lists); flags given too
override it. Titles, bodies and indicators must be valid UTF-8 without
control or formatting characters (newlines and tabs are fine in the body).

Examples:
  iant post --title "Suspected FTF travel" --body "..." --release US,CA,caribbean \
      --precedence flash --category foreign-terrorist-fighter --marking amber
  iant post -f bulletin.yaml -o json
  ID=$(iant post -f bulletin.yaml --quiet)`

func newPostCmd(g *globals) *cobra.Command {
	var d draft
	var file, bodyFile string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "post",
		Short: "Post a bulletin (focal points)",
		Long:  postLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			pb, err := d.complete(cmd, file, bodyFile, time.Now())
			if err != nil {
				return err
			}
			conn, _, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := bulletinClient(conn).PostBulletin(cmd.Context(), &iantv1.PostBulletinRequest{Bulletin: pb})
			if err != nil {
				return err
			}
			b := resp.GetBulletin().GetBulletin()
			switch {
			case quiet:
				fmt.Fprintln(cmd.OutOrStdout(), b.GetId())
			case g.output == "json":
				return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "posted %s to %s: %s\n", b.GetId(), plural(len(b.GetRecipients()), "state"), strings.Join(b.GetRecipients(), ","))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the bulletin from a YAML or JSON file (flags given too override it)")
	f.StringVar(&d.Title, "title", "", "title")
	f.StringVar(&d.Body, "body", "", "body text")
	f.StringVar(&bodyFile, "body-file", "", "read the body from a file (not with --body)")
	f.StringSliceVar(&d.Release, "release", nil, "release to: comma-separated state codes, region names or all")
	f.StringVar(&d.Precedence, "precedence", "routine", "flash, immediate, priority or routine")
	f.StringVar(&d.Category, "category", "other", "category, e.g. cbrn, foreign-terrorist-fighter, arms-trafficking")
	f.StringVar(&d.Marking, "marking", "amber", "TLP 2.0 marking: clear, green, amber, amber+strict or red")
	f.StringVar(&d.Language, "language", "en", "es, en, pt or fr")
	f.StringVar(&d.Grading, "grading", "", "Admiralty source grading, e.g. B2")
	f.StringSliceVar(&d.Caveats, "caveat", nil, "handling caveat: law-enforcement-only, no-onward-sharing, originator-consent-required")
	f.StringVar(&d.Expires, "expires", "", "expiry: RFC 3339 time, a date (2026-12-31) or a duration such as 72h or 7d")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the new bulletin's id (for scripts)")
	return cmd
}

// plural writes n and the noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// complete merges the file and the body file into the flags' draft,
// checks its text and converts it, naming the flag or the file's field of
// the first bad value.
func (d *draft) complete(cmd *cobra.Command, file, bodyFile string, now time.Time) (*iantv1.Bulletin, error) {
	flags := cmd.Flags()
	if flags.Changed("body") && bodyFile != "" {
		return nil, usagef("--body and --body-file: give one of them, not both")
	}
	d.from = map[string]string{}
	if file != "" {
		if err := d.mergeFile(file, flags.Changed); err != nil {
			return nil, err
		}
	}
	if bodyFile != "" {
		b, err := os.ReadFile(bodyFile)
		if err != nil {
			return nil, usagef("--body-file: %v", err)
		}
		d.Body, d.from["body"] = string(b), "--body-file"
	}
	if err := d.checkText(); err != nil {
		return nil, err
	}
	return d.toProto(now)
}

// toProto converts the draft, naming the first bad value.
func (d *draft) toProto(now time.Time) (*iantv1.Bulletin, error) {
	p := &iantv1.Bulletin{Title: d.Title, Body: d.Body, Releasability: &iantv1.Releasability{}}
	if len(d.Release) == 0 {
		return nil, usagef("%s is required: state codes, region names or all", d.field("release"))
	}
	for _, r := range d.Release {
		if err := d.addRelease(p.Releasability, r); err != nil {
			return nil, err
		}
	}
	if err := d.enums(p); err != nil {
		return nil, err
	}
	if d.Expires != "" {
		t, err := parseTime(d.field("expires"), d.Expires, now, future)
		if err != nil {
			return nil, err
		}
		p.ExpireTime = timestamppb.New(t)
	}
	for i, in := range d.Indicators {
		t, err := bulletin.ParseIndicatorType(in.Type)
		if err != nil {
			return nil, usagef("%s: indicators[%d].type: %v", d.file, i, err)
		}
		p.Indicators = append(p.Indicators, &iantv1.Indicator{Type: iantv1.IndicatorType(t), Value: in.Value, Description: in.Description, Attributes: in.Attributes})
	}
	return p, nil
}

// enums parses the draft's enum fields into p.
func (d *draft) enums(p *iantv1.Bulletin) error {
	prec, err := bulletin.ParsePrecedence(d.Precedence)
	if err != nil {
		return usagef("%s: %v", d.field("precedence"), err)
	}
	cat, err := bulletin.ParseCategory(d.Category)
	if err != nil {
		return usagef("%s: %v", d.field("category"), err)
	}
	mark, err := bulletin.ParseMarking(d.Marking)
	if err != nil {
		return usagef("%s: %v", d.field("marking"), err)
	}
	lang, err := bulletin.ParseLanguage(d.Language)
	if err != nil {
		return usagef("%s: %v", d.field("language"), err)
	}
	p.Precedence, p.Category, p.Marking, p.Language = iantv1.Precedence(prec), iantv1.Category(cat), iantv1.Marking(mark), iantv1.Language(lang)
	if d.Grading != "" {
		g, err := bulletin.ParseGrading(d.Grading)
		if err != nil {
			return usagef("%s: %v", d.field("grading"), err)
		}
		p.SourceGrading = &iantv1.SourceGrading{Reliability: iantv1.SourceReliability(g.Reliability), Credibility: iantv1.InformationCredibility(g.Credibility)}
	}
	for _, c := range d.Caveats {
		cv, err := bulletin.ParseCaveat(c)
		if err != nil {
			return usagef("%s: %v", d.field("caveats"), err)
		}
		p.Caveats = append(p.Caveats, iantv1.Caveat(cv))
	}
	return nil
}

// addRelease adds one release item: "all", a region name or a state code.
func (d *draft) addRelease(r *iantv1.Releasability, item string) error {
	item = strings.TrimSpace(item)
	switch {
	case item == "":
		return usagef("%s: empty item", d.field("release"))
	case strings.EqualFold(item, "all"):
		r.All = true
	case len(item) == 2:
		r.States = append(r.States, strings.ToUpper(item))
	default:
		g, err := region.Parse(item)
		if err != nil {
			return usagef("%s: %q is neither a state code, a region nor all", d.field("release"), item)
		}
		r.Regions = append(r.Regions, iantv1.Region(g))
	}
	return nil
}
