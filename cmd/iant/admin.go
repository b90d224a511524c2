package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

const adminLong = `Administer the network at the secretariat's node: the membership table
(which member states are on the network, and whether active, suspended or
removed) and the deny list (identities and certificates no node and no
backbone server accepts any more). Each change is a new version of a
document the secretariat's node signs with its membership key and
publishes on the backbone, where every node and backbone server verifies
it with the key it is configured with and never goes back to an older one.

Only secretariat administrators (secretariat/admin/<name>) change them;
auditors may read them (state list, deny list). With a context naming a
state's node, iant finds the secretariat's node in its directory.`

func newAdminCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Membership and deny list of the network (secretariat administrators)",
		Long:  adminLong,
	}
	cmd.AddCommand(newAdminStateCmd(g), newAdminDenyCmd(g), newAdminAllowCmd(g), newAdminKeygenCmd())
	return cmd
}

// withAdmin runs fn with an AdminService client of the secretariat node.
func (g *globals) withAdmin(cmd *cobra.Command, fn func(ctx context.Context, a iantv1.AdminServiceClient) error) error {
	if err := g.checkOutput(); err != nil {
		return err
	}
	conn, err := g.dialSecretariat(cmd.Context())
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(cmd.Context(), iantv1.NewAdminServiceClient(conn))
}

func newAdminStateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Add, suspend, reinstate or remove a member state; list the membership table",
	}
	var regionName, reason string
	var nodes []string
	add := &cobra.Command{
		Use:   "add CC --region REGION",
		Short: "Add a state to the running network (its inbox is provisioned, then the table published)",
		Long: `Add state CC (an upper-case ISO code of the region table) to the running
network: the secretariat's node provisions its inbox on the backbone,
then signs and publishes the next membership table. The backbone servers
then admit its node (configuration reload, nobody else's connection
touched), and every node releases to it from then on, as part of its
region. --region must be the state's region in the region table.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if regionName == "" {
				return usagef("--region is required to add a state (north-america, central-america, caribbean or south-america)")
			}
			r, err := region.Parse(regionName)
			if err != nil {
				return usagef("--region: %v", err)
			}
			return changeState(cmd, g, iantv1.MembershipChange_MEMBERSHIP_CHANGE_ADD, args[0], r, nodes, reason)
		},
	}
	add.Flags().StringVar(&regionName, "region", "", "the state's region (required): north-america, central-america, caribbean or south-america")
	add.Flags().StringSliceVar(&nodes, "node", nil, "name of a node of the state the backbone admits (spiffe://TD/state/CC/node/NAME); default node")
	add.Flags().StringVar(&reason, "reason", "", "why, kept in the signed table")
	cmd.AddCommand(add)
	for _, c := range []struct {
		kind  iantv1.MembershipChange
		use   string
		short string
	}{
		{iantv1.MembershipChange_MEMBERSHIP_CHANGE_SUSPEND, "suspend", "Suspend a member: its node is cut off at once, copies to it queue until reinstated"},
		{iantv1.MembershipChange_MEMBERSHIP_CHANGE_REINSTATE, "reinstate", "Reinstate a suspended member: its node reconnects and catches up"},
		{iantv1.MembershipChange_MEMBERSHIP_CHANGE_REMOVE, "remove", "Remove a member for good: cut off, and nothing is released to it any more"},
	} {
		var why string
		sub := &cobra.Command{
			Use:   c.use + " CC",
			Short: c.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return changeState(cmd, g, c.kind, args[0], region.Unspecified, nil, why)
			},
		}
		sub.Flags().StringVar(&why, "reason", "", "why, kept in the signed table")
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Show the membership table the secretariat's node holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAdmin(cmd, func(ctx context.Context, a iantv1.AdminServiceClient) error {
				resp, err := a.GetMembership(ctx, &iantv1.GetMembershipRequest{})
				if err != nil {
					return err
				}
				return printMembership(cmd.OutOrStdout(), g, resp.GetTable())
			})
		},
	})
	return cmd
}

func changeState(cmd *cobra.Command, g *globals, kind iantv1.MembershipChange, cc string, r region.Region, nodes []string, reason string) error {
	return g.withAdmin(cmd, func(ctx context.Context, a iantv1.AdminServiceClient) error {
		resp, err := a.ChangeMembership(ctx, &iantv1.ChangeMembershipRequest{Change: kind, State: strings.TrimSpace(cc),
			Region: iantv1.Region(r), Nodes: nodes, Reason: reason})
		if err != nil {
			return err
		}
		if g.output == "json" {
			return printJSON(cmd.OutOrStdout(), resp.GetTable())
		}
		verb := strings.ToLower(strings.TrimPrefix(kind.String(), "MEMBERSHIP_CHANGE_"))
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %s; membership table version %d signed and published\n",
			escape.Line(cc), map[string]string{"add": "added", "suspend": "suspended", "reinstate": "reinstated", "remove": "removed"}[verb], resp.GetTable().GetVersion())
		return err
	})
}

// printMembership prints a membership table.
func printMembership(w io.Writer, g *globals, t *iantv1.MembershipTable) error {
	if g.output == "json" {
		return printJSON(w, t)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tREGION\tSTATUS\tSINCE\tNODES\tREASON")
	for _, m := range t.GetMembers() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", escape.Line(m.GetState()), region.Region(m.GetRegion()), memberStatus(m.GetStatus()),
			fmtTime(m.GetSinceTime(), m.GetSinceTime() != nil), orDash(escape.Line(strings.Join(m.GetNodes(), ","))), orDash(escape.Line(m.GetReason())))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nmembership table version %d, signed %s\n", t.GetVersion(), fmtTime(t.GetIssueTime(), t.GetIssueTime() != nil))
	return err
}

// memberStatus renders a standing as the table writes it.
func memberStatus(s iantv1.MemberStatus) string {
	switch s {
	case iantv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED:
		return "-"
	case iantv1.MemberStatus_MEMBER_STATUS_NOT_MEMBER:
		return "not a member"
	}
	return membership.Status(s).String()
}

const denyLong = `Deny a SPIFFE ID (every certificate naming it: a person or a node that
must not take part any more) or one certificate by its serial number (a
stolen key; the owner gets a new certificate and carries on). The
secretariat's node signs and publishes the next deny list: every node
refuses the identity on new calls and ends its open streams, and the
backbone drops a denied node's connections and refuses it on
reconnecting, within seconds. The serial is hexadecimal, with or without
colons (openssl x509 -noout -serial prints it). With SPIRE, also delete
the registration entry (docs/operations.md).`

func newAdminDenyCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "deny SPIFFE_ID|SERIAL --reason TEXT",
		Short: "Deny an identity or a certificate network-wide; deny list shows the list",
		Long:  denyLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usagef("--reason is required: it is kept in the signed deny list")
			}
			id, serial := denyTarget(args[0])
			return g.withAdmin(cmd, func(ctx context.Context, a iantv1.AdminServiceClient) error {
				resp, err := a.Deny(ctx, &iantv1.DenyRequest{SpiffeId: id, Serial: serial, Reason: reason})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp.GetDenyList())
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "denied %s; deny list version %d signed and published\n", escape.Line(args[0]), resp.GetDenyList().GetVersion())
				return err
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required), kept in the signed list")
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Show the deny list the secretariat's node holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAdmin(cmd, func(ctx context.Context, a iantv1.AdminServiceClient) error {
				resp, err := a.ListDenied(ctx, &iantv1.ListDeniedRequest{})
				if err != nil {
					return err
				}
				return printDenyList(cmd.OutOrStdout(), g, resp.GetDenyList())
			})
		},
	})
	return cmd
}

func newAdminAllowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "allow SPIFFE_ID|SERIAL",
		Short: "Remove an entry from the deny list (a mistaken denial)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, serial := denyTarget(args[0])
			return g.withAdmin(cmd, func(ctx context.Context, a iantv1.AdminServiceClient) error {
				resp, err := a.Allow(ctx, &iantv1.AllowRequest{SpiffeId: id, Serial: serial})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp.GetDenyList())
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "allowed %s again; deny list version %d signed and published\n", escape.Line(args[0]), resp.GetDenyList().GetVersion())
				return err
			})
		},
	}
}

// denyTarget tells a SPIFFE ID from a serial number.
func denyTarget(arg string) (id, serial string) {
	arg = strings.TrimSpace(arg)
	if strings.HasPrefix(arg, "spiffe://") {
		return arg, ""
	}
	return "", arg
}

func printDenyList(w io.Writer, g *globals, l *iantv1.DenyList) error {
	if g.output == "json" {
		return printJSON(w, l)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DENIED\tSINCE\tBY\tREASON")
	for _, e := range l.GetEntries() {
		target := e.GetSpiffeId()
		if target == "" {
			target = "serial " + e.GetSerial()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", escape.Line(target), fmtTime(e.GetDenyTime(), e.GetDenyTime() != nil), escape.Line(e.GetDeniedBy()), escape.Line(e.GetReason()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\ndeny list version %d\n", l.GetVersion())
	return err
}

func newAdminKeygenCmd() *cobra.Command {
	var dir, td string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make the secretariat's membership key in its data directory (before a cluster's first start)",
		Long: `Make the secretariat's membership signing key in DIR (membership.key, 0600,
and membership.vkey beside it), or read it if it is there, and print the
verifier key. The secretariat's node makes it itself on its first start;
run this first when the backbone servers (iant-backbone) start before it
and must be configured with the verifier key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("--dir is required: the secretariat node's data_dir")
			}
			if _, err := spiffeid.TrustDomainFromString(td); err != nil {
				return usagef("--trust-domain %q: %v", td, err)
			}
			_, vkey, err := membership.LoadOrCreateKey(dir, td)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), vkey)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the secretariat node's data_dir (required)")
	cmd.Flags().StringVar(&td, "trust-domain", "iant.test", "the network's SPIFFE trust domain")
	return cmd
}
