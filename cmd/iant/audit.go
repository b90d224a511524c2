package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
)

const auditLong = `The secretariat's delivery audit: for each bulletin, which states received,
read and acknowledged it and when; overdue acknowledgements; statistics; and
the signed checkpoints and proofs that show the audit log was never
rewritten.

Secretariat auditors may run every audit command. A state's focal point may
run "audit report" for bulletins its own state posted. The commands talk to
the secretariat node: with a context naming your own state's node, iant
finds the secretariat node in your node's directory and connects to it with
the same certificate.`

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Delivery reports, overdue acknowledgements and audit log proofs (secretariat)",
		Long:  auditLong,
	}
	cmd.AddCommand(
		newAuditReportCmd(g),
		newAuditOverdueCmd(g),
		newAuditStatsCmd(g),
		newAuditEscalationsCmd(g),
		newAuditCheckpointCmd(g),
		newAuditVerifyCmd(g),
	)
	return cmd
}

// withAudit runs fn with an AuditService client of the secretariat node.
func (g *globals) withAudit(cmd *cobra.Command, fn func(ctx context.Context, a iantv1.AuditServiceClient) error) error {
	if err := g.checkOutput(); err != nil {
		return err
	}
	conn, err := g.dialSecretariat(cmd.Context())
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(cmd.Context(), iantv1.NewAuditServiceClient(conn))
}

// dialSecretariat connects to the secretariat node: the context's node if
// it is the secretariat's, else the secretariat node that the context's
// node lists in its directory.
func (g *globals) dialSecretariat(ctx context.Context) (*grpc.ClientConn, error) {
	path := g.contextFile
	if path == "" {
		path = os.Getenv("IANT_CONTEXT")
	}
	if path == "" {
		return nil, usagef("no context: pass --context FILE or set IANT_CONTEXT (iant demo writes them into DIR/contexts)")
	}
	c, err := g.loadContext(path)
	if err != nil {
		return nil, err
	}
	conn, _, err := client.Dial(ctx, c)
	if err != nil || isSecretariatNode(c) {
		return conn, err
	}
	dir, err := iantv1.NewDirectoryServiceClient(conn).GetDirectory(ctx, &iantv1.GetDirectoryRequest{})
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("find the secretariat node: %w", err)
	}
	for _, n := range dir.GetNodes() {
		if n.GetRole() == iantv1.Role(identity.RoleSecretariatNode) && n.GetAddress() != "" {
			c.Node, c.NodeID = n.GetAddress(), n.GetSpiffeId()
			conn, _, err := client.Dial(ctx, c)
			return conn, err
		}
	}
	return nil, fmt.Errorf("your node's directory lists no secretariat node")
}

// isSecretariatNode reports whether the context names a secretariat node.
func isSecretariatNode(c client.Context) bool {
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return false
	}
	p, err := identity.ParseString(td, c.NodeID)
	return err == nil && p.Role == identity.RoleSecretariatNode
}

func newAuditReportCmd(g *globals) *cobra.Command {
	var origin string
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Show which states received, read and acknowledged a bulletin, and when",
		Long: `Show a bulletin's delivery report. A bulletin is named by its originating
state and its id: a focal point sees its own state's bulletins only; an
auditor gives --origin when several states used the id.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				id, err := bulletinID("ID", args[0])
				if err != nil {
					return err
				}
				resp, err := a.GetBulletinReport(ctx, &iantv1.GetBulletinReportRequest{Id: id, Origin: origin})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				return printReport(cmd.OutOrStdout(), resp.GetReport())
			})
		},
	}
	cmd.Flags().StringVar(&origin, "origin", "", "the bulletin's originating state (e.g. MX), when several states used the id")
	return cmd
}

func newAuditOverdueCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "overdue",
		Short: "List acknowledgements past their deadline, most overdue first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				resp, err := a.ListOverdue(ctx, &iantv1.ListOverdueRequest{})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				return printOverdue(cmd.OutOrStdout(), resp.GetItems(), time.Now())
			})
		},
	}
}

func newAuditStatsCmd(g *globals) *cobra.Command {
	var since, from, to string
	var precs []string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Per state: bulletins received, median and p95 delivery and acknowledgement times, histograms by precedence",
		Example: "  iant audit stats --since 24h\n  iant audit stats --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z\n" +
			"  iant audit stats --since 7d --precedence flash,immediate",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := statsRequest(since, from, to, precs, time.Now())
			if err != nil {
				return err
			}
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				resp, err := a.GetStats(ctx, req)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				return printStats(cmd.OutOrStdout(), resp)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "24h", "bulletins posted since: a duration ago such as 24h or 7d, an RFC 3339 time or a date")
	f.StringVar(&from, "from", "", "bulletins posted at or after this time, like --since (which it overrides)")
	f.StringVar(&to, "to", "", "bulletins posted before this time, like --since; default now")
	f.StringSliceVar(&precs, "precedence", nil, "only bulletins of these precedences: flash, immediate, priority, routine (repeat or comma-separate); default all")
	return cmd
}

// statsRequest builds the request of audit stats from the flags: the
// time range read like every time on the command line (parseTime), and
// the precedences.
func statsRequest(since, from, to string, precs []string, now time.Time) (*iantv1.GetStatsRequest, error) {
	var want []iantv1.Precedence
	for _, s := range precs {
		p, err := bulletin.ParsePrecedence(s)
		if err != nil {
			return nil, usagef("--precedence: %v", err)
		}
		want = append(want, iantv1.Precedence(p))
	}
	if from != "" {
		since = from
	}
	name := "--since"
	if from != "" {
		name = "--from"
	}
	start, err := parseTime(name, since, now, past)
	if err != nil {
		return nil, err
	}
	end := now
	if to != "" {
		if end, err = parseTime("--to", to, now, past); err != nil {
			return nil, err
		}
	}
	return &iantv1.GetStatsRequest{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), Precedences: want}, nil
}

func newAuditEscalationsCmd(g *globals) *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "escalations",
		Short: "Follow escalations of overdue acknowledgements live (open ones first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				stream, err := a.WatchEscalations(ctx, &iantv1.WatchEscalationsRequest{})
				if err != nil {
					return err
				}
				for n := 0; count == 0 || n < count; n++ {
					resp, err := stream.Recv()
					if err != nil {
						if ctx.Err() != nil {
							return nil
						}
						return err
					}
					if g.output == "json" {
						err = printJSON(cmd.OutOrStdout(), resp.GetItem())
					} else {
						err = printEscalation(cmd.OutOrStdout(), resp.GetItem())
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&count, "count", 0, "exit after this many escalations (0 = run until interrupted)")
	return cmd
}
