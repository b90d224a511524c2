package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
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
	Expires    string           `yaml:"expires"` // RFC 3339 time or a duration such as 72h
	Indicators []draftIndicator `yaml:"indicators"`
}

type draftIndicator struct {
	Type        string            `yaml:"type"`
	Value       string            `yaml:"value"`
	Description string            `yaml:"description"`
	Attributes  map[string]string `yaml:"attributes"`
}

const postLong = `Post a bulletin as a focal point of your state.

The bulletin is released to the states, regions (north-america,
central-america, caribbean, south-america) or "all" given by --release; the
node resolves them to recipient states, commits the bulletin with one copy
per recipient, and answers once every copy is on the backbone. If the
backbone cannot be reached (or is slow) the post still succeeds: the answer
names the recipients whose copies wait at your node, which delivers them,
in order, as soon as it can.

Every post carries an idempotency key, a fresh random one unless you give
--idempotency-key. If a post fails without a clear answer (a timeout, the
node unavailable), it may have been committed: run the same command again
with the key iant printed, and the node returns the bulletin it committed,
with the same id, instead of posting a second one. The retry must carry the
same bulletin: give --expires as the absolute time iant printed, not a
duration, which would be counted from the new run.

Examples:
  iant post --title "Suspected FTF travel" --body "..." --release US,CA,caribbean \
      --precedence flash --category foreign-terrorist-fighter --marking amber
  iant post -f bulletin.yaml -o json
  iant post -f bulletin.yaml --idempotency-key 3f2a...   # retry a post whose answer was lost`

func newPostCmd(g *globals) *cobra.Command {
	var d draft
	var file, bodyFile, key string
	cmd := &cobra.Command{
		Use:   "post",
		Short: "Post a bulletin (focal points)",
		Long:  postLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			if file != "" {
				if err := mergeDraftFile(&d, file, cmd); err != nil {
					return err
				}
			}
			if bodyFile != "" {
				b, err := os.ReadFile(bodyFile)
				if err != nil {
					return usagef("--body-file: %v", err)
				}
				d.Body = string(b)
			}
			return g.post(cmd, d, key)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the bulletin from a YAML or JSON file (flags given too override it)")
	f.StringVar(&d.Title, "title", "", "title")
	f.StringVar(&d.Body, "body", "", "body text")
	f.StringVar(&bodyFile, "body-file", "", "read the body from a file")
	f.StringSliceVar(&d.Release, "release", nil, "release to: comma-separated state codes, region names or all")
	f.StringVar(&d.Precedence, "precedence", "routine", "flash, immediate, priority or routine")
	f.StringVar(&d.Category, "category", "other", "category, e.g. cbrn, foreign-terrorist-fighter, arms-trafficking")
	f.StringVar(&d.Marking, "marking", "amber", "TLP 2.0 marking: clear, green, amber, amber+strict or red")
	f.StringVar(&d.Language, "language", "en", "es, en, pt or fr")
	f.StringVar(&d.Grading, "grading", "", "Admiralty source grading, e.g. B2")
	f.StringSliceVar(&d.Caveats, "caveat", nil, "handling caveat: law-enforcement-only, no-onward-sharing, originator-consent-required")
	f.StringVar(&d.Expires, "expires", "", "expiry: RFC 3339 time or a duration such as 72h")
	f.StringVar(&key, "idempotency-key", "", "retry the post made with this key (1 to 64 printable ASCII characters; default: a new random key)")
	return cmd
}

// post sends draft d with idempotency key (a new one if empty) and prints
// the answer: the bulletin, and the recipients whose copies still wait at
// the node. When the post fails without a clear answer, it tells how to
// retry it safely.
func (g *globals) post(cmd *cobra.Command, d draft, key string) error {
	now := time.Now()
	pb, err := d.toProto(now)
	if err != nil {
		return err
	}
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
	if g.output == "json" {
		if len(pending) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "iant: copies for %s wait at your node for the backbone; they are delivered when it can be reached\n", strings.Join(pending, ","))
		}
		return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
	}
	b := resp.GetBulletin().GetBulletin()
	fmt.Fprintf(cmd.OutOrStdout(), "posted %s to %d states: %s\n", b.GetId(), len(b.GetRecipients()), strings.Join(b.GetRecipients(), ","))
	if len(pending) > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "pending: %s (committed at your node, not yet on the backbone; delivered, in order, when it can be reached)\n", strings.Join(pending, ","))
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

