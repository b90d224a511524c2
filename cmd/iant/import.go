package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/misp"
	"github.com/oas-cicte/iant/pkg/stix"
)

const importLong = `Import a STIX 2.1 bundle or a MISP event (JSON) as bulletins of your state.

Each report of a bundle (or the event) becomes a draft, shown first and
validated like any post, each problem naming the JSON path in the file
(e.g. objects[3].pattern). Nothing is posted unless every draft is valid;
then each is posted through your node, which validates it again and
applies the post policy. --dry-run shows and validates, and posts nothing.

What the file does not say (releasability, and else precedence, category
and language, which default to routine, other and en) can be given with the
flags below; flags win over the file. A bulletin IANT issued for another
state is refused: share it onward with "iant forward" instead.

Examples:
  iant import report.stix.json --dry-run
  iant import event.json --release caribbean,US --precedence priority`

// importFlags fill or override what a file does not say.
type importFlags struct {
	release                        []string
	precedence, category, language string
	dryRun                         bool
}

func newImportCmd(g *globals) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a STIX bundle or a MISP event as bulletins (focal points)",
		Long:  importLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			conn, me, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			drafts, err := loadDrafts(args[0], me.State, f)
			if err != nil {
				return err
			}
			for i, d := range drafts {
				printDraft(cmd.OutOrStdout(), i+1, len(drafts), d)
			}
			if f.dryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "dry run: %d draft(s) valid; nothing posted\n", len(drafts))
				return nil
			}
			return postDrafts(cmd.Context(), cmd.OutOrStdout(), bulletinClient(conn), drafts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "show and validate the drafts; post nothing")
	fl.StringSliceVar(&f.release, "release", nil, "release to: state codes, region names or all (overrides the file)")
	fl.StringVar(&f.precedence, "precedence", "", "flash, immediate, priority or routine (overrides the file)")
	fl.StringVar(&f.category, "category", "", "category (overrides the file)")
	fl.StringVar(&f.language, "language", "", "es, en, pt or fr (overrides the file)")
	return cmd
}

// importDraft is one bulletin to post and where it came from in the file.
type importDraft struct {
	b         bulletin.Bulletin
	from      string   // e.g. "objects[3]" or "Event"
	defaulted []string // what took IANT's default
}

// loadDrafts reads the file, decodes it by its shape, and returns its
// drafts for state poster, each validated; the first problem names its
// JSON path.
func loadDrafts(path, poster string, f importFlags) ([]importDraft, error) {
	data, err := readLimited(path, stix.MaxBundleBytes)
	if err != nil {
		return nil, err
	}
	type source interface {
		Draft(poster string) (bulletin.Bulletin, error)
		Check(d *bulletin.Bulletin) error
	}
	var srcs []source
	var out []importDraft
	// The shape says the format: a MISP event file is {"Event": ...}. The
	// strict decoders then read the whole file.
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top)
	switch _, isEvent := top["Event"]; {
	case isEvent:
		im, err := misp.Decode(data)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, im)
		out = append(out, importDraft{from: "Event", defaulted: im.Defaulted})
	default:
		d, err := stix.DecodeBundle(data)
		if err != nil {
			return nil, err
		}
		if len(d.Bulletins) == 0 {
			return nil, fmt.Errorf("%s: the bundle holds no report (%d replies are imported with the bulletin lifecycle, later)", path, len(d.Replies))
		}
		for _, im := range d.Bulletins {
			srcs = append(srcs, im)
			out = append(out, importDraft{from: im.Path, defaulted: im.Defaulted})
		}
	}
	for i, s := range srcs {
		b, err := s.Draft(poster)
		if err != nil {
			return nil, err
		}
		if err := f.apply(&b); err != nil {
			return nil, err
		}
		if err := s.Check(&b); err != nil {
			return nil, err
		}
		out[i].b = b
	}
	return out, nil
}

// apply writes the flags given over what the file says.
func (f importFlags) apply(b *bulletin.Bulletin) error {
	var err error
	if f.precedence != "" {
		if b.Precedence, err = bulletin.ParsePrecedence(f.precedence); err != nil {
			return usagef("--precedence: %v", err)
		}
	}
	if f.category != "" {
		if b.Category, err = bulletin.ParseCategory(f.category); err != nil {
			return usagef("--category: %v", err)
		}
	}
	if f.language != "" {
		if b.Language, err = bulletin.ParseLanguage(f.language); err != nil {
			return usagef("--language: %v", err)
		}
	}
	if len(f.release) > 0 {
		r := &iantv1.Releasability{}
		for _, item := range f.release {
			if err := (&draft{}).addRelease(r, item); err != nil {
				return err
			}
		}
		b.Releasability = fromProto(&iantv1.Bulletin{Releasability: r}).Releasability
	}
	return nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: (document): more than %d bytes, the limit", path, limit)
	}
	return data, nil
}

// postDrafts posts each draft; it stops at the first refusal and says
// which were posted before it.
func postDrafts(ctx context.Context, w io.Writer, c iantv1.BulletinServiceClient, drafts []importDraft) error {
	var posted []string
	for _, d := range drafts {
		resp, err := c.PostBulletin(ctx, &iantv1.PostBulletinRequest{Bulletin: draftToProto(&d.b)})
		if err != nil {
			if len(posted) > 0 {
				fmt.Fprintf(w, "posted before the error: %s\n", strings.Join(posted, ","))
			}
			return errors.Join(fmt.Errorf("%s not posted", d.from), err)
		}
		b := resp.GetBulletin().GetBulletin()
		posted = append(posted, b.GetId())
		fmt.Fprintf(w, "posted %s (from %s) to %d states: %s\n", b.GetId(), d.from, len(b.GetRecipients()), strings.Join(b.GetRecipients(), ","))
	}
	return nil
}

// printDraft shows a draft, its text made safe for the terminal.
func printDraft(w io.Writer, n, of int, d importDraft) {
	b := d.b
	fmt.Fprintf(w, "draft %d of %d (from %s)\n", n, of, d.from)
	fmt.Fprintf(w, "  title:       %s\n", printable(b.Title, false))
	fmt.Fprintf(w, "  precedence:  %s   category: %s   marking: %s   language: %s   grading: %s\n",
		b.Precedence, b.Category, b.Marking, b.Language, b.Grading)
	fmt.Fprintf(w, "  release:     %s\n", releaseString(draftToProto(&b).GetReleasability()))
	if len(d.defaulted) > 0 {
		fmt.Fprintf(w, "  defaulted:   %s\n", strings.Join(d.defaulted, ", "))
	}
	for _, in := range b.Indicators {
		fmt.Fprintf(w, "  - %s: %s\n", in.Type, printable(in.Value, false))
	}
	fmt.Fprintf(w, "  body:\n    %s\n", strings.ReplaceAll(printable(b.Body, true), "\n", "\n    "))
}
