package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// checkInterval is how often a [FileSource] looks at its files' stamps.
const checkInterval = time.Second

// workloadAPITimeout bounds [WorkloadAPI] when ctx has no deadline.
const workloadAPITimeout = 30 * time.Second

var (
	_ x509svid.Source   = (*FileSource)(nil)
	_ x509bundle.Source = (*FileSource)(nil)
)

// FileSource is an X.509 SVID and bundle source read from PEM files, as
// written by the development PKI (iant certs init) or by a sidecar that
// rotates files on disk.
//
// It re-reads the files when one of them changes: a Get call looks at the
// files' modification times and sizes at most once per [time.Second] and
// reloads all three when any differs. A reload that fails (for example a
// certificate already replaced while its key is not yet) keeps the last good
// SVID and bundle and is retried on the next check. No goroutine is started,
// so a FileSource needs no Close.
//
// A FileSource is safe for concurrent use.
type FileSource struct {
	td                            spiffeid.TrustDomain
	certFile, keyFile, bundleFile string

	// lastCheck is the UnixNano time of the last stamp check.
	lastCheck atomic.Int64
	// cur is the last good material; never nil after LoadFiles.
	cur atomic.Pointer[fileMaterial]

	// reloadMu serializes reloads so an older read never replaces a newer one.
	reloadMu sync.Mutex
}

// fileMaterial is one consistent read of the three files.
type fileMaterial struct {
	svid   *x509svid.SVID
	bundle *x509bundle.Bundle
	stamps [3]fileStamp
}

// fileStamp is what tells a changed file apart from the one last read.
type fileStamp struct {
	modTime int64 // UnixNano
	size    int64
}

// LoadFiles reads an SVID (certFile, leaf first, and keyFile, a PKCS#8 PEM
// "PRIVATE KEY") and the X.509 bundle of trust domain td (bundleFile) with
// [x509svid.Load] and [x509bundle.Load]. certFile and keyFile may name the
// same file. The error names the file that could not be read or parsed.
func LoadFiles(td spiffeid.TrustDomain, certFile, keyFile, bundleFile string) (*FileSource, error) {
	switch {
	case td.IsZero():
		return nil, errors.New("identity: load files: empty trust domain")
	case certFile == "":
		return nil, errors.New("identity: load files: no certificate file")
	case keyFile == "":
		return nil, errors.New("identity: load files: no key file")
	case bundleFile == "":
		return nil, errors.New("identity: load files: no bundle file")
	}
	s := &FileSource{td: td, certFile: certFile, keyFile: keyFile, bundleFile: bundleFile}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the files now, whatever their stamps. On error the source
// keeps serving what it had and the error names the failing file.
func (s *FileSource) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked()
}

// GetX509SVID returns the current SVID, first reloading the files if they
// changed (checked at most once per second). It implements [x509svid.Source].
func (s *FileSource) GetX509SVID() (*x509svid.SVID, error) {
	return s.current().svid, nil
}

// GetX509BundleForTrustDomain returns the current bundle if td is the
// source's trust domain, and an error otherwise. It implements
// [x509bundle.Source].
func (s *FileSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	if td != s.td {
		return nil, fmt.Errorf("identity: no X.509 bundle for trust domain %q (have %q)", td.Name(), s.td.Name())
	}
	return s.current().bundle, nil
}

// current returns the material to serve, after a stamp check if one is due.
// Only one caller checks at a time; the others serve what is there.
func (s *FileSource) current() *fileMaterial {
	now := time.Now().UnixNano()
	last := s.lastCheck.Load()
	if now-last >= int64(checkInterval) && s.lastCheck.CompareAndSwap(last, now) && s.reloadMu.TryLock() {
		if cur := s.cur.Load(); s.stamps() != cur.stamps {
			// A failed reload keeps the old material; the stamps
			// stay old too, so the next check tries again.
			_ = s.reloadLocked()
		}
		s.reloadMu.Unlock()
	}
	return s.cur.Load()
}

// reloadLocked reads the files and publishes them. reloadMu must be held.
func (s *FileSource) reloadLocked() error {
	// Stamps are taken before reading: a write racing with the read then
	// shows as a change on the next check and is read again.
	stamps := s.stamps()
	svid, err := x509svid.Load(s.certFile, s.keyFile)
	if err != nil {
		return fmt.Errorf("identity: SVID %s (key %s): %w", s.certFile, s.keyFile, err)
	}
	bundle, err := x509bundle.Load(s.td, s.bundleFile)
	if err != nil {
		return fmt.Errorf("identity: bundle %s: %w", s.bundleFile, err)
	}
	if !svid.ID.MemberOf(s.td) {
		return fmt.Errorf("identity: SVID %s: %s is not in trust domain %s", s.certFile, svid.ID, s.td.Name())
	}
	s.cur.Store(&fileMaterial{svid: svid, bundle: bundle, stamps: stamps})
	s.lastCheck.Store(time.Now().UnixNano())
	return nil
}

// stamps returns the stamps of the three files; a file that cannot be
// stat'ed gets the zero stamp.
func (s *FileSource) stamps() [3]fileStamp {
	var out [3]fileStamp
	for i, name := range [3]string{s.certFile, s.keyFile, s.bundleFile} {
		if fi, err := os.Stat(name); err == nil {
			out[i] = fileStamp{modTime: fi.ModTime().UnixNano(), size: fi.Size()}
		}
	}
	return out
}

// WorkloadAPI connects to the SPIFFE Workload API (a SPIRE agent) at addr,
// e.g. "unix:///run/spire/agent.sock"; an empty addr means the
// SPIFFE_ENDPOINT_SOCKET environment variable. It blocks until the first
// SVID arrives or ctx ends; when ctx has no deadline it gives up after 30
// seconds. The returned source rotates by itself and must be closed.
func WorkloadAPI(ctx context.Context, addr string) (*workloadapi.X509Source, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, workloadAPITimeout)
		defer cancel()
	}
	var opts []workloadapi.X509SourceOption
	if addr != "" {
		opts = append(opts, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	}
	src, err := workloadapi.NewX509Source(ctx, opts...)
	if err != nil {
		if addr == "" {
			addr = "$SPIFFE_ENDPOINT_SOCKET"
		}
		return nil, fmt.Errorf("identity: workload API at %s: %w", addr, err)
	}
	return src, nil
}

// SelfFrom returns the principal of the SVID src currently holds: a
// process's own identity, parsed against trust domain td.
func SelfFrom(src x509svid.Source, td spiffeid.TrustDomain) (Principal, error) {
	svid, err := src.GetX509SVID()
	if err != nil {
		return Principal{}, fmt.Errorf("identity: own SVID: %w", err)
	}
	p, err := Parse(td, svid.ID)
	if err != nil {
		return Principal{}, fmt.Errorf("identity: own SVID: %w", err)
	}
	return p, nil
}