// mergeDraftFile reads a draft file; flags set on the command line win.
func mergeDraftFile(d *draft, path string, cmd *cobra.Command) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("-f: %v", err)
	}
	var fromFile draft
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fromFile); err != nil {
		return usagef("-f %s: %v", path, err)
	}
	flags := cmd.Flags()
	set := func(name string, dst *string, v string) {
		if !flags.Changed(name) && v != "" {
			*dst = v
		}
	}
	set("title", &d.Title, fromFile.Title)
	set("body", &d.Body, fromFile.Body)
	set("precedence", &d.Precedence, fromFile.Precedence)
	set("category", &d.Category, fromFile.Category)
	set("marking", &d.Marking, fromFile.Marking)
	set("language", &d.Language, fromFile.Language)
	set("grading", &d.Grading, fromFile.Grading)
	set("expires", &d.Expires, fromFile.Expires)
	if !flags.Changed("release") && len(fromFile.Release) > 0 {
		d.Release = fromFile.Release
	}
	if !flags.Changed("caveat") && len(fromFile.Caveats) > 0 {
		d.Caveats = fromFile.Caveats
	}
	d.Indicators = fromFile.Indicators
	return nil
}

// toProto converts the draft, naming the first bad value.
func (d draft) toProto(now time.Time) (*iantv1.Bulletin, error) {
	p := &iantv1.Bulletin{Title: d.Title, Body: d.Body, Releasability: &iantv1.Releasability{}}
	if len(d.Release) == 0 {
		return nil, usagef("--release is required: state codes, region names or all")
	}
	for _, r := range d.Release {
		if err := addRelease(p.Releasability, r); err != nil {
			return nil, err
		}
	}
	prec, err := bulletin.ParsePrecedence(d.Precedence)
	if err != nil {
		return nil, usagef("--precedence: %v", err)
	}
	cat, err := bulletin.ParseCategory(d.Category)
	if err != nil {
		return nil, usagef("--category: %v", err)
	}
	mark, err := bulletin.ParseMarking(d.Marking)
	if err != nil {
		return nil, usagef("--marking: %v", err)
	}
	lang, err := bulletin.ParseLanguage(d.Language)
	if err != nil {
		return nil, usagef("--language: %v", err)
	}
	p.Precedence, p.Category, p.Marking, p.Language = iantv1.Precedence(prec), iantv1.Category(cat), iantv1.Marking(mark), iantv1.Language(lang)
	if d.Grading != "" {
		g, err := bulletin.ParseGrading(d.Grading)
		if err != nil {
			return nil, usagef("--grading: %v", err)
		}
		p.SourceGrading = &iantv1.SourceGrading{Reliability: iantv1.SourceReliability(g.Reliability), Credibility: iantv1.InformationCredibility(g.Credibility)}
	}
	for _, c := range d.Caveats {
		cv, err := bulletin.ParseCaveat(c)
		if err != nil {
			return nil, usagef("--caveat: %v", err)
		}
		p.Caveats = append(p.Caveats, iantv1.Caveat(cv))
	}
	if d.Expires != "" {
		t, err := parseExpiry(d.Expires, now)
		if err != nil {
			return nil, err
		}
		p.ExpireTime = timestamppb.New(t)
	}
	for i, in := range d.Indicators {
		t, err := bulletin.ParseIndicatorType(in.Type)
		if err != nil {
			return nil, usagef("indicators[%d].type: %v", i, err)
		}
		p.Indicators = append(p.Indicators, &iantv1.Indicator{Type: iantv1.IndicatorType(t), Value: in.Value, Description: in.Description, Attributes: in.Attributes})
	}
	return p, nil
}

// addRelease adds one --release item: "all", a region name or a state code.
func addRelease(r *iantv1.Releasability, item string) error {
	item = strings.TrimSpace(item)
	switch {
	case item == "":
		return usagef("--release: empty item")
	case strings.EqualFold(item, "all"):
		r.All = true
	case len(item) == 2:
		r.States = append(r.States, strings.ToUpper(item))
	default:
		g, err := region.Parse(item)
		if err != nil {
			return usagef("--release: %q is neither a state code, a region nor all", item)
		}
		r.Regions = append(r.Regions, iantv1.Region(g))
	}
	return nil
}

func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, usagef("--expires %q: want an RFC 3339 time or a positive duration such as 72h", s)
	}
	return now.Add(d), nil
}
