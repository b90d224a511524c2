package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/misp"
)

const feedLong = `Write a MISP feed of the bulletins you may read, for a MISP instance to
subscribe to.

The feed is a directory: one <uuid>.json event file per bulletin,
manifest.json and hashes.csv, the layout of MISP's feeds. Serve it over
HTTPS from a host your MISP can reach, or point MISP at it as a local feed
("Network" or "Local" feed, input source the directory, format "MISP
Feed"). Run it again (e.g. from cron) to refresh: event files of bulletins
no longer listed are removed.

The bulletins are listed with your own identity, through the read decision
of list: what you may not read is not written. TLP:RED bulletins are for
named recipients only and are left out unless --include-red: a feed is
read by everyone with access to the MISP instance.

Example:
  iant feed misp --dir /srv/misp-feed/iant`

func newFeedCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "Write a feed of the bulletins you may read (misp)",
		Long:  feedLong,
	}
	var dir string
	var includeRed bool
	mispCmd := &cobra.Command{
		Use:   "misp --dir DIR",
		Short: "Write a MISP feed (event files, manifest.json, hashes.csv)",
		Long:  feedLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("--dir is required")
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				f, err := misp.NewFeed(dir)
				if err != nil {
					return err
				}
				skipped, err := addAll(ctx, cmd, bulletinClient(conn), f, includeRed)
				if err != nil {
					return err
				}
				n, err := f.Close()
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote a MISP feed of %d events to %s (%d bulletins left out)\n", n, dir, skipped)
				return nil
			})
		},
	}
	mispCmd.Flags().StringVar(&dir, "dir", "", "the feed's directory (created if missing)")
	mispCmd.Flags().BoolVar(&includeRed, "include-red", false, "include TLP:RED bulletins")
	cmd.AddCommand(mispCmd)
	return cmd
}

// feedPageSize is how many bulletins each ListBulletins page asks for.
const feedPageSize = 500

// addAll pages through every bulletin the reader may read and adds each
// event to f. A bulletin that cannot be mapped is left out and named on
// stderr.
func addAll(ctx context.Context, cmd *cobra.Command, c iantv1.BulletinServiceClient, f *misp.Feed, includeRed bool) (skipped int, err error) {
	token := ""
	for {
		resp, err := c.ListBulletins(ctx, &iantv1.ListBulletinsRequest{PageSize: feedPageSize, PageToken: token})
		if err != nil {
			return skipped, err
		}
		for _, rec := range resp.GetBulletins() {
			b := fromProto(rec.GetBulletin())
			if b.Marking == bulletin.Red && !includeRed {
				skipped++
				continue
			}
			v, err := versioned{b: b}, error(nil)
			if b.Revises != "" {
				v, err = readVersion(ctx, c, b.ID) // walks back to the first version
			}
			if err == nil {
				var ev misp.Event
				if ev, err = misp.FromBulletin(misp.Version{Bulletin: v.b, First: v.first}); err == nil {
					err = f.Add(ev)
				}
			}
			if err != nil {
				skipped++
				fmt.Fprintf(cmd.ErrOrStderr(), "iant: left out %s: %s\n", b.ID, errorLine(err))
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return skipped, nil
		}
	}
}
