package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/identity"
)

const statusLong = `Show how your node fares: it runs its health checks now (the backbone
answers, the inbox consumer is provisioned, the node's directory entry is
published and fresh, its disks have room, its SVID is valid) and prints
them with the reason of each that fails, then the backbone connection,
what waits for the backbone, the node's certificate, its key generations
and its disks. Any person of the node's state may ask (at the
secretariat's node, its people); nothing of any bulletin is shown.`

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show your node's health, backbone, queues, certificate and keys",
		Long:  statusLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			conn, me, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			st, err := iantv1.NewStatusServiceClient(conn).GetStatus(cmd.Context(), &iantv1.GetStatusRequest{})
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), st)
			}
			// A state's node gives its traffic counts to focal points
			// only, the others zeros: say so rather than print them.
			counts := st.GetState() == "" || me.Role == identity.RoleFocalPoint
			return printStatus(cmd.OutOrStdout(), st, counts, time.Now())
		},
	}
}

// printStatus prints a node's status for a person: a summary, then its
// checks and its disks as tables. Without counts (the node withholds
// its traffic counts from the person) it says so instead of zeros.
func printStatus(w io.Writer, st *iantv1.GetStatusResponse, counts bool, now time.Time) error {
	serving := "NOT SERVING"
	if st.GetServing() {
		serving = "SERVING"
	}
	fmt.Fprintf(w, "node         %s %s, up since %s\n", escape.Line(st.GetNodeId()), serving, fmtTime(st.GetStartTime(), st.GetStartTime() != nil))
	fmt.Fprintf(w, "backbone     %s\n", backboneLine(st.GetBackbone(), st.GetState() != "" && counts))
	if q := st.GetQueues(); q != nil && !counts {
		fmt.Fprintf(w, "queues       bound %d copies waiting for the backbone; the traffic counts are shown to focal points only\n", q.GetMaxPendingCopies())
	} else if q != nil {
		fmt.Fprintf(w, "queues       %d copies wait for the backbone (bound %d), %d receipts; %d copies published since start\n",
			q.GetCopiesPending(), q.GetMaxPendingCopies(), q.GetReceiptsPending(), q.GetCopiesPublished())
	}
	if c := st.GetCertificate(); c != nil {
		fmt.Fprintf(w, "certificate  %s, valid until %s (%s left)\n", escape.Line(c.GetSpiffeId()),
			fmtTime(c.GetNotAfter(), true), roundLeft(c.GetNotAfter().AsTime().Sub(now)))
	}
	for i, k := range st.GetKeyGenerations() {
		label := "keys"
		if i > 0 {
			label = ""
		}
		state := "current"
		if !k.GetCurrent() {
			state = "retired " + fmtTime(k.GetRetireTime(), k.GetRetireTime() != nil)
		}
		fmt.Fprintf(w, "%-12s %s  %s, made %s\n", label, escape.Line(k.GetKemKeyId()), state, fmtTime(k.GetCreateTime(), k.GetCreateTime() != nil))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tSINCE\tDETAIL")
	for _, c := range st.GetChecks() {
		ok := "ok"
		if !c.GetOk() {
			ok = "FAILING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", escape.Line(c.GetName()), ok, fmtTime(c.GetSince(), c.GetSince() != nil), orDash(c.GetDetail()))
	}
	fmt.Fprintln(tw, "\nDISK\tFREE\tMINIMUM\tPATH")
	for _, v := range st.GetVolumes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", escape.Line(v.GetName()), health.Bytes(v.GetFreeBytes()), health.Bytes(v.GetMinFreeBytes()), escape.Line(v.GetPath()))
	}
	return tw.Flush()
}

// backboneLine describes the connection; inbox says whether the node
// has one (a state's node).
func backboneLine(b *iantv1.BackboneStatus, inbox bool) string {
	var parts []string
	switch {
	case b.GetConnected():
		parts = append(parts, "connected to "+escape.Line(b.GetConnectedUrl()))
	default:
		parts = append(parts, "NOT CONNECTED (configured: "+escape.Line(strings.Join(b.GetUrls(), ", "))+")")
	}
	if b.GetLeaf() {
		link := "link to the backbone DOWN"
		if b.GetLeafLinked() {
			link = "link to the backbone up"
		}
		parts = append(parts, "behind its leaf node, "+link+" ("+escape.Line(strings.Join(b.GetUrls(), ", "))+")")
	}
	if b.GetConnected() && inbox {
		parts = append(parts, fmt.Sprintf("inbox: %d waiting, %d unacknowledged", b.GetInboxPending(), b.GetInboxAckPending()))
	}
	return strings.Join(parts, "; ")
}

// roundLeft renders a remaining time in days, or hours and minutes.
func roundLeft(d time.Duration) string {
	switch {
	case d <= 0:
		return "EXPIRED"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}
