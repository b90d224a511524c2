package main

import (
	"context"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

func newGetCmd(g *globals) *cobra.Command {
	var origin string
	var history bool
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one bulletin held by your node, with its thread of replies",
		Long: `Show one bulletin held by your node: its latest revision, the replies to it
you may read (its thread) and, with --history, its earlier revisions. A
revoked bulletin shows only who revoked it, when and why; an expired one
only its header (its origin's focal points still see it).

With -o json it prints the stored bulletin; with --history too, the whole
answer: {"bulletin": …, "thread": […], "history": […]}.`,
		Example: "  iant get 01JD7Q8X2M4T3V9K6R5N0B1C2D\n  iant get 01JD7Q8X2M4T3V9K6R5N0B1C2D --history",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			cc, err := originFlag(origin)
			if err != nil {
				return err
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: id, Origin: cc, History: history})
				if err != nil {
					return err
				}
				if g.output == "json" {
					if history {
						return printJSON(cmd.OutOrStdout(), resp)
					}
					return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
				}
				pref, err := g.preferred()
				if err != nil {
					return err
				}
				return printGet(cmd.OutOrStdout(), resp, history, pref)
			})
		},
	}
	cmd.Flags().StringVar(&origin, "origin", "", originUsage)
	cmd.Flags().BoolVar(&history, "history", false, "also show the bulletin's earlier revisions")
	return cmd
}
