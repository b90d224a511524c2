package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/region"
)

const certsInitLong = `Make a development PKI in DIR: a self-signed CA for the trust domain
(DIR/bundle.pem, key in DIR/ca/) and an X.509 SVID with its PKCS#8 key for
the secretariat node and auditor, the backbone cluster servers
(secretariat/node/hub-1..N) and, per state, the node, a focal point and
an analyst (DIR/svid/<cc>-<role>-<name>.pem and .key), plus a manifest,
DIR/pki.json. Keys are written with mode 0600 and are for development only:
never commit them. An existing PKI is kept unless --force is given.`

func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Manage the development PKI (SPIFFE SVIDs from files)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCertsInitCmd())
	return cmd
}

func newCertsInitCmd() *cobra.Command {
	var opts devpki.Options
	var states string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Make a development CA and SVIDs for every demo principal",
		Long:  certsInitLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.States = splitStates(states)
			if states == "all" {
				opts.States = region.Codes()
			}
			l, err := devpki.Init(cmd.Context(), opts)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %d SVIDs for trust domain %s to %s\n", len(l.Entries), l.TrustDomain.Name(), l.Dir)
			fmt.Fprintf(w, "states: %s\n", strings.Join(l.States, ","))
			fmt.Fprintf(w, "bundle: %s\n", l.BundleFile)
			fmt.Fprintf(w, "valid until: %s\n", l.NotAfter.Format("2006-01-02"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "certs", "directory to write the PKI into")
	f.StringVar(&opts.TrustDomain, "trust-domain", "iant.test", "SPIFFE trust domain of the CA and every SVID")
	f.StringVar(&states, "states", "AR,BR,CA,JM,MX,US", "comma-separated upper-case ISO codes of the member states to make SVIDs for, or all")
	f.IntVar(&opts.Hubs, "hubs", 3, "backbone cluster servers to make SVIDs for (secretariat/node/hub-1..N, see deploy/nats)")
	f.BoolVar(&opts.Force, "force", false, "replace an existing PKI in --dir (a new CA: every old SVID stops working)")
	return cmd
}

// splitStates splits a comma-separated list, dropping blanks; the codes
// themselves are checked by devpki.
func splitStates(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
