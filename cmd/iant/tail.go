package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/escape"
)

const tailLong = `Follow bulletins live as your node stores them.

tail first prints what is stored after the resume point, then every new
matching bulletin, in order. With --cursor-file it records the cursor of each
bulletin it prints and resumes from it next time, so nothing is missed or
printed twice across restarts of tail or of the node; when the node goes
away, tail reconnects and resumes by itself, reading the context file again
(a demo restarted on other ports is found). A cursor beyond the newest your
node holds (from another node, or from before its store was rebuilt) is
refused: start again with --from-start.`

type tailOpts struct {
	filter     filterFlags
	fromStart  bool
	after      uint64
	cursorFile string
	count      int
}

func newTailCmd(g *globals) *cobra.Command {
	var o tailOpts
	cmd := &cobra.Command{
		Use:     "tail",
		Short:   "Follow bulletins live (subscribe), resumable",
		Long:    tailLong,
		Example: "  iant tail --region caribbean --cursor-file ~/.iant/caribbean.cursor",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			return g.tail(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	o.filter.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.fromStart, "from-start", false, "start with the oldest stored bulletin")
	f.Uint64Var(&o.after, "after", 0, "start after this cursor")
	f.StringVar(&o.cursorFile, "cursor-file", "", "read the resume cursor from this file and record each printed cursor in it")
	f.IntVar(&o.count, "count", 0, "exit after printing this many bulletins (0 = run until interrupted)")
	return cmd
}

func (g *globals) tail(ctx context.Context, out, errw io.Writer, o tailOpts) error {
	filter, err := o.filter.toProto(time.Now())
	if err != nil {
		return err
	}
	cursor, err := readCursor(o.cursorFile)
	if err != nil {
		return err
	}
	if o.after > 0 {
		cursor = o.after
	}
	pref, err := g.preferred()
	if err != nil {
		return err
	}
	t := &tailer{g: g, out: out, o: o, filter: filter, cursor: cursor, pref: pref}
	backoff := 200 * time.Millisecond
	for {
		progressed, err := t.follow(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errDone):
			return nil
		case status.Code(err) != codes.Unavailable && !errors.Is(err, io.EOF):
			return err
		case progressed:
			backoff = 200 * time.Millisecond
		}
		fmt.Fprintf(errw, "iant: node unavailable, resuming after cursor %d in %v\n", t.cursor, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// errDone ends tail after --count bulletins.
var errDone = errors.New("count reached")

// tailer follows one subscription at a time, resuming after cursor.
type tailer struct {
	g       *globals
	out     io.Writer
	o       tailOpts
	filter  *iantv1.BulletinFilter
	cursor  uint64
	printed int
	pref    bulletin.Language // shown language, see globals.preferred
}

// follow dials the node named by the context file — read again on every
// reconnect, so a node (or a whole demo) that restarted on other ports is
// found — and prints what the subscription delivers until it ends. It
// reports whether anything was printed.
func (t *tailer) follow(ctx context.Context) (bool, error) {
	conn, _, err := t.g.dial(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	req := &iantv1.SubscribeRequest{Filter: t.filter, AfterCursor: t.cursor, FromStart: t.o.fromStart && t.cursor == 0}
	stream, err := bulletinClient(conn).Subscribe(ctx, req)
	progressed := false
	for err == nil {
		var resp *iantv1.SubscribeResponse
		if resp, err = stream.Recv(); err != nil {
			break
		}
		progressed = true
		r := resp.GetBulletin()
		if err := printTailLine(t.out, t.g.output, r, t.pref); err != nil {
			return progressed, err
		}
		t.cursor = r.GetCursor()
		if err := writeCursor(t.o.cursorFile, t.cursor); err != nil {
			return progressed, err
		}
		if t.printed++; t.o.count > 0 && t.printed >= t.o.count {
			return progressed, errDone
		}
	}
	return progressed, err
}

func printTailLine(w io.Writer, output string, r *iantv1.StoredBulletin, pref bulletin.Language) error {
	if output == "json" {
		return printJSON(w, r)
	}
	b := r.GetBulletin()
	_, err := fmt.Fprintf(w, "%d  %s  %s  %-9s  %-12s  %s  %s\n", r.GetCursor(), escape.Line(b.GetId()), escape.Line(b.GetOrigin()),
		strings.ToUpper(bulletin.Precedence(b.GetPrecedence()).String()), markingString(b.GetMarking()),
		bulletin.Category(b.GetCategory()), kindTag(r)+shownTitle(b, preferredFor(r, pref), 70))
	return err
}

func readCursor(path string) (uint64, error) {
	if path == "" {
		return 0, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor file: %w", err)
	}
	c, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, usagef("cursor file %s does not hold a cursor", path)
	}
	return c, nil
}

// writeCursor replaces the cursor file atomically.
func writeCursor(path string, c uint64) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(c, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("cursor file: %w", err)
	}
	return os.Rename(tmp, path)
}
