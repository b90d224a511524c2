package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

const postLong = `Post a bulletin as a focal point of your state.

The bulletin is released to the states, regions (north-america,
central-america, caribbean, south-america) or "all" given by --release; the
node resolves them to recipient states (never your own: a bulletin that
would reach nobody is refused), commits the bulletin with one copy per
recipient, and answers once every copy is on the backbone. If the backbone
cannot be reached (or is slow) the post still succeeds: the answer names
the recipients whose copies wait at your node, which delivers them, in
order, as soon as it can.

Every post carries an idempotency key, a fresh random one unless you give
--idempotency-key. If a post fails without a clear answer (a timeout, the
node unavailable), it may have been committed: run the same command again
with the key iant printed, and the node returns the bulletin it committed,
with the same id, instead of posting a second one. The retry must carry the
same bulletin: give --expires as the absolute time iant printed, not a
duration, which would be counted from the new run.

--confidential-audience keeps the audience from the recipients: each
recipient's copy, and everything its node shows, names only its own state;
you and the secretariat's auditors still see every delivery. Replies to it
come to you only. A revision of it stays confidential.

-f reads the bulletin from a YAML or JSON file (one document; its fields are
the flags' names, with caveats and indicators as lists, and
confidential_audience: true); flags given too override it. The file may add
translations, a list of {language, title, body} in other languages than the
bulletin's, marked as yours. Titles, bodies and indicators must be valid UTF-8 without
control or formatting characters (newlines and tabs are fine in the body).

Examples:
  iant post --title "Suspected FTF travel" --body "..." --release US,CA,caribbean \
      --precedence flash --category foreign-terrorist-fighter --marking amber
  iant post -f bulletin.yaml -o json
  ID=$(iant post -f bulletin.yaml --quiet)
  iant post -f bulletin.yaml --idempotency-key 3f2a...   # retry a post whose answer was lost`

func newPostCmd(g *globals) *cobra.Command {
	var d draft
	var file, bodyFile, key string
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
			return g.post(cmd, d, pb, key, quiet)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the bulletin from a YAML or JSON file (flags given too override it)")
	f.StringVar(&bodyFile, "body-file", "", "read the body from a file (not with --body)")
	registerDraftFlags(f, &d, true)
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the new bulletin's id (for scripts)")
	f.StringVar(&key, "idempotency-key", "", "retry the post made with this key (1 to 64 printable ASCII characters; default: a new random key)")
	return cmd
}

// post sends pb, made of draft d, with idempotency key (a new one if
// empty) and prints the answer: the bulletin, and the recipients whose
// copies still wait at the node. When the post fails without a clear
// answer, it tells how to retry it safely.
func (g *globals) post(cmd *cobra.Command, d draft, pb *iantv1.Bulletin, key string, quiet bool) error {
	if key == "" {
		key = newIdempotencyKey()
	}
	conn, _, err := g.dial(cmd.Context())
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := bulletinClient(conn).PostBulletin(cmd.Context(), &iantv1.PostBulletinRequest{Bulletin: pb, IdempotencyKey: key})
	if err != nil {
		if maybeCommitted(err) {
			fmt.Fprintln(cmd.ErrOrStderr(), retryHint(key, d, pb))
		}
		return err
	}
	pending := resp.GetPendingRecipients()
	b := resp.GetBulletin().GetBulletin()
	switch {
	case quiet:
		fmt.Fprintln(cmd.OutOrStdout(), b.GetId())
	case g.output == "json":
		if err := printJSON(cmd.OutOrStdout(), resp.GetBulletin()); err != nil {
			return err
		}
	default:
		fmt.Fprintf(cmd.OutOrStdout(), "posted %s to %s: %s\n", b.GetId(), plural(len(b.GetRecipients()), "state"), strings.Join(b.GetRecipients(), ","))
		if len(pending) > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "pending: %s (committed at your node, not yet on the backbone; delivered, in order, when it can be reached)\n", strings.Join(pending, ","))
		}
		return nil
	}
	if len(pending) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "iant: copies for %s wait at your node for the backbone; they are delivered when it can be reached\n", strings.Join(pending, ","))
	}
	return nil
}

// newIdempotencyKey returns 128 random bits in hex.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// maybeCommitted reports a failure after which the node may have
// committed the post: no clear answer came back.
func maybeCommitted(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown, codes.Internal, codes.Aborted:
		return true
	}
	return false
}

// retryHint tells how to retry a post whose answer was lost.
func retryHint(key string, d draft, pb *iantv1.Bulletin) string {
	hint := "iant: the post may have been committed; to retry it without posting twice, run the same command with --idempotency-key " + key
	if d.Expires != "" && pb.GetExpireTime() != nil {
		if _, err := time.Parse(time.RFC3339, d.Expires); err != nil {
			hint += " --expires " + pb.GetExpireTime().AsTime().UTC().Format(time.RFC3339Nano)
		}
	}
	return hint
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
	p := &iantv1.Bulletin{Title: d.Title, Body: d.Body, Releasability: &iantv1.Releasability{}, ConfidentialAudience: d.ConfidentialAudience}
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
	if err := d.translations(p); err != nil {
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
