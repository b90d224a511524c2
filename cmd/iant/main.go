// Command iant is the IANT command-line tool: a development PKI, a whole
// demo network in one process, and the commands people use at their node
// (post, get, list, tail, ack, states).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"
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

// run executes the command line args; main only adds signals and exit codes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// globals are the flags every node command shares.
type globals struct {
	contextFile string
	output      string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "iant",
		Short:         "IANT, the Inter-American Network against Terrorism",
		Long:          "iant talks to an IANT node as a focal point, analyst or auditor, runs a demo network, and makes a development PKI.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.contextFile, "context", "", "context file naming your node and your SVID (default $IANT_CONTEXT)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
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
		newStatesCmd(g),
		newAuditCmd(g),
		newExportCmd(g),
		newImportCmd(g),
		newFeedCmd(g),
	)
	return root
}

// errorLine renders an error as one line; gRPC errors start with their
// status code name, e.g. "PermissionDenied: ...".
func errorLine(err error) string {
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
