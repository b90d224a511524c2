package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/testenv"
)

const demoLong = `Run a whole IANT network in this process: a development PKI (made on the
first run), the embedded NATS JetStream backbone, the secretariat node and a
node for each state, all on loopback. It writes a context file for every demo
person into DIR/contexts, prints a line containing "ready", then example
commands, and runs until interrupted. Running it again with the same
--dir keeps the data.`

func newDemoCmd() *cobra.Command {
	var dir, states, logLevel string
	var basePort int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole demo network in one process",
		Long:  demoLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var codes []string
			for _, s := range strings.Split(states, ",") {
				s = strings.ToUpper(strings.TrimSpace(s))
				if !region.IsMember(s) {
					return usagef("--states: %q is not an OAS member state code", s)
				}
				codes = append(codes, s)
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
			nw, err := testenv.Start(cmd.Context(), testenv.Options{Dir: abs, States: codes, BasePort: basePort, Logger: logger})
			if err != nil {
				return err
			}
			defer nw.Close()
			printDemoHelp(cmd.OutOrStdout(), abs, codes, nw)
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "stopping")
			return nw.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "iant-demo", "directory for the PKI, data and context files")
	f.StringVar(&states, "states", strings.Join(testenv.DefaultStates, ","), "member states to run nodes for")
	f.IntVar(&basePort, "base-port", 7400, "backbone port; the secretariat and state nodes listen on the ports after it (0 = free ports)")
	f.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	return cmd
}

func printDemoHelp(w io.Writer, dir string, states []string, nw *testenv.Network) {
	fmt.Fprintf(w, "IANT demo network ready: backbone %s, secretariat %s, %d states (%s)\n",
		nw.Backbone.ClientURL(), nw.Secretariat.Addr(), len(states), strings.Join(states, ","))
	ctxDir := filepath.Join(dir, "contexts")
	fmt.Fprintf(w, "context files: %s\n\n", ctxDir)
	if len(states) < 2 {
		return
	}
	a, b := strings.ToLower(states[len(states)-2]), strings.ToLower(states[len(states)-1])
	fp := filepath.Join(ctxDir, a+"-focal-point-focal.yaml")
	an := filepath.Join(ctxDir, b+"-analyst-analyst.yaml")
	fmt.Fprintf(w, "Try, in another terminal:\n")
	fmt.Fprintf(w, "  iant --context %s tail --from-start\n", an)
	fmt.Fprintf(w, "  iant --context %s post --title \"Suspected travel of a foreign terrorist fighter\" \\\n", fp)
	fmt.Fprintf(w, "      --body \"Details...\" --release %s --precedence flash --category foreign-terrorist-fighter --marking amber\n", strings.ToUpper(b))
	fmt.Fprintf(w, "  iant --context %s list\n", an)
	fmt.Fprintf(w, "  iant --context %s ack ID\n", filepath.Join(ctxDir, b+"-focal-point-focal.yaml"))
	fmt.Fprintf(w, "  iant --context %s states\n", an)
	fmt.Fprintf(w, "Stop with Ctrl-C.\n")
	_ = os.Stdout.Sync()
}
