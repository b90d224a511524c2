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
	if err := printForwards(w, r.GetRecipients()); err != nil {
		return err
	}
	return printLife(w, r)
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

// printStats writes per-state statistics as a table, then each state's
// histograms by precedence (those with bulletins).
func printStats(w io.Writer, resp *iantv1.GetStatsResponse) error {
	states := resp.GetStates()
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
	if err := tw.Flush(); err != nil {
		return err
	}
	return printHistograms(w, resp)
}

// shortDur is a bucket bound as people say it: 15s, 5m, 4h.
func shortDur(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// printHistograms writes, per state and precedence with bulletins, the
// delivery and acknowledgement histograms over the answer's buckets.
func printHistograms(w io.Writer, resp *iantv1.GetStatsResponse) error {
	bounds := resp.GetBucketBounds()
	if len(bounds) == 0 {
		return nil
	}
	head := []string{"STATE", "PRECEDENCE", "TIME"}
	for _, b := range bounds {
		head = append(head, "<="+shortDur(b.AsDuration()))
	}
	head = append(head, ">"+shortDur(bounds[len(bounds)-1].AsDuration()), "NOT YET", "OVERDUE")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, s := range resp.GetStates() {
		for _, p := range s.GetPrecedences() {
			if p.GetReleased() == 0 {
				continue
			}
			for _, d := range []struct {
				name    string
				dist    *iantv1.LatencyDistribution
				overdue string
			}{{"delivery", p.GetDelivery(), ""}, {"acknowledgement", p.GetAcknowledgement(), fmt.Sprint(p.GetOverdue())}} {
				row := []string{orDash(s.GetState()), precedenceString(p.GetPrecedence()), d.name}
				for _, n := range d.dist.GetBucketCounts() {
					row = append(row, fmt.Sprint(n))
				}
				row = append(row, fmt.Sprint(d.dist.GetNever()), orDash(d.overdue))
				fmt.Fprintln(tw, strings.Join(row, "\t"))
			}
		}
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

// printLife says, under a report, the bulletin's life: its latest
// revision, its revocation and each state's confirmation ("US confirmed
// the revocation at T", "JM: confirmation pending"), and the thread of
// replies and consents, without their content ("BR sighting at T, after
// 14m").
func printLife(w io.Writer, r *iantv1.BulletinReport) error {
	var lines []string
	if r.GetRevision() > 1 {
		lines = append(lines, fmt.Sprintf("latest revision: %d", r.GetRevision()))
	}
	if r.GetRevokeTime() != nil {
		lines = append(lines, fmt.Sprintf("revoked at %s by %s", tsString(r.GetRevokeTime()), orDash(r.GetRevokedBy())))
	}
	for _, s := range r.GetRecipients() {
		if s.GetRevocationTime() == nil {
			continue
		}
		switch {
		case s.GetRevokedTime() != nil:
			lines = append(lines, fmt.Sprintf("%s confirmed the revocation at %s", orDash(s.GetState()), tsString(s.GetRevokedTime())))
		case s.GetRevocationEscalateTime() != nil:
			lines = append(lines, fmt.Sprintf("%s: confirmation of the revocation overdue, escalated at %s", orDash(s.GetState()), tsString(s.GetRevocationEscalateTime())))
		default:
			lines = append(lines, fmt.Sprintf("%s: confirmation of the revocation pending (sent %s)", orDash(s.GetState()), tsString(s.GetRevocationTime())))
		}
	}
	for _, it := range r.GetThread() {
		what := bulletin.Kind(it.GetKind()).String()
		switch {
		case it.GetReplyKind() != iantv1.ReplyKind_REPLY_KIND_UNSPECIFIED:
			what = bulletin.ReplyKind(it.GetReplyKind()).String()
		case it.GetDecision() != iantv1.ConsentDecision_CONSENT_DECISION_UNSPECIFIED:
			what = "consent " + bulletin.ConsentDecision(it.GetDecision()).String()
		}
		line := fmt.Sprintf("%s %s at %s", orDash(it.GetOrigin()), what, tsString(it.GetCreateTime()))
		if it.GetLatency() != nil {
			line += ", after " + durString(it.GetLatency())
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n"))
	return err
}
