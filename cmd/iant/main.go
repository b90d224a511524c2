// Command iant is the IANT command-line tool: a development PKI, a whole
// demo network in one process, and the commands people use at their node
// (post, revise, revoke, reply, get, list, search, tail, ack, forward,
// consent, states).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc/status"

	"github.com/oas-cicte/iant/pkg/escape"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "iant:", errorLine(err))
		os.Exit(1)
	}
}

// run executes the command line args; main only adds signals and exit
// codes. Text from other states is hostile: besides the escaping of each
// field, every byte of human output (stdout unless -o json, and stderr)
// passes escape.Writer, so nothing printed can act on the terminal.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := &globals{}
	root := newRootCmd(g)
	root.SetArgs(args)
	out, errw := escape.NewWriter(stdout), escape.NewWriter(stderr)
	g.stderr = errw
	root.SetOut(out)
	root.SetErr(errw)
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if g.output == "json" { // its encoder escapes; it must stay valid JSON
			root.SetOut(stdout)
		}
	}
	err := root.ExecuteContext(ctx)
	if ferr := errors.Join(out.Flush(), errw.Flush()); err == nil {
		err = ferr
	}
	return err
}

// globals are the flags every node command shares.
type globals struct {
	contextFile string
	output      string
	stderr      io.Writer // warnings (a certificate expiring soon)
	language    string    // --language; see preferred
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "iant",
		Short:         "IANT, the Inter-American Network against Terrorism",
		Long:          "iant talks to an IANT node as a focal point, analyst or auditor, runs a demo network, and makes a development PKI.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err.Error() + flagSuggestion(cmd, err)} })
	root.PersistentFlags().StringVar(&g.contextFile, "context", "", "context file naming your node and your SVID (default $IANT_CONTEXT)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().StringVar(&g.language, "language", "", "show bulletins in this language when they have it: es, en, pt or fr (default: the context file's language, else the original)")
	policyCmd := newPolicyCmd()
	policyCmd.AddCommand(newPolicyExplainCmd(g))
	root.AddCommand(
		newCertsCmd(),
		policyCmd,
		newForwardCmd(g),
		newDemoCmd(),
		newBenchCmd(g),
		newPostCmd(g),
		newGetCmd(g),
		newListCmd(g),
		newTailCmd(g),
		newAckCmd(g),
		newTranslateCmd(g),
		newStatesCmd(g),
		newStatusCmd(g),
		newAuditCmd(g),
		newAdminCmd(g),
		newWhoamiCmd(g),
		newExportCmd(g),
		newImportCmd(g),
		newFeedCmd(g),
		newReviseCmd(g),
		newRevokeCmd(g),
		newReplyCmd(g),
		newSearchCmd(g),
		newConsentCmd(g),
		newConsoleCmd(g),
		newTaxiiProxyCmd(g),
	)
	return root
}

// errorLine renders an error as one printable line; gRPC errors start
// with their status code name, e.g. "PermissionDenied: ...".
func errorLine(err error) string {
	return escape.Line(errorText(err))
}

func errorText(err error) string {
	if st, ok := status.FromError(err); ok && st.Code() != 0 {
		msg := st.Code().String() + ": " + st.Message()
		if d := detailOf(st); d != "" {
			msg += " (" + d + ")"
		}
		return msg
	}
	var u usageError
	if errors.As(err, &u) {
		return "InvalidArgument: " + u.msg
	}
	return err.Error()
}

// usageError is a bad flag or argument, reported like an InvalidArgument.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// flagSuggestion offers, for a mistyped long flag, the command's flag
// nearest to it ("unknown flag: --relase" -> "; did you mean --release?").
func flagSuggestion(cmd *cobra.Command, err error) string {
	typed, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || typed == "" {
		return ""
	}
	best, bestD := "", 3 // at most two edits away
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if d := editDistance(typed, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// editDistance is the Levenshtein distance of two ASCII flag names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
