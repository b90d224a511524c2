package devpki

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// manifestVersion is the version of the pki.json format; version 1 is frozen.
const manifestVersion = 1

// Layout is a development PKI on disk. Paths are absolute.
type Layout struct {
	// Dir is the PKI directory.
	Dir string
	// BundleFile is the trust bundle (the CA certificate), Dir/bundle.pem.
	BundleFile string
	// TrustDomain is the PKI's trust domain.
	TrustDomain spiffeid.TrustDomain
	// States are the member states with SVIDs, sorted.
	States []string
	// NotAfter is when the CA expires; no SVID outlives it.
	NotAfter time.Time
	// SVIDNotAfter is when the first of its SVIDs expires, read from the
	// certificate files.
	SVIDNotAfter time.Time
	// Entries are the SVIDs, secretariat first, then by state.
	Entries []Entry
}

// Entry is one principal's SVID in a [Layout].
type Entry struct {
	// Principal is whom the SVID names.
	Principal identity.Principal
	// ID is the SVID's SPIFFE ID, Principal.ID(TrustDomain).
	ID spiffeid.ID
	// CertFile is the leaf certificate (PEM), Dir/svid/<Stem>.pem.
	CertFile string
	// KeyFile is the PKCS#8 private key (PEM), Dir/svid/<Stem>.key.
	KeyFile string
	// Stem is the files' base name without extension, see [Stem].
	Stem string
}

// Find returns the entry of principal p and whether there is one.
func (l *Layout) Find(p identity.Principal) (Entry, bool) {
	for _, e := range l.Entries {
		if e.Principal == p {
			return e, true
		}
	}
	return Entry{}, false
}

// manifest is the on-disk form of a Layout, pki.json. Paths are relative to
// the PKI directory, so the directory can be moved.
type manifest struct {
	Version     int             `json:"version"`
	TrustDomain string          `json:"trust_domain"`
	States      []string        `json:"states"`
	Created     time.Time       `json:"created"`
	NotAfter    time.Time       `json:"not_after"`
	Bundle      string          `json:"bundle"`
	Entries     []manifestEntry `json:"entries"`
}

type manifestEntry struct {
	ID   string `json:"id"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// writeManifest writes l as Dir/pki.json.
func writeManifest(l *Layout, created time.Time) error {
	m := manifest{
		Version:     manifestVersion,
		TrustDomain: l.TrustDomain.Name(),
		States:      append([]string{}, l.States...),
		Created:     created,
		NotAfter:    l.NotAfter,
		Bundle:      bundleName,
	}
	for _, e := range l.Entries {
		m.Entries = append(m.Entries, manifestEntry{
			ID:   e.ID.String(),
			Cert: svidDir + "/" + e.Stem + ".pem",
			Key:  svidDir + "/" + e.Stem + ".key",
		})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(l.Dir, manifestName), append(b, '\n'), 0o644)
}

// Load reads the PKI that [Init] made in dir, from its manifest pki.json,
// and checks that the files it names exist. Paths in the result are
// absolute. Errors name the file or entry that is wrong.
func Load(dir string) (*Layout, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	name := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("devpki: %s: %w", name, err)
	}
	l, err := m.layout(dir)
	if err != nil {
		return nil, fmt.Errorf("devpki: %s: %w", name, err)
	}
	return l, nil
}

// layout checks m and turns it into a Layout rooted at dir.
func (m *manifest) layout(dir string) (*Layout, error) {
	td, err := spiffeid.TrustDomainFromString(m.TrustDomain)
	switch {
	case m.Version != manifestVersion:
		return nil, fmt.Errorf("version %d, want %d", m.Version, manifestVersion)
	case err != nil:
		return nil, fmt.Errorf("trust domain %q: %w", m.TrustDomain, err)
	}
	for _, s := range m.States {
		if !region.IsMember(s) {
			return nil, fmt.Errorf("state %q is not a member state", s)
		}
	}
	bundle, err := localFile(dir, m.Bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	l := &Layout{Dir: dir, BundleFile: bundle, TrustDomain: td, States: m.States, NotAfter: m.NotAfter}
	if l.States == nil {
		l.States = []string{}
	}
	for _, me := range m.Entries {
		e, err := me.entry(dir, td)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", me.ID, err)
		}
		l.Entries = append(l.Entries, e)
	}
	if len(l.Entries) > 0 {
		if l.SVIDNotAfter, err = l.expiry(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (me manifestEntry) entry(dir string, td spiffeid.TrustDomain) (Entry, error) {
	p, err := identity.ParseString(td, me.ID)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Principal: p, ID: p.ID(td), Stem: Stem(p)}
	if e.CertFile, err = localFile(dir, me.Cert); err != nil {
		return Entry{}, fmt.Errorf("cert: %w", err)
	}
	if e.KeyFile, err = localFile(dir, me.Key); err != nil {
		return Entry{}, fmt.Errorf("key: %w", err)
	}
	return e, nil
}

// localFile resolves rel, a slash-separated path inside dir, and checks
// that the file exists.
func localFile(dir, rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("path %q is not inside the PKI directory", rel)
	}
	name := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(name); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s is missing", name)
		}
		return "", err
	}
	return name, nil
}
