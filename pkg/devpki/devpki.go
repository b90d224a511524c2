package devpki

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// Names of the principals the development PKI makes SVIDs for.
const (
	NodeName       = "node"    // every node, the secretariat's included
	FocalPointName = "focal"   // the focal point of each state
	AnalystName    = "analyst" // the analyst of each state
	AuditorName    = "auditor" // the secretariat auditor
	AdminName      = "admin"   // the secretariat administrator
)

// DefaultValidity is how long the CA is valid when [Options.Validity] is
// zero.
const DefaultValidity = 365 * 24 * time.Hour

// DefaultSVIDValidity is how long each SVID is valid when
// [Options.SVIDValidity] is zero: a day, so that a development certificate
// lost or stolen stops working soon; [Renew] issues new ones (`iant certs
// renew`, and the demo renews its own as they age).
const DefaultSVIDValidity = 24 * time.Hour

// File and directory names inside the PKI directory.
const (
	bundleName   = "bundle.pem"
	manifestName = "pki.json"
	caDir        = "ca"
	caKeyName    = "ca.key"
	svidDir      = "svid"
)

// Options says what [Init] makes.
type Options struct {
	// Dir is the directory to write into; it is created if missing and may
	// hold other files (a README). Required.
	Dir string
	// TrustDomain is the SPIFFE trust domain name, e.g. "iant.test". Required.
	TrustDomain string
	// States are the upper-case ISO codes of the member states to make SVIDs
	// for; empty means the secretariat only.
	States []string
	// Hubs is how many backbone cluster servers to make SVIDs for
	// (secretariat nodes named [HubName](1..Hubs)); 0 makes none, since the
	// embedded backbone runs with the secretariat node's SVID.
	Hubs int
	// Force replaces an existing PKI in Dir instead of refusing.
	Force bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Validity is how long the CA is valid; zero means [DefaultValidity].
	Validity time.Duration
	// SVIDValidity is how long each SVID is valid, at most Validity; zero
	// means [DefaultSVIDValidity].
	SVIDValidity time.Duration
}

// Init makes a new development PKI in opts.Dir and returns its layout, with
// absolute paths. It refuses to replace an existing one (a bundle.pem or
// pki.json in Dir) unless opts.Force is set; with Force it first removes
// the old CA, SVIDs, bundle and manifest, and nothing else.
func Init(ctx context.Context, opts Options) (*Layout, error) {
	td, states, err := opts.validate()
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	if err := prepareDir(dir, opts.Force); err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	validity := opts.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	w := &writer{dir: dir, td: td, created: now().UTC().Truncate(time.Second)}
	w.notAfter = w.created.Add(validity)
	w.svidNotAfter = w.created.Add(cmp.Or(opts.SVIDValidity, DefaultSVIDValidity))
	if w.svidNotAfter.After(w.notAfter) {
		w.svidNotAfter = w.notAfter
	}
	l, err := w.write(ctx, states, opts.Hubs)
	if err != nil {
		// Leave no half-made PKI that would block the next run.
		return nil, errors.Join(fmt.Errorf("devpki: %w", err), removePKI(dir))
	}
	return l, nil
}

// validate checks opts and returns the trust domain and the sorted states.
func (o Options) validate() (spiffeid.TrustDomain, []string, error) {
	td, err := spiffeid.TrustDomainFromString(o.TrustDomain)
	switch {
	case o.Dir == "":
		return td, nil, errors.New("no directory given")
	case o.TrustDomain == "":
		return td, nil, errors.New("no trust domain given")
	case err != nil:
		return td, nil, fmt.Errorf("trust domain %q: %w", o.TrustDomain, err)
	case o.Validity < 0:
		return td, nil, fmt.Errorf("validity %v is negative", o.Validity)
	case o.SVIDValidity < 0:
		return td, nil, fmt.Errorf("SVID validity %v is negative", o.SVIDValidity)
	case o.Hubs < 0 || o.Hubs > 9:
		return td, nil, fmt.Errorf("hubs %d: want 0 to 9 backbone servers", o.Hubs)
	}
	states := append([]string{}, o.States...)
	slices.Sort(states)
	for i, s := range states {
		if !region.IsMember(s) {
			return td, nil, fmt.Errorf("state %q is not the upper-case ISO code of a member state (known: %s)", s, strings.Join(region.Codes(), ","))
		}
		if i > 0 && states[i-1] == s {
			return td, nil, fmt.Errorf("state %q is listed twice", s)
		}
	}
	return td, states, nil
}

// prepareDir creates dir, refuses an existing PKI unless force, and with
// force removes the files of the old one.
func prepareDir(dir string, force bool) error {
	for _, name := range []string{bundleName, manifestName} {
		_, err := os.Lstat(filepath.Join(dir, name))
		if err == nil && !force {
			return fmt.Errorf("PKI already exists in %s (use --force to replace it)", dir)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if force {
		if err := removePKI(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, sub := range []string{caDir, svidDir} {
		if err := mkdirPrivate(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	return nil
}

// removePKI removes the files of a PKI from dir, and nothing else.
func removePKI(dir string) error {
	for _, name := range []string{manifestName, bundleName, svidDir, caDir} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove the PKI: %w", err)
		}
	}
	return nil
}

// HubName returns the name of backbone cluster server i (from 1) in the
// secretariat's SPIFFE IDs: "hub-<i>", as in
// spiffe://iant.test/secretariat/node/hub-1.
func HubName(i int) string { return fmt.Sprintf("hub-%d", i) }

// principals lists the principals of a PKI for states and hubs backbone
// servers, secretariat first.
func principals(states []string, hubs int) []identity.Principal {
	ps := []identity.Principal{
		{Role: identity.RoleSecretariatNode, Name: NodeName},
		{Role: identity.RoleAuditor, Name: AuditorName},
		{Role: identity.RoleAdmin, Name: AdminName},
	}
	for i := 1; i <= hubs; i++ {
		ps = append(ps, identity.Principal{Role: identity.RoleSecretariatNode, Name: HubName(i)})
	}
	for _, cc := range states {
		ps = append(ps,
			identity.Principal{State: cc, Role: identity.RoleNode, Name: NodeName},
			identity.Principal{State: cc, Role: identity.RoleFocalPoint, Name: FocalPointName},
			identity.Principal{State: cc, Role: identity.RoleAnalyst, Name: AnalystName},
		)
	}
	return ps
}

// Stem returns the file stem of p's SVID files: "<cc>-<role>-<name>" with
// the state code in lower case ("mx-focal-point-focal"), or
// "secretariat-<role>-<name>".
func Stem(p identity.Principal) string {
	prefix := "secretariat"
	if !p.Role.IsSecretariat() {
		prefix = strings.ToLower(p.State)
	}
	return prefix + "-" + p.Role.Segment() + "-" + p.Name
}

// mkdirPrivate creates dir with mode 0700, or sets that mode if it exists.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// writeFile writes data to name with exactly mode perm, also when name
// already exists with another mode.
func writeFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
