package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/region"
)

const certsInitLong = `Make a development PKI in DIR: a self-signed CA for the trust domain
(DIR/bundle.pem, key in DIR/ca/, valid a year) and an X.509 SVID with its
PKCS#8 key, valid a day (iant certs renew issues new ones), for the
secretariat node, auditor and administrator, the backbone cluster servers
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
	cmd.AddCommand(newCertsInitCmd(), newCertsRenewCmd())
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
			fmt.Fprintf(w, "SVIDs valid until: %s (iant certs renew)\n", l.SVIDNotAfter.Format(time.RFC3339))
			fmt.Fprintf(w, "CA valid until: %s\n", l.NotAfter.Format("2006-01-02"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "certs", "directory to write the PKI into")
	f.StringVar(&opts.TrustDomain, "trust-domain", "iant.test", "SPIFFE trust domain of the CA and every SVID")
	f.StringVar(&states, "states", "AR,BR,CA,JM,MX,US", "comma-separated upper-case ISO codes of the member states to make SVIDs for, or all")
	f.IntVar(&opts.Hubs, "hubs", 3, "backbone cluster servers to make SVIDs for (secretariat/node/hub-1..N, see deploy/nats)")
	f.BoolVar(&opts.Force, "force", false, "replace an existing PKI in --dir (a new CA: every old SVID stops working)")
	f.DurationVar(&opts.SVIDValidity, "svid-validity", devpki.DefaultSVIDValidity, "how long each SVID is valid")
	return cmd
}

const certsRenewLong = `Issue new SVIDs, each with a new key and serial number, for every
principal of the development PKI in DIR (or only the SPIFFE IDs given with
--only), signed by its CA, written over the old files. Running nodes and
the demo take the new ones on their next connection without a restart;
people's contexts name the same files. The old certificates stay valid
until they expire: after a theft, also deny the stolen one by its serial
(iant admin deny SERIAL --reason ...). The demo renews its own SVIDs as
they age.`

func newCertsRenewCmd() *cobra.Command {
	var dir string
	var only []string
	var validity time.Duration
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Issue new SVIDs (new keys) for the development PKI",
		Long:  certsRenewLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := devpki.RenewOptions{SVIDValidity: validity}
			for _, o := range only {
				id, err := spiffeid.FromString(o)
				if err != nil {
					return usagef("--only %q: %v", o, err)
				}
				opts.Only = append(opts.Only, id)
			}
			l, err := devpki.Renew(cmd.Context(), dir, opts)
			if err != nil {
				return err
			}
			n := len(opts.Only)
			if n == 0 {
				n = len(l.Entries)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "renewed %d SVID(s) in %s; the first of the PKI's SVIDs expires %s\n", n, l.Dir, l.SVIDNotAfter.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "certs", "directory of the PKI (made by iant certs init)")
	f.StringSliceVar(&only, "only", nil, "renew only these SPIFFE IDs (repeat or comma-separate)")
	f.DurationVar(&validity, "svid-validity", devpki.DefaultSVIDValidity, "how long each new SVID is valid")
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
