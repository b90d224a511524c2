// Package devpki makes and reads IANT's development PKI: one self-signed CA
// for a trust domain and an X.509 SVID, as PEM files, for every principal of
// a small network: the secretariat node and an auditor, and per member state
// a node, a focal point and an analyst. It is what `iant certs init` and the
// demo network use; production identities come from SPIRE instead.
//
//	l, err := devpki.Init(ctx, devpki.Options{Dir: "certs", TrustDomain: "iant.test", States: []string{"MX", "JM"}})
//	e, ok := l.Find(identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: devpki.FocalPointName})
//	src, err := identity.LoadFiles(l.TrustDomain, e.CertFile, e.KeyFile, l.BundleFile)
//	l, err = devpki.Load("certs") // later, to reuse it
//
// On disk (all paths relative to the directory):
//
//	bundle.pem                 the CA certificate (the trust bundle)
//	ca/ca.key                  the CA key (0600, in a 0700 directory)
//	svid/<stem>.pem, .key      each SVID: leaf certificate, PKCS#8 key (0600)
//	pki.json                   the manifest read by [Load]
//
// where <stem> is "<cc>-<role>-<name>" ("mx-focal-point-focal") or
// "secretariat-<role>-<name>" ("secretariat-auditor-auditor").
//
// The keys are unencrypted and for development only: never commit them and
// never use them outside a test network.
//
// # Concurrency
//
// [Init] and [Load] may run concurrently on different directories, not on
// the same one. A [Layout] is read-only after it is returned.
package devpki
