package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/oas-cicte/iant/pkg/devpki"
)

// maxWarnBefore caps how long before its expiry a certificate is warned
// about: a quarter of its lifetime, but at most a week.
const maxWarnBefore = 7 * 24 * time.Hour

// warnExpiry writes a warning to w when the certificate in certFile (the
// person's, from their context) expires soon or has expired: a quarter of
// its lifetime before, at most a week before. It says nothing when the
// file cannot be read: dialling will say what is wrong.
func warnExpiry(w io.Writer, certFile string, now time.Time) {
	c, err := readCertificate(certFile)
	if err != nil {
		return
	}
	left := c.NotAfter.Sub(now)
	warnBefore := min(c.NotAfter.Sub(c.NotBefore)/4, maxWarnBefore)
	switch {
	case left <= 0:
		fmt.Fprintf(w, "iant: warning: your certificate %s expired at %s: get a new one (development PKI: iant certs renew)\n",
			certFile, c.NotAfter.UTC().Format(time.RFC3339))
	case left < warnBefore:
		fmt.Fprintf(w, "iant: warning: your certificate expires in %s (at %s): get a new one before (development PKI: iant certs renew)\n",
			left.Round(time.Minute), c.NotAfter.UTC().Format(time.RFC3339))
	}
}

// demoRenewEvery is how often the demo looks at the age of its SVIDs.
const demoRenewEvery = 10 * time.Minute

// renewDemoSVIDs renews every SVID of the demo's PKI in dir once the first
// of them has less than half its lifetime left (or has expired, after the
// demo was stopped for a while), and says so on w. A PKI not made yet is
// left to the demo to make.
func renewDemoSVIDs(ctx context.Context, dir string, w io.Writer) error {
	l, err := devpki.Load(dir)
	if err != nil {
		if _, serr := os.Stat(dir); os.IsNotExist(serr) {
			return nil
		}
		return err
	}
	if time.Until(l.SVIDNotAfter) > devpki.DefaultSVIDValidity/2 {
		return nil
	}
	if l, err = devpki.Renew(ctx, dir, devpki.RenewOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(w, "renewed the demo's SVIDs; they expire %s\n", l.SVIDNotAfter.UTC().Format(time.RFC3339))
	return nil
}

// keepDemoSVIDsFresh renews the demo's SVIDs as they age, until ctx ends;
// running nodes take the new ones on their next connection.
func keepDemoSVIDsFresh(ctx context.Context, dir string, w io.Writer) {
	t := time.NewTicker(demoRenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := renewDemoSVIDs(ctx, dir, w); err != nil {
				fmt.Fprintf(w, "iant: renewing the demo's SVIDs failed: %v\n", err)
			}
		}
	}
}
