package health

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// SVID returns the leaf certificate of src's current X.509 SVID, and an
// error when there is none or it is not valid at now (not yet, or no
// more: a source that stopped rotating).
func SVID(src x509svid.Source, now time.Time) (*x509.Certificate, error) {
	svid, err := src.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("no SVID: %w", err)
	}
	if len(svid.Certificates) == 0 {
		return nil, fmt.Errorf("SVID %s has no certificate", svid.ID)
	}
	c := svid.Certificates[0]
	switch {
	case now.Before(c.NotBefore):
		return c, fmt.Errorf("SVID %s is not valid before %s", svid.ID, c.NotBefore.UTC().Format(time.RFC3339))
	case !now.Before(c.NotAfter):
		return c, fmt.Errorf("SVID %s expired at %s", svid.ID, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return c, nil
}
