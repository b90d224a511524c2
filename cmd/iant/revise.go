package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
)

const reviseLong = `Publish a new revision of one of your state's bulletins (its focal points
only). The revision keeps the bulletin's id and carries the next revision
number; it is sealed, signed and delivered like a post. Readers see the
latest revision; iant get ID --history shows the earlier ones.

The revision starts from the bulletin as it is: -f FILE replaces the fields
the file gives (its indicators replace the bulletin's), and the flags given
replace the fields they name. Releasing to fewer states withdraws the
dropped states' copies (each confirms to the secretariat); releasing to
more sends the new states this revision only. A stricter marking is always
allowed; a looser one is a decision of its own policy rule, named when it
refuses. A revoked bulletin cannot be revised, nor can the expiry be put in
the past.

Examples:
  iant revise 01K… --body "Container number corrected: MSCU7654321."
  iant revise 01K… --release US,CA --marking amber+strict
  iant revise 01K… -f bulletin.yaml`

func newReviseCmd(g *globals) *cobra.Command {
	var flags draft
	var file, bodyFile string
	cmd := &cobra.Command{
		Use:   "revise ID",
		Short: "Publish a new revision of one of your state's bulletins (focal points)",
		Long:  reviseLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			if err := g.checkOutput(); err != nil {
				return err
			}
			conn, me, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			return g.revise(cmd, conn, me.State, id, &flags, file, bodyFile)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the new version from a YAML or JSON file (flags given too override it)")
	f.StringVar(&bodyFile, "body-file", "", "read the body from a file (not with --body)")
	registerDraftFlags(f, &flags, false)
	return cmd
}

// registerDraftFlags registers the flags of a bulletin's fields into d;
// with defaults, those a post assumes when they are not given.
func registerDraftFlags(f *pflag.FlagSet, d *draft, defaults bool) {
	def := func(v string) string {
		if defaults {
			return v
		}
		return ""
	}
	f.StringVar(&d.Title, "title", "", "title")
	f.StringVar(&d.Body, "body", "", "body text")
	f.StringSliceVar(&d.Release, "release", nil, "release to: comma-separated state codes, region names or all")
	f.StringVar(&d.Precedence, "precedence", def("routine"), "flash, immediate, priority or routine")
	f.StringVar(&d.Category, "category", def("other"), "category, e.g. cbrn, foreign-terrorist-fighter, arms-trafficking")
	f.StringVar(&d.Marking, "marking", def("amber"), "TLP 2.0 marking: clear, green, amber, amber+strict or red")
	f.StringVar(&d.Language, "language", def("en"), "es, en, pt or fr")
	f.StringVar(&d.Grading, "grading", "", "Admiralty source grading, e.g. B2")
	f.StringSliceVar(&d.Caveats, "caveat", nil, "handling caveat: law-enforcement-only, no-onward-sharing, originator-consent-required")
	f.StringVar(&d.Expires, "expires", "", "expiry: RFC 3339 time, a date (2026-12-31) or a duration such as 72h or 7d")
	f.BoolVar(&d.ConfidentialAudience, "confidential-audience", false, "keep the audience confidential: each recipient sees only its own state, replies go to you only (a confidential audience stays so)")
}

// revise fetches bulletin id of state own, applies the file and the flags
// given, and publishes the result as its next revision.
func (g *globals) revise(cmd *cobra.Command, conn *grpc.ClientConn, own, id string, flags *draft, file, bodyFile string) error {
	ctx := cmd.Context()
	cur, err := bulletinClient(conn).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: id, Origin: own})
	if status.Code(err) == codes.NotFound {
		// Another state's bulletin: the node refuses its revision, naming
		// the rule (only the origin's focal points revise).
		cur, err = bulletinClient(conn).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: id})
	}
	if err != nil {
		return err
	}
	d := draftFrom(cur.GetBulletin().GetBulletin())
	d.override(cmd.Flags(), flags)
	pb, err := d.complete(cmd, file, bodyFile, time.Now())
	if err != nil {
		return err
	}
	resp, err := bulletinClient(conn).ReviseBulletin(ctx, &iantv1.ReviseBulletinRequest{Id: id, Bulletin: pb})
	if err != nil {
		return err
	}
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), resp)
	}
	w := cmd.OutOrStdout()
	b := resp.GetBulletin().GetBulletin()
	fmt.Fprintf(w, "revised %s: revision %d to %s: %s\n", b.GetId(), b.GetRevision(), plural(len(b.GetRecipients()), "state"), strings.Join(b.GetRecipients(), ","))
	if a := resp.GetAdded(); len(a) > 0 {
		fmt.Fprintf(w, "newly released to %s (they get this revision only)\n", strings.Join(a, ","))
	}
	if wd := resp.GetWithdrawnFrom(); len(wd) > 0 {
		fmt.Fprintf(w, "withdrawn from %s (their copies are revoked; each confirms to the secretariat)\n", strings.Join(wd, ","))
	}
	if p := resp.GetPendingRecipients(); len(p) > 0 {
		fmt.Fprintf(w, "pending: %s (committed at your node, not yet on the backbone)\n", strings.Join(p, ","))
	}
	return nil
}

