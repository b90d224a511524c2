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
			nw, err := testenv.Start(cmd.Context(), testenv.Options{Dir: abs, States: codes, BasePort: basePort, Logger: logger, TAXII: true})
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
	f.IntVar(&basePort, "base-port", 7400, "backbone port; the secretariat, the state nodes and their TAXII servers listen on the ports after it (0 = free ports)")
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
	printInterop(w, dir, b, nw)
	fmt.Fprintf(w, "Stop with Ctrl-C.\n")
	_ = os.Stdout.Sync()
}

// printInterop prints the TAXII servers and how to point a TAXII client
// and a MISP instance at the demo (docs/interop.md).
func printInterop(w io.Writer, dir, cc string, nw *testenv.Network) {
	fmt.Fprintf(w, "\nTAXII 2.1 servers (HTTPS with the node's SVID; present a person's SVID):\n")
	for _, s := range nw.States() {
		fmt.Fprintf(w, "  %s  %s\n", s, nw.TAXIIURL(s))
	}
	an := testenv.Analyst(strings.ToUpper(cc))
	if e, ok := nw.PKI.Find(an); ok {
		// The node's certificate is a SPIFFE SVID without a host name:
		// curl cannot check the name (-k), on loopback only.
		fmt.Fprintf(w, "  curl -k --cert %s --key %s -H 'Accept: application/taxii+json;version=2.1' %s\n",
			e.CertFile, e.KeyFile, nw.TAXIIURL(strings.ToUpper(cc)))
	}
	ctx := filepath.Join(dir, "contexts", cc+"-analyst-analyst.yaml")
	fmt.Fprintf(w, "MISP feed and STIX export:\n")
	fmt.Fprintf(w, "  iant --context %s feed misp --dir %s\n", ctx, filepath.Join(dir, "misp-feed"))
	fmt.Fprintf(w, "  iant --context %s export ID --format stix\n", ctx)
}
