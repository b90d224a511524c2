package main

import (
	"time"

	"github.com/spf13/cobra"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

func newListCmd(g *globals) *cobra.Command {
	var f filterFlags
	var limit int
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List bulletins held by your node, oldest first",
		Example: "  iant list --region caribbean --precedence flash,immediate --since 24h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			if limit <= 0 {
				return usagef("--limit must be positive")
			}
			filter, err := f.toProto(time.Now())
			if err != nil {
				return err
			}
			conn, _, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			var all []*iantv1.StoredBulletin
			token := ""
			for len(all) < limit {
				resp, err := bulletinClient(conn).ListBulletins(cmd.Context(), &iantv1.ListBulletinsRequest{
					Filter: filter, PageSize: int32(min(limit-len(all), 500)), PageToken: token,
				})
				if err != nil {
					return err
				}
				all = append(all, resp.GetBulletins()...)
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), &iantv1.ListBulletinsResponse{Bulletins: all})
			}
			pref, err := g.preferred()
			if err != nil {
				return err
			}
			return printTable(cmd.OutOrStdout(), all, pref)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many bulletins")
	return cmd
}