// draftFrom is the draft of bulletin p as it stands: what revise starts
// from.
func draftFrom(p *iantv1.Bulletin) *draft {
	d := &draft{
		Title: p.GetTitle(), Body: p.GetBody(),
		Precedence: bulletin.Precedence(p.GetPrecedence()).String(), Category: bulletin.Category(p.GetCategory()).String(),
		Marking: bulletin.Marking(p.GetMarking()).String(), Language: bulletin.Language(p.GetLanguage()).String(),
	}
	if r := releaseString(p.GetReleasability()); r != "" {
		d.Release = strings.Split(r, ",")
	}
	if gr := p.GetSourceGrading(); gr != nil {
		d.Grading = bulletin.Grading{Reliability: int(gr.GetReliability()), Credibility: int(gr.GetCredibility())}.String()
	}
	for _, c := range p.GetCaveats() {
		d.Caveats = append(d.Caveats, bulletin.Caveat(c).String())
	}
	if p.GetExpireTime() != nil {
		d.Expires = p.GetExpireTime().AsTime().UTC().Format(time.RFC3339Nano)
	}
	for _, in := range p.GetIndicators() {
		d.Indicators = append(d.Indicators, draftIndicator{Type: bulletin.IndicatorType(in.GetType()).String(),
			Value: in.GetValue(), Description: in.GetDescription(), Attributes: in.GetAttributes()})
	}
	d.ConfidentialAudience = p.GetConfidentialAudience()
	for _, t := range p.GetTranslations() {
		if t.GetBy() == p.GetOrigin() { // other states' translations are of the revision they translated
			d.Translations = append(d.Translations, draftTranslation{Language: bulletin.Language(t.GetLanguage()).String(),
				Title: t.GetTitle(), Body: t.GetBody()})
		}
	}
	return d
}

// override sets the fields whose flag was given (in fs) to the flags'
// values (in flags).
func (d *draft) override(fs *pflag.FlagSet, flags *draft) {
	strs := map[string][2]*string{
		"title": {&d.Title, &flags.Title}, "body": {&d.Body, &flags.Body}, "precedence": {&d.Precedence, &flags.Precedence},
		"category": {&d.Category, &flags.Category}, "marking": {&d.Marking, &flags.Marking}, "language": {&d.Language, &flags.Language},
		"grading": {&d.Grading, &flags.Grading}, "expires": {&d.Expires, &flags.Expires},
	}
	for name, p := range strs {
		if fs.Changed(name) {
			*p[0] = *p[1]
		}
	}
	if fs.Changed("release") {
		d.Release = flags.Release
	}
	if fs.Changed("caveat") {
		d.Caveats = flags.Caveats
	}
	if fs.Changed("confidential-audience") {
		d.ConfidentialAudience = flags.ConfidentialAudience
	}
}

func newRevokeCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke ID --reason TEXT",
		Short: "Revoke one of your state's bulletins everywhere (focal points)",
		Long: `Revoke one of your state's bulletins (its focal points only). Every node
that holds it, forwarded copies included, removes its content for good and
keeps a tombstone (who revoked it, when and why); each confirms with a
signed receipt, which iant audit report shows per state (confirmed or
pending; a confirmation missing past the bulletin's precedence deadline is
escalated). A revoked bulletin cannot be revised.`,
		Example: `  iant revoke 01K… --reason "source retracted the report"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return usagef("--reason is required: why the bulletin is revoked, one line")
			}
			if err := bulletin.CheckLine("--reason", reason); err != nil {
				return usagef("%s", err.Error())
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).RevokeBulletin(ctx, &iantv1.RevokeBulletinRequest{Id: id, Reason: reason})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				w := cmd.OutOrStdout()
				rv := resp.GetBulletin().GetBulletin().GetRevocation()
				fmt.Fprintf(w, "revoked %s at %s: %s\n", id, fmtTime(rv.GetRevokeTime(), rv.GetRevokeTime() != nil), escape.Line(rv.GetReason()))
				fmt.Fprintf(w, "told %s: %s (each confirms to the secretariat: iant audit report %s)\n",
					plural(len(resp.GetRecipients()), "state"), strings.Join(resp.GetRecipients(), ","), id)
				if p := resp.GetPendingRecipients(); len(p) > 0 {
					fmt.Fprintf(w, "pending: %s (committed at your node, not yet on the backbone)\n", strings.Join(p, ","))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, one line (required)")
	return cmd
}
