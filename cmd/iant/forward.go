package main

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/region"
)

func newForwardCmd(g *globals) *cobra.Command {
	var target, origin string
	cmd := &cobra.Command{
		Use:   "forward ID --to CC",
		Short: "Share a received bulletin onward with another state (focal points), where its marking allows",
		Long: `Share a bulletin your state received from its origin with another member
state. The network policy decides: CLEAR and GREEN bulletins may be shared;
AMBER, AMBER+STRICT, RED and bulletins with the no-onward-sharing or
originator-consent-required caveats may not. A refusal names the policy that
decided it. The target receives the origin's bulletin, still signed by the
origin, with your node's signed statement of the forward. Your state's own
bulletins are not forwarded (post them again to reach more states), nor are
bulletins that reached your state through a forward.`,
		Example: "  iant forward 01K… --to CO",
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
	return cmd
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
