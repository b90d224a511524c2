package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/escape"
)

func newAckCmd(g *globals) *cobra.Command {
	var origin string
	cmd := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge a bulletin your state received (focal points)",
		Args:  cobra.ExactArgs(1),
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
				resp, err := bulletinClient(conn).AcknowledgeBulletin(ctx, &iantv1.AcknowledgeBulletinRequest{Id: id, Origin: cc})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
				}
				r := resp.GetBulletin()
				fmt.Fprintf(cmd.OutOrStdout(), "acknowledged %s at %s by %s\n", r.GetBulletin().GetId(),
					fmtTime(r.GetAcknowledgeTime(), r.GetAcknowledgeTime() != nil), escape.Line(r.GetAcknowledgedBy()))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&origin, "origin", "", originUsage)
	return cmd
}
