package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/dirlock"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/testenv"
)

const demoLong = `Run a whole IANT network in this process: a development PKI (made on the
first run), the embedded NATS JetStream backbone, the secretariat node and a
node for every member state (all 35 unless --states names fewer), all on
loopback. It writes a context file for every demo person into DIR/contexts,
prints a line containing "ready", then example commands and the URL of the
network's Prometheus metrics (every node's, under its node label, and the
backbone's; --metrics-addr, by default on the port after the nodes' and
TAXII servers' ports), and runs until interrupted. Running it again with the same --dir keeps the data; a second
demo on a --dir in use is refused, naming the process that uses it.`

func newDemoCmd() *cobra.Command {
	var dir, states, logLevel, metricsAddr string
	var basePort int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole demo network in one process",
		Long:  demoLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			codes, err := parseStates(states)
			if err != nil {
				return err
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
			// SVIDs live a day: renew them first if they aged while the
			// demo was stopped, then as they age.
			pki := filepath.Join(abs, "pki")
			if err := renewDemoSVIDs(cmd.Context(), pki, cmd.ErrOrStderr()); err != nil {
				return err
			}
			nw, err := testenv.Start(cmd.Context(), testenv.Options{Dir: abs, States: codes, BasePort: basePort, Logger: logger, TAXII: true,
				MetricsAddr: demoMetricsAddr(metricsAddr, basePort, len(codes))})
			if le := (*dirlock.LockedError)(nil); errors.As(err, &le) {
				return fmt.Errorf("--dir %s is in use by %s, another iant demo: stop it first or choose another --dir", dir, le.Holder())
			}
			if err != nil {
				return err
			}
			defer nw.Close()
			printDemoHelp(cmd.OutOrStdout(), dir, codes, nw)
			go keepDemoSVIDsFresh(cmd.Context(), pki, cmd.ErrOrStderr())
			stop, err := startDemoConsoles(cmd.Context(), cmd.OutOrStdout(), codes, nw, logger)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintf(cmd.OutOrStdout(), "Stop with Ctrl-C.\n")
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "stopping")
			return nw.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "iant-demo", "directory for the PKI, data and context files")
	f.StringVar(&states, "states", "all", `member states to run nodes for: "all" or state codes, e.g. MX,US,JM`)
	f.IntVar(&basePort, "base-port", 7400, "backbone port; the secretariat, the state nodes and their TAXII servers listen on the ports after it (0 = free ports)")
	f.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	f.StringVar(&metricsAddr, "metrics-addr", "", `where to serve /metrics, host:port on loopback; default the port after the TAXII servers' (a free one with --base-port 0); "off" serves none`)
	return cmd
}

// parseStates reads --states: "all" or a comma-separated list of codes.
func parseStates(s string) ([]string, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return region.Codes(), nil
	}
	var codes []string
	for _, c := range strings.Split(s, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !region.IsMember(c) {
			return nil, usagef("--states: %q is not an OAS member state code (or give all)", c)
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes, nil
}

// printDemoHelp prints the "ready" line and commands to try, as a
// Mexican focal point and a US analyst when those states run.
func printDemoHelp(w io.Writer, dir string, states []string, nw *testenv.Network) {
	fmt.Fprintf(w, "IANT demo network ready: backbone %s, secretariat %s, %d states\n",
		nw.BackboneURLs()[0], nw.Secretariat.Addr(), len(states))
	ctxDir := filepath.Join(dir, "contexts")
	fmt.Fprintf(w, "context files: %s\n", ctxDir)
	if u := nw.MetricsURL(); u != "" {
		fmt.Fprintf(w, "metrics: %s (Prometheus; dashboard and alerts in deploy/grafana, deploy/prometheus)\n", u)
	}
	fmt.Fprintln(w)
	if len(states) < 2 {
		return
	}
	from, to := states[0], states[1]
	if slices.Contains(states, "MX") && slices.Contains(states, "US") {
		from, to = "MX", "US"
	}
	ctx := func(cc, person string) string {
		return filepath.Join(ctxDir, strings.ToLower(cc)+"-"+person+".yaml")
	}
	fmt.Fprintf(w, "Try, in another terminal (README.md, \"A five-minute tour\"):\n")
	fmt.Fprintf(w, "  iant --context %s tail --from-start\n", ctx(to, "analyst-analyst"))
	fmt.Fprintf(w, "  iant --context %s post --title \"Suspected travel of a foreign terrorist fighter\" \\\n", ctx(from, "focal-point-focal"))
	fmt.Fprintf(w, "      --body \"Details...\" --release %s --precedence flash --category foreign-terrorist-fighter --marking amber\n", to)
	fmt.Fprintf(w, "  iant --context %s list\n", ctx(to, "analyst-analyst"))
	fmt.Fprintf(w, "  iant --context %s states\n", ctx(to, "analyst-analyst"))
	fmt.Fprintf(w, "  iant --context %s admin state list      # the membership table (docs/operations.md)\n",
		filepath.Join(ctxDir, "secretariat-admin-admin.yaml"))
	printInterop(w, dir, strings.ToLower(to), nw)
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
	fmt.Fprintf(w, "  iant --context %s taxii-proxy   (on loopback, for clients without a client certificate)\n", ctx)
	fmt.Fprintf(w, "MISP feed and STIX export:\n")
	fmt.Fprintf(w, "  iant --context %s feed misp --dir %s\n", ctx, filepath.Join(dir, "misp-feed"))
	fmt.Fprintf(w, "  iant --context %s export ID --format stix\n", ctx)
}

// demoMetricsAddr is where the demo serves its metrics: addr as given
// ("off": nowhere), else the loopback port after the nodes' and their
// TAXII servers' ports (2 + 2*states after basePort), or a free port when
// basePort is 0.
func demoMetricsAddr(addr string, basePort, states int) string {
	switch {
	case addr == "off":
		return ""
	case addr != "":
		return addr
	case basePort == 0:
		return "127.0.0.1:0"
	}
	return fmt.Sprintf("127.0.0.1:%d", basePort+2+2*states)
}
