package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

const replyLong = `Reply to a bulletin your state may read: a sighting of its subject, a
request for information (rfi), an answer, or a note. Focal points may send
every kind; analysts sightings and notes.

A reply is a small bulletin of your state's, sealed and signed by your
node, threaded under the bulletin (iant get ID shows the thread). It goes
to the bulletin's origin only, or with --to recipients also to every state
the bulletin was released to — never wider. Its marking is the bulletin's
unless --marking gives a stricter one; a looser marking is refused, naming
the rule. A sighting says what was seen (--sighting seen, not-seen,
false-positive or true-positive), when (--seen-at) and where (--place).

Examples:
  iant reply 01K… --kind sighting --seen-at 2026-12-03T09:40:00Z --place "Tocumen, gate 12"
  iant reply 01K… --kind rfi --body "Is the container still at Manzanillo?"
  iant reply 01K… --kind note --body "Subject known to our service." --to recipients`

// replyFlags are the flags of iant reply.
type replyFlags struct {
	origin, kind, title, body, bodyFile, marking, to, sighting, seenAt, place, key string
}

func newReplyCmd(g *globals) *cobra.Command {
	var rf replyFlags
	cmd := &cobra.Command{
		Use:   "reply ID --kind sighting|rfi|answer|note",
		Short: "Reply to a bulletin: a sighting, a request for information, an answer or a note",
		Long:  replyLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			req, err := rf.request(cmd, id, time.Now())
			if err != nil {
				return err
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).ReplyToBulletin(ctx, req)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				r := resp.GetReply().GetBulletin()
				fmt.Fprintf(cmd.OutOrStdout(), "replied %s (%s) to %s/%s: sent to %s\n", r.GetId(),
					bulletin.ReplyKind(r.GetReply().GetKind()), r.GetReply().GetInReplyTo().GetOrigin(), id, strings.Join(r.GetRecipients(), ","))
				if p := resp.GetPendingRecipients(); len(p) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "pending: %s (committed at your node, not yet on the backbone)\n", strings.Join(p, ","))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&rf.origin, "origin", "", originUsage)
	f.StringVar(&rf.kind, "kind", "", "sighting, rfi, answer or note (required)")
	f.StringVar(&rf.title, "title", "", "one-line summary (optional)")
	f.StringVar(&rf.body, "body", "", "text (required but for a sighting)")
	f.StringVar(&rf.bodyFile, "body-file", "", "read the body from a file (not with --body)")
	f.StringVar(&rf.marking, "marking", "", "TLP marking, at least as strict as the bulletin's (default: the bulletin's)")
	f.StringVar(&rf.to, "to", "origin", "origin (the bulletin's origin only) or recipients (also every state it was released to)")
	f.StringVar(&rf.sighting, "sighting", "seen", "for a sighting: seen, not-seen, false-positive or true-positive")
	f.StringVar(&rf.seenAt, "seen-at", "", "for a sighting: when, an RFC 3339 time or a duration ago such as 2h (default: now)")
	f.StringVar(&rf.place, "place", "", "for a sighting: where, one line")
	f.StringVar(&rf.key, "idempotency-key", "", "retry the reply made with this key (default: a new random key)")
	return cmd
}

// request checks the flags and makes the request, naming the first bad
// flag.
func (rf *replyFlags) request(cmd *cobra.Command, id string, now time.Time) (*iantv1.ReplyToBulletinRequest, error) {
	cc, err := originFlag(rf.origin)
	if err != nil {
		return nil, err
	}
	if rf.kind == "" {
		return nil, usagef("--kind is required: sighting, rfi, answer or note")
	}
	kind, err := bulletin.ParseReplyKind(rf.kind)
	if err != nil {
		return nil, usagef("--kind: %v", err)
	}
	to, err := bulletin.ParseAudience(rf.to)
	if err != nil {
		return nil, usagef("--to: %v", err)
	}
	body, err := rf.text(cmd)
	if err != nil {
		return nil, err
	}
	key := rf.key
	if key == "" {
		key = newIdempotencyKey()
	}
	req := &iantv1.ReplyToBulletinRequest{Id: id, Origin: cc, Kind: iantv1.ReplyKind(kind), Title: rf.title, Body: body,
		To: iantv1.ReplyAudience(to), IdempotencyKey: key}
	if rf.marking != "" {
		m, err := bulletin.ParseMarking(rf.marking)
		if err != nil {
			return nil, usagef("--marking: %v", err)
		}
		req.Marking = iantv1.Marking(m)
	}
	if kind == bulletin.ReplySighting {
		if req.Sighting, err = rf.sightingOf(now); err != nil {
			return nil, err
		}
	} else if cmd.Flags().Changed("seen-at") || cmd.Flags().Changed("place") || cmd.Flags().Changed("sighting") {
		return nil, usagef("--sighting, --seen-at and --place are for --kind sighting only")
	}
	return req, nil
}

// text reads and checks the title and body.
func (rf *replyFlags) text(cmd *cobra.Command) (string, error) {
	body := rf.body
	if rf.bodyFile != "" {
		if cmd.Flags().Changed("body") {
			return "", usagef("--body and --body-file: give one of them, not both")
		}
		b, err := os.ReadFile(rf.bodyFile)
		if err != nil {
			return "", usagef("--body-file: %v", err)
		}
		body = string(b)
	}
	if err := bulletin.CheckLine("--title", rf.title); err != nil {
		return "", usagef("%s", err.Error())
	}
	if err := bulletin.CheckBlock("--body", body); err != nil {
		return "", usagef("%s", err.Error())
	}
	return body, nil
}

// sightingOf reads the sighting's flags.
func (rf *replyFlags) sightingOf(now time.Time) (*iantv1.Sighting, error) {
	sk, err := bulletin.ParseSightingKind(rf.sighting)
	if err != nil {
		return nil, usagef("--sighting: %v", err)
	}
	seen := now
	if rf.seenAt != "" {
		if seen, err = parseTime("--seen-at", rf.seenAt, now, past); err != nil {
			return nil, err
		}
	}
	if err := bulletin.CheckLine("--place", rf.place); err != nil {
		return nil, usagef("%s", err.Error())
	}
	return &iantv1.Sighting{Kind: iantv1.SightingKind(sk), SeenTime: timestamppb.New(seen), Place: rf.place}, nil
}
