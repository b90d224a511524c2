package membership

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/problem"
)

// maxSerialHex bounds a serial number: 20 octets (RFC 5280 §4.1.2.2).
const maxSerialHex = 40

// DenyEntry is one denied identity or certificate: exactly one of ID and
// Serial is set.
type DenyEntry struct {
	// ID is a SPIFFE ID of the network's trust domain: every certificate
	// naming it is refused.
	ID string
	// Serial is a certificate serial number in lower-case hexadecimal
	// without leading zeros ([ParseSerial]): that certificate is refused.
	Serial string
	// Reason is why (1 to [MaxReasonBytes]).
	Reason string
	// At is when it was denied.
	At time.Time
	// By is the SPIFFE ID of the administrator who denied it.
	By string
}

// Target returns the ID or the serial the entry denies.
func (e DenyEntry) Target() string {
	if e.ID != "" {
		return e.ID
	}
	return e.Serial
}

// DenyList is one version of the deny list.
type DenyList struct {
	// Network is the trust domain name the list is about.
	Network string
	// Version counts the list's versions from 1; the zero DenyList (version
	// 0) denies nothing and stands for "no list yet".
	Version uint64
	// Issued is when the secretariat signed it.
	Issued time.Time
	// Entries are the denied IDs and serials, in the order they were
	// denied, each target once.
	Entries []DenyEntry
}

// Denies reports whether the list denies SPIFFE ID id or the certificate
// with serial number serial (nil when unknown), and the entry that does.
func (l *DenyList) Denies(id string, serial *big.Int) (DenyEntry, bool) {
	s := ""
	if serial != nil {
		s = SerialString(serial)
	}
	for _, e := range l.Entries {
		if e.ID != "" && e.ID == id || e.Serial != "" && e.Serial == s {
			return e, true
		}
	}
	return DenyEntry{}, false
}

// DeniesCert reports whether the list denies the leaf certificate cert: its
// serial number, or the SPIFFE ID of its URI SAN.
func (l *DenyList) DeniesCert(cert *x509.Certificate) (DenyEntry, bool) {
	id := ""
	if len(cert.URIs) == 1 {
		id = cert.URIs[0].String()
	}
	return l.Denies(id, cert.SerialNumber)
}

// DeniedIDs returns the SPIFFE IDs the list denies.
func (l *DenyList) DeniedIDs() []string {
	var out []string
	for _, e := range l.Entries {
		if e.ID != "" {
			out = append(out, e.ID)
		}
	}
	return out
}

// With returns the next version of l with e added at now (e.At is set to
// now). Bad input is a *problem.Error naming the field (spiffe_id, serial,
// reason); a target already denied is a Conflict.
func (l DenyList) With(network string, e DenyEntry, now time.Time) (DenyList, error) {
	if err := e.checkNew(network); err != nil {
		return DenyList{}, err
	}
	if e.Serial != "" {
		s, err := ParseSerial(e.Serial)
		if err != nil {
			return DenyList{}, problem.Invalid("serial", "%v", err)
		}
		e.Serial = s
	}
	for _, x := range l.Entries {
		if x.Target() == e.Target() {
			return DenyList{}, problem.Conflict("%s is already denied (since %s: %s)", e.Target(), x.At.Format(time.RFC3339), x.Reason)
		}
	}
	if len(l.Entries) >= MaxDenyEntries {
		return DenyList{}, problem.Conflict("the deny list holds %d entries, its limit", len(l.Entries))
	}
	e.At = wireTime(now)
	out := l.next(network, now)
	out.Entries = append(out.Entries, e)
	if err := out.check(); err != nil {
		return DenyList{}, problem.Internal(err)
	}
	return out, nil
}

// Without returns the next version of l without the entry denying target
// (a SPIFFE ID or a serial number); a target not denied is NotFound.
func (l DenyList) Without(network, target string, now time.Time) (DenyList, error) {
	if !strings.HasPrefix(target, "spiffe://") {
		s, err := ParseSerial(target)
		if err != nil {
			return DenyList{}, problem.Invalid("serial", "%v", err)
		}
		target = s
	}
	i := slices.IndexFunc(l.Entries, func(e DenyEntry) bool { return e.Target() == target })
	if i < 0 {
		return DenyList{}, problem.NotFound("%s is not denied", target)
	}
	out := l.next(network, now)
	out.Entries = slices.Delete(out.Entries, i, i+1)
	return out, nil
}

