package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/membership"
)

func newWhoamiCmd(g *globals) *cobra.Command {
	var serialOnly bool
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the identity of your context: SPIFFE ID, certificate serial number, expiry",
		Long: `Show the SPIFFE ID, the certificate's serial number (as iant admin deny
takes it) and its validity, read from your context's certificate file;
nothing is sent to the node. --serial prints the serial number alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			path := g.contextFile
			if path == "" {
				path = os.Getenv("IANT_CONTEXT")
			}
			if path == "" {
				return usagef("no context: pass --context FILE or set IANT_CONTEXT")
			}
			c, err := g.loadContext(path)
			if err != nil {
				return err
			}
			cert, err := readCertificate(c.CertFile())
			if err != nil {
				return err
			}
			id, err := x509svid.IDFromCert(cert)
			if err != nil {
				return fmt.Errorf("%s: %w", c.CertFile(), err)
			}
			serial := membership.SerialString(cert.SerialNumber)
			w := cmd.OutOrStdout()
			switch {
			case serialOnly:
				_, err = fmt.Fprintln(w, serial)
			case g.output == "json":
				err = json.NewEncoder(w).Encode(map[string]string{"spiffe_id": id.String(), "serial": serial,
					"not_before": cert.NotBefore.UTC().Format(time.RFC3339), "not_after": cert.NotAfter.UTC().Format(time.RFC3339)})
			default:
				_, err = fmt.Fprintf(w, "%s\nserial %s\nvalid %s to %s\n", id, serial,
					cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&serialOnly, "serial", false, "print only the certificate's serial number")
	return cmd
}

// readCertificate reads the first certificate of a PEM file.
func readCertificate(name string) (*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", name)
	}
	return x509.ParseCertificate(b.Bytes)
}
