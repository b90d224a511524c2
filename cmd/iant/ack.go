package main

import (
	"fmt"

	"github.com/spf13/cobra"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

func newAckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge a bulletin your state received (focal points)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			conn, _, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := bulletinClient(conn).AcknowledgeBulletin(cmd.Context(), &iantv1.AcknowledgeBulletinRequest{Id: args[0]})
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), resp.GetBulletin())
			}
			r := resp.GetBulletin()
			fmt.Fprintf(cmd.OutOrStdout(), "acknowledged %s at %s by %s\n", r.GetBulletin().GetId(),
				fmtTime(r.GetAcknowledgeTime(), r.GetAcknowledgeTime() != nil), r.GetAcknowledgedBy())
			return nil
		},
	}
}
