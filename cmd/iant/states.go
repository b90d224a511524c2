package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/region"
)

func newStatesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "states",
		Short: "List member states and their standing, regions and the network's nodes (the directory)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := iantv1.NewDirectoryServiceClient(conn).GetDirectory(ctx, &iantv1.GetDirectoryRequest{})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				nodes := map[string]*iantv1.NodeInfo{}
				for _, n := range resp.GetNodes() {
					if n.GetState() != "" {
						nodes[n.GetState()] = n
					}
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CODE\tSTATE\tREGION\tSTATUS\tNODE")
				for _, s := range resp.GetStates() {
					addr := "-"
					if n := nodes[s.GetCode()]; n != nil {
						addr = orDash(n.GetAddress())
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", escape.Line(s.GetCode()), escape.Line(s.GetName()), region.Region(s.GetRegion()).String(),
						memberStatus(s.GetStatus()), addr)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\nregion table %s; regions:", resp.GetRegionTableVersion())
				for _, r := range resp.GetRegions() {
					fmt.Fprintf(cmd.OutOrStdout(), " %s (%s)", region.Region(r.GetRegion()), strings.Join(r.GetStates(), ","))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\nmembership table version %d, deny list version %d (as this node holds them)\n",
					resp.GetMembershipVersion(), resp.GetDenyListVersion())
				return nil
			})
		},
	}
}