// next is a copy of l as version l.Version+1 issued at now.
func (l DenyList) next(network string, now time.Time) DenyList {
	return DenyList{Network: network, Version: l.Version + 1, Issued: wireTime(now), Entries: slices.Clone(l.Entries)}
}

// checkNew validates an entry an administrator asks for.
func (e DenyEntry) checkNew(network string) error {
	switch {
	case e.ID == "" && e.Serial == "":
		return problem.Invalid("spiffe_id", "give a SPIFFE ID or a certificate serial number to deny")
	case e.ID != "" && e.Serial != "":
		return problem.Invalid("serial", "give a SPIFFE ID or a serial number, not both")
	case e.Reason == "":
		return problem.Invalid("reason", "a reason is required (it is kept in the signed list)")
	}
	if e.ID != "" {
		if err := checkDeniedID(network, e.ID); err != nil {
			return problem.Invalid("spiffe_id", "%v", err)
		}
	}
	if err := checkReason(e.Reason); err != nil {
		return problem.Invalid("reason", "%v", err)
	}
	return nil
}

// checkDeniedID accepts a SPIFFE ID of network's trust domain.
func checkDeniedID(network, s string) error {
	id, err := spiffeid.FromString(s)
	if err != nil {
		return fmt.Errorf("%q is not a SPIFFE ID: %v", s, err)
	}
	if id.TrustDomain().Name() != network {
		return fmt.Errorf("%q is not in trust domain %s", s, network)
	}
	if id.Path() == "" {
		return fmt.Errorf("%q names the whole trust domain", s)
	}
	return nil
}

// check validates the list's rules; errors wrap [ErrMalformed].
func (l *DenyList) check() error {
	switch {
	case l.Version == 0:
		return fmt.Errorf("%w: version 0 (versions count from 1)", ErrMalformed)
	case len(l.Entries) > MaxDenyEntries:
		return fmt.Errorf("%w: %d entries, at most %d", ErrMalformed, len(l.Entries), MaxDenyEntries)
	}
	if _, err := spiffeid.TrustDomainFromString(l.Network); err != nil {
		return fmt.Errorf("%w: network %q: %v", ErrMalformed, l.Network, err)
	}
	seen := make(map[string]bool, len(l.Entries))
	for _, e := range l.Entries {
		if err := e.check(l.Network); err != nil {
			return err
		}
		if seen[e.Target()] {
			return fmt.Errorf("%w: %s denied twice", ErrMalformed, e.Target())
		}
		seen[e.Target()] = true
	}
	return nil
}

// check validates a stored entry.
func (e *DenyEntry) check(network string) error {
	switch {
	case (e.ID == "") == (e.Serial == ""):
		return fmt.Errorf("%w: an entry denies exactly one SPIFFE ID or serial", ErrMalformed)
	case e.Reason == "":
		return fmt.Errorf("%w: %s: no reason", ErrMalformed, e.Target())
	}
	if e.ID != "" {
		if err := checkDeniedID(network, e.ID); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	if e.Serial != "" {
		if s, err := ParseSerial(e.Serial); err != nil || s != e.Serial {
			return fmt.Errorf("%w: serial %q is not lower-case hexadecimal without leading zeros", ErrMalformed, e.Serial)
		}
	}
	if err := checkDeniedID(network, e.By); err != nil {
		return fmt.Errorf("%w: denied by: %v", ErrMalformed, err)
	}
	if err := checkReason(e.Reason); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, e.Target(), err)
	}
	return checkTime(e.At)
}

// ParseSerial reads a certificate serial number written in hexadecimal,
// with or without colons between octets ("0A:1B:2C", "a1b2c"), and returns
// its canonical form: lower case, no colons, no leading zeros.
func ParseSerial(s string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	switch {
	case h == "":
		return "", fmt.Errorf("serial number %q is empty", s)
	case len(h) > maxSerialHex:
		return "", fmt.Errorf("serial number %q is longer than %d hexadecimal digits", s, maxSerialHex)
	case strings.Trim(h, "0123456789abcdef") != "":
		return "", fmt.Errorf("serial number %q is not hexadecimal (e.g. 3f:a0:11 or 3fa011)", s)
	}
	n, _ := new(big.Int).SetString(h, 16)
	if n.Sign() == 0 {
		return "", fmt.Errorf("serial number %q is zero", s)
	}
	return n.Text(16), nil
}

// SerialString returns the canonical form of a serial number, as
// [ParseSerial] returns it and as the deny list stores it.
func SerialString(n *big.Int) string { return n.Text(16) }
