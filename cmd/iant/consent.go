package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
)

func newConsentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Consent requests to forward bulletins onward: list, grant, refuse (focal points)",
		Long: `A state that received a bulletin whose marking or caveats need its origin's
consent to share it onward asks for it with iant forward ID --to CC
--request-consent. The origin's focal points see the requests (iant consent
list) and grant or refuse each; a grant is signed by the origin and lets
that one forward pass, once. Every step is audited.`,
	}
	cmd.AddCommand(newConsentListCmd(g), newConsentDecideCmd(g, "grant", iantv1.ConsentDecision_CONSENT_DECISION_GRANTED),
		newConsentDecideCmd(g, "refuse", iantv1.ConsentDecision_CONSENT_DECISION_REFUSED))
	return cmd
}

func newConsentListCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the consent requests your state made or was asked (pending ones unless --all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).ListConsentRequests(ctx, &iantv1.ListConsentRequestsRequest{IncludeDecided: all})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				return printConsents(cmd.OutOrStdout(), resp.GetRequests())
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "also list decided requests")
	return cmd
}

func newConsentDecideCmd(g *globals, verb string, d iantv1.ConsentDecision) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   verb + " REQ",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a consent request about one of your state's bulletins (focal points)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.ToUpper(strings.TrimSpace(args[0]))
			if err := bulletin.CheckLine("REQ", id); err != nil || id == "" || len(id) > 64 {
				return usagef("REQ %q is not a consent request id (as iant consent list printed it)", args[0])
			}
			if err := bulletin.CheckLine("--reason", reason); err != nil {
				return usagef("%s", err.Error())
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).DecideConsent(ctx, &iantv1.DecideConsentRequest{RequestId: id, Decision: d, Reason: reason})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				r := resp.GetRequest()
				fmt.Fprintf(cmd.OutOrStdout(), "%s request %s: %s may forward %s/%s to %s\n", decisionVerb(r.GetDecision()), escape.Line(r.GetId()),
					escape.Line(r.GetForwarder()), escape.Line(r.GetBulletin().GetOrigin()), escape.Line(r.GetBulletin().GetId()), escape.Line(r.GetTarget()))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, one line (optional)")
	return cmd
}

// decisionVerb says a decision as a verb of the answer line.
func decisionVerb(d iantv1.ConsentDecision) string {
	if d == iantv1.ConsentDecision_CONSENT_DECISION_GRANTED {
		return "granted"
	}
	return "refused"
}

// printConsents writes consent requests as a table.
func printConsents(w io.Writer, rs []*iantv1.ConsentRequest) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tBULLETIN\tFORWARDER\tTO\tREQUESTED\tDECISION\tREASON")
	for _, r := range rs {
		dec := bulletin.ConsentDecision(r.GetDecision()).String()
		if r.GetUsed() {
			dec += " (used)"
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", escape.Line(r.GetId()), escape.Line(r.GetBulletin().GetOrigin()),
			escape.Line(r.GetBulletin().GetId()), escape.Line(r.GetForwarder()), escape.Line(r.GetTarget()),
			fmtTime(r.GetRequestTime(), r.GetRequestTime() != nil), dec, oneLine(r.GetReason(), 50))
	}
	return tw.Flush()
}
