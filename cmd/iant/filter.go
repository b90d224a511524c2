package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// filterFlags are the bulletin filters shared by list and tail.
type filterFlags struct {
	origins, regions, categories, precedences, markings []string
	since, until                                        string
}

func (f *filterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.origins, "origin", nil, "origin state codes")
	fl.StringSliceVar(&f.regions, "region", nil, "origin regions (north-america, central-america, caribbean, south-america)")
	fl.StringSliceVar(&f.categories, "category", nil, "categories, e.g. cbrn")
	fl.StringSliceVar(&f.precedences, "precedence", nil, "precedences, e.g. flash,immediate")
	fl.StringSliceVar(&f.markings, "marking", nil, "markings, e.g. amber,red")
	fl.StringVar(&f.since, "since", "", "created at or after: an RFC 3339 time, a date (2026-12-01) or a duration ago such as 24h or 7d")
	fl.StringVar(&f.until, "until", "", "created before: a time, a date or a duration ago, like --since")
}

// toProto converts the flags, naming the first bad value.
func (f *filterFlags) toProto(now time.Time) (*iantv1.BulletinFilter, error) {
	p := &iantv1.BulletinFilter{}
	for _, o := range f.origins {
		o = strings.ToUpper(strings.TrimSpace(o))
		if !region.IsMember(o) {
			return nil, usagef("--origin: %q is not an OAS member state code", o)
		}
		p.Origins = append(p.Origins, o)
	}
	for _, s := range f.regions {
		r, err := region.Parse(s)
		if err != nil {
			return nil, usagef("--region: %v", err)
		}
		p.Regions = append(p.Regions, iantv1.Region(r))
	}
	for _, s := range f.categories {
		c, err := bulletin.ParseCategory(s)
		if err != nil {
			return nil, usagef("--category: %v", err)
		}
		p.Categories = append(p.Categories, iantv1.Category(c))
	}
	for _, s := range f.precedences {
		c, err := bulletin.ParsePrecedence(s)
		if err != nil {
			return nil, usagef("--precedence: %v", err)
		}
		p.Precedences = append(p.Precedences, iantv1.Precedence(c))
	}
	for _, s := range f.markings {
		c, err := bulletin.ParseMarking(s)
		if err != nil {
			return nil, usagef("--marking: %v", err)
		}
		p.Markings = append(p.Markings, iantv1.Marking(c))
	}
	for name, s := range map[string]string{"--since": f.since, "--until": f.until} {
		if s == "" {
			continue
		}
		t, err := parseTime(name, s, now, past)
		if err != nil {
			return nil, err
		}
		if name == "--since" {
			p.Since = timestamppb.New(t)
		} else {
			p.Until = timestamppb.New(t)
		}
	}
	return p, nil
}
