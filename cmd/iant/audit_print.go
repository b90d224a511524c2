package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
)

func precedenceString(p iantv1.Precedence) string {
	if p == iantv1.Precedence_PRECEDENCE_UNSPECIFIED {
		return "-"
	}
	return strings.ToUpper(bulletin.Precedence(p).String())
}

func tsString(ts *timestamppb.Timestamp) string { return fmtTime(ts, ts != nil) }

// durString renders a latency rounded to the millisecond; "-" when unset.
func durString(d *durationpb.Duration) string {
	if d == nil {
		return "-"
	}
	return d.AsDuration().Round(time.Millisecond).String()
}

// orDash escapes s for a table cell, "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return escape.Line(s)
}

// printReport writes a bulletin's delivery report as a table.
func printReport(w io.Writer, r *iantv1.BulletinReport) error {
	fmt.Fprintf(w, "bulletin %s  origin %s  precedence %s  posted %s\n\n", escape.Line(r.GetId()), escape.Line(r.GetOrigin()),
		precedenceString(r.GetPrecedence()), tsString(r.GetPostTime()))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tDELIVERED\tLATENCY\tREAD\tREAD BY\tACKNOWLEDGED\tLATENCY\tACK BY\tESCALATED")
	for _, rs := range r.GetRecipients() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(rs.GetState()),
			tsString(rs.GetDeliverTime()), durString(rs.GetDeliveryLatency()),
			tsString(rs.GetReadTime()), orDash(rs.GetReadBy()),
			tsString(rs.GetAcknowledgeTime()), durString(rs.GetAcknowledgeLatency()), orDash(rs.GetAcknowledgedBy()),
			tsString(rs.GetEscalateTime()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printForwards(w, r.GetRecipients())
}

// printForwards says, under a report, how each state a forward reached
// was reached: "PE reached through CO's forward at T".
func printForwards(w io.Writer, rs []*iantv1.RecipientStatus) error {
	first := true
	for _, s := range rs {
		if s.GetForwardedBy() == "" {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		at := " (not reported by the forwarder yet)"
		if s.GetForwardTime() != nil {
			at = " at " + tsString(s.GetForwardTime())
		}
		if _, err := fmt.Fprintf(w, "%s reached through %s's forward%s\n", orDash(s.GetState()), orDash(s.GetForwardedBy()), at); err != nil {
			return err
		}
	}
	return nil
}

// printOverdue writes overdue acknowledgements as a table.
func printOverdue(w io.Writer, items []*iantv1.OverdueItem, now time.Time) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "no acknowledgement is overdue")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BULLETIN\tORIGIN\tSTATE\tPRECEDENCE\tDUE\tOVERDUE BY\tDELIVERED\tESCALATED")
	for _, it := range items {
		late := "-"
		if it.GetDueTime() != nil {
			late = now.Sub(it.GetDueTime().AsTime()).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(it.GetBulletinId()), orDash(it.GetOrigin()), orDash(it.GetState()),
			precedenceString(it.GetPrecedence()), tsString(it.GetDueTime()), late,
			tsString(it.GetDeliverTime()), tsString(it.GetEscalateTime()))
	}
	return tw.Flush()
}

// printStats writes per-state statistics as a table.
func printStats(w io.Writer, states []*iantv1.StateStats) error {
	if len(states) == 0 {
		_, err := fmt.Fprintln(w, "no bulletin posted in this range")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tRELEASED\tRECEIVED\tACKNOWLEDGED\tDELIVERY P50\tDELIVERY P95\tACK P50\tACK P95")
	for _, s := range states {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", orDash(s.GetState()), s.GetReleased(), s.GetReceived(), s.GetAcknowledged(),
			durString(s.GetDeliveryP50()), durString(s.GetDeliveryP95()), durString(s.GetAcknowledgeP50()), durString(s.GetAcknowledgeP95()))
	}
	return tw.Flush()
}

// printEscalation writes one escalation as a line.
func printEscalation(w io.Writer, it *iantv1.OverdueItem) error {
	_, err := fmt.Fprintf(w, "%s escalated: %s (%s) from %s not acknowledged by %s, due %s\n",
		tsString(it.GetEscalateTime()), orDash(it.GetBulletinId()), precedenceString(it.GetPrecedence()), orDash(it.GetOrigin()),
		orDash(it.GetState()), tsString(it.GetDueTime()))
	return err
}
