package main

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/region"
)

func newForwardCmd(g *globals) *cobra.Command {
	var target, origin, reason string
	var askConsent bool
	cmd := &cobra.Command{
		Use:   "forward ID --to CC [--request-consent [--reason TEXT]]",
		Short: "Share a received bulletin onward with another state (focal points), where its marking allows",
		Long: `Share a bulletin your state received from its origin with another member
state. The network policy decides: CLEAR and GREEN bulletins may be shared;
AMBER, AMBER+STRICT, RED and bulletins with the no-onward-sharing or
originator-consent-required caveats may not. A refusal names the policy that
decided it. The target receives the origin's bulletin, still signed by the
origin, with your node's signed statement of the forward. Your state's own
bulletins are not forwarded (post them again to reach more states), nor are
bulletins that reached your state through a forward.

Where the origin's consent would allow it (AMBER, AMBER+STRICT,
originator-consent-required), --request-consent asks the origin's focal
points instead (iant consent list shows the answer); once they grant it,
run iant forward ID --to CC again: the grant serves that one forward.`,
		Example: "  iant forward 01K… --to CO\n  iant forward 01K… --to CO --request-consent --reason \"joint operation\"",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			cc, err := originFlag(origin)
			if err != nil {
				return err
			}
			to := strings.ToUpper(strings.TrimSpace(target))
			switch {
			case target == "":
				return usagef("--to is required: the state code to forward to")
			case !region.IsMember(to):
				return usagef("--to: %q is not an OAS member state code", target)
			}
			if askConsent {
				return g.requestConsent(cmd, id, cc, to, reason)
			}
			if reason != "" {
				return usagef("--reason goes with --request-consent")
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).ForwardBulletin(ctx, &iantv1.ForwardBulletinRequest{Id: id, TargetState: to, Origin: cc})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "forwarded %s to %s\n", resp.GetBulletin().GetBulletin().GetId(), resp.GetTargetState())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&target, "to", "", "state code to forward to")
	cmd.Flags().StringVar(&origin, "origin", "", originUsage)
	cmd.Flags().BoolVar(&askConsent, "request-consent", false, "ask the origin for consent to this forward instead of forwarding")
	cmd.Flags().StringVar(&reason, "reason", "", "with --request-consent: why, one line")
	return cmd
}

// requestConsent asks bulletin (origin, id)'s origin for consent to
// forward it to target.
func (g *globals) requestConsent(cmd *cobra.Command, id, origin, target, reason string) error {
	if err := bulletin.CheckLine("--reason", reason); err != nil {
		return usagef("%s", err.Error())
	}
	return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
		resp, err := bulletinClient(conn).RequestForwardConsent(ctx, &iantv1.RequestForwardConsentRequest{Id: id, Origin: origin, TargetState: target, Reason: reason})
		if err != nil {
			return err
		}
		if g.output == "json" {
			return printJSON(cmd.OutOrStdout(), resp)
		}
		r := resp.GetRequest()
		fmt.Fprintf(cmd.OutOrStdout(), "asked %s for consent to forward %s to %s: request %s (iant consent list shows the answer)\n",
			escape.Line(r.GetBulletin().GetOrigin()), escape.Line(r.GetBulletin().GetId()), escape.Line(r.GetTarget()), escape.Line(r.GetId()))
		return nil
	})
}

func newPolicyExplainCmd(g *globals) *cobra.Command {
	var as, origin string
	cmd := &cobra.Command{
		Use:   "explain ID",
		Short: "Explain why a person can or cannot read a bulletin (asks your node)",
		Long: `Ask your node why a person of your state can or cannot read a bulletin:
every policy of the network set, and whether it matched. Without --as it
explains for you; focal points may ask about another person of their state.`,
		Example: "  iant policy explain --as spiffe://iant.test/state/US/analyst/analyst 01K…",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := bulletinID("ID", args[0])
			if err != nil {
				return err
			}
			if !utf8.ValidString(as) {
				return usagef("--as: not valid UTF-8")
			}
			cc, err := originFlag(origin)
			if err != nil {
				return err
			}
			return g.withConn(cmd, func(ctx context.Context, conn *grpc.ClientConn) error {
				resp, err := bulletinClient(conn).ExplainRead(ctx, &iantv1.ExplainReadRequest{Id: id, SpiffeId: as, Origin: cc})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				verdict := "may NOT read"
				if resp.GetAllowed() {
					verdict = "may read"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: decided by %s\n%s", verdict, escape.Line(strings.Join(resp.GetPolicyIds(), ", ")), escape.Block(resp.GetExplanation()))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "SPIFFE ID of the person to explain for (default: you)")
	cmd.Flags().StringVar(&origin, "origin", "", originUsage)
	return cmd
}
