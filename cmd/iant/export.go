package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/misp"
	"github.com/oas-cicte/iant/pkg/stix"
)

const exportLong = `Export bulletins your node holds as a STIX 2.1 bundle or as MISP events.

The bulletins are read with your own identity, through the same read
decision as get: what you may not read is not exported. --format stix
writes one bundle with every bulletin (deterministic ids: exporting again
gives the same objects); --format misp writes one event ({"Event": ...}) for
one ID, and {"response": [...]} for several. See docs/interop.md for what
each format keeps and loses.

Examples:
  iant export 01K... --format stix > bulletin.stix.json
  iant export 01K... 01K... --format misp -f events.json`

func newExportCmd(g *globals) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export ID...",
		Short: "Export bulletins as STIX 2.1 or MISP JSON",
		Long:  exportLong,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			if format != "stix" && format != "misp" {
				return usagef("--format %q: want stix or misp", format)
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				var versions []versioned
				for _, id := range ids {
					v, err := readVersion(ctx, bulletinClient(conn), id)
					if err != nil {
						return err
					}
					versions = append(versions, v)
				}
				doc, err := exportDoc(format, versions)
				if err != nil {
					return err
				}
				return writeOut(cmd, out, doc)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "stix", "stix (a STIX 2.1 bundle) or misp (MISP event JSON)")
	cmd.Flags().StringVarP(&out, "file", "f", "", "write to this file instead of standard output")
	return cmd
}

// versioned is a bulletin and what the mappings need of its first
// version.
type versioned struct {
	b            bulletin.Bulletin
	first        string    // id of the first version; "" for a first version
	firstCreated time.Time // its create time
}

// maxRevisions bounds the walk back to a revision's first version.
const maxRevisions = 64

// readVersion gets bulletin id and, for a revision, walks back to its
// first version (which must be readable too).
func readVersion(ctx context.Context, c iantv1.BulletinServiceClient, id string) (versioned, error) {
	resp, err := c.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: id})
	if err != nil {
		return versioned{}, err
	}
	v := versioned{b: fromProto(resp.GetBulletin().GetBulletin())}
	if v.b.Reply != nil {
		return versioned{}, usagef("%s is a reply to %s/%s: export the bulletin it answers (replies are served over TAXII as sightings and notes)",
			id, v.b.Reply.InReplyTo.Origin, v.b.Reply.InReplyTo.ID)
	}
	prev := v.b
	for i := 0; prev.Revises != ""; i++ {
		if i == maxRevisions {
			return versioned{}, fmt.Errorf("bulletin %s: more than %d revisions back to its first version", id, maxRevisions)
		}
		r, err := c.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: prev.Revises})
		if err != nil {
			return versioned{}, fmt.Errorf("bulletin %s revises %s: %w", prev.ID, prev.Revises, err)
		}
		prev = fromProto(r.GetBulletin().GetBulletin())
	}
	if prev.ID != v.b.ID {
		v.first, v.firstCreated = prev.ID, prev.CreatedAt
	}
	return v, nil
}

// exportDoc maps the bulletins to the document of format.
func exportDoc(format string, vs []versioned) (any, error) {
	if format == "stix" {
		var svs []stix.Version
		for _, v := range vs {
			sv := stix.Version{Bulletin: v.b, First: v.first, FirstCreated: v.firstCreated}
			if v.first == "" {
				sv = stix.VersionOf(v.b) // a revision keeps its id: a later version of the same report
			}
			svs = append(svs, sv)
		}
		return stix.FromBulletins(svs...)
	}
	var files []misp.File
	for _, v := range vs {
		ev, err := misp.FromBulletin(misp.Version{Bulletin: v.b, First: v.first})
		if err != nil {
			return nil, err
		}
		files = append(files, misp.File{Event: ev})
	}
	if len(files) == 1 {
		return files[0], nil
	}
	return struct {
		Response []misp.File `json:"response"`
	}{files}, nil
}

// writeOut writes doc as indented JSON to the file, or to stdout.
func writeOut(cmd *cobra.Command, path string, doc any) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path != "" {
		// Exported bulletins keep their marking: readable by you only.
		return os.WriteFile(path, data, 0o600)
	}
	_, err = cmd.OutOrStdout().Write(data)
	return err
}
