package main

import (
	"context"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

func newGetCmd(g *globals) *cobra.Command {
	var origin string
	cmd := &cobra.Command{
		Use:     "get ID",
		Short:   "Show one bulletin held by your node",
		Example: "  iant get 01JD7Q8X2M4T3V9K6R5N0B1C2D",
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
				resp, err := bulletinClient(conn).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: id, Origin: cc})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
				}
				pref, err := g.preferred()
				if err != nil {
					return err
				}
				return printDetail(cmd.OutOrStdout(), resp.GetBulletin(), pref)
			})
		},
	}
	cmd.Flags().StringVar(&origin, "origin", "", originUsage)
	return cmd
}
