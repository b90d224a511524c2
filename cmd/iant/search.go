package main

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

func newSearchCmd(g *globals) *cobra.Command {
	var f filterFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "search QUERY [filters]",
		Short: "Search the bulletins your node holds and you may read, newest first",
		Long: `Search the full-text index of your node: titles, bodies and indicator values
(a passport, flight or container number is found exactly). Every word must
occur; case and accents are ignored, in all four languages; a trailing *
matches a prefix. Revoked and expired bulletins are never found. The filters
are list's.`,
		Example: "  iant search MSCU1234567\n  iant search \"contenedor manzanillo\" --since 7d --origin MX",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			q := strings.TrimSpace(strings.Join(args, " "))
			switch {
			case q == "":
				return usagef("QUERY is empty: give the words to search for")
			case !utf8.ValidString(q):
				return usagef("QUERY is not valid UTF-8")
			case limit <= 0:
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
				resp, err := bulletinClient(conn).SearchBulletins(cmd.Context(), &iantv1.SearchBulletinsRequest{
					Query: q, Filter: filter, PageSize: int32(min(limit-len(all), 500)), PageToken: token,
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
				return printJSON(cmd.OutOrStdout(), &iantv1.SearchBulletinsResponse{Bulletins: all})
			}
			pref, err := g.preferred()
			if err != nil {
				return err
			}
			return printTable(cmd.OutOrStdout(), all, pref)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many bulletins")
	return cmd
}
