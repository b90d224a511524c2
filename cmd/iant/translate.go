package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/yamlfile"
)

const translateLong = `Add a translation of a bulletin your state was released (focal points).

-f reads the translation from a YAML or JSON file with a title and a body;
--lang is its language (es, en, pt or fr), not the bulletin's nor one it
has already. Your node signs it as your state's and sends it to the
bulletin's origin and to the recipients your node knows of (the origin
alone when the audience is confidential); every node shows it as your
state's translation, and a search finds the bulletin by its words. The
origin adds its own translations with the bulletin (post -f, translations).

Example:
  iant translate 01JD7Q8X2M4T3V9K6R5N0B1C2D --lang pt -f pt.yaml`

// translationFile is what translate -f reads.
type translationFile struct {
	Title string `yaml:"title"`
	Body  string `yaml:"body"`
}

func newTranslateCmd(g *globals) *cobra.Command {
	var origin, lang, file string
	cmd := &cobra.Command{
		Use:   "translate ID --lang LANG -f FILE",
		Short: "Add a translation of a bulletin (focal points)",
		Long:  translateLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := translateRequest(args[0], origin, lang, file)
			if err != nil {
				return err
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).TranslateBulletin(ctx, req)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
				}
				fmt.Fprintf(cmd.OutOrStdout(), "translated %s into %s\n", req.GetId(), lang)
				if p := resp.GetPendingRecipients(); len(p) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "pending: %s (committed at your node, not yet on the backbone)\n", strings.Join(p, ","))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&origin, "origin", "", originUsage)
	f.StringVar(&lang, "lang", "", "the translation's language: es, en, pt or fr (required)")
	f.StringVarP(&file, "file", "f", "", "YAML or JSON file with the translated title and body (required)")
	return cmd
}

// translateRequest checks translate's arguments and reads its file,
// naming the flag or the file's field of the first bad value.
func translateRequest(arg, origin, lang, file string) (*iantv1.TranslateBulletinRequest, error) {
	id, err := bulletinID("ID", arg)
	if err != nil {
		return nil, err
	}
	cc, err := originFlag(origin)
	if err != nil {
		return nil, err
	}
	l, err := bulletin.ParseLanguage(lang)
	if err != nil {
		return nil, usagef("--lang: %v", err)
	}
	if file == "" {
		return nil, usagef("-f is required: a file with the translated title and body")
	}
	var t translationFile
	if err := yamlfile.Decode(file, &t); err != nil {
		return nil, usagef("-f %v", err)
	}
	if err := bulletin.CheckLine(file+": title", t.Title); err != nil {
		return nil, usagef("%s", err.Error())
	}
	if err := bulletin.CheckBlock(file+": body", t.Body); err != nil {
		return nil, usagef("%s", err.Error())
	}
	return &iantv1.TranslateBulletinRequest{Id: id, Origin: cc, Language: iantv1.Language(l), Title: t.Title, Body: t.Body}, nil
}
