// Package identity implements IANT's SPIFFE ID scheme and turns SVID sources
// into mTLS configurations.
//
// Every process and person holds an X.509 SVID whose SPIFFE ID carries the
// member state and the role (see DESIGN.md, "Identity"):
//
//	spiffe://<td>/state/<CC>/node/<name>
//	spiffe://<td>/state/<CC>/focal-point/<name>
//	spiffe://<td>/state/<CC>/analyst/<name>
//	spiffe://<td>/secretariat/node/<name>
//	spiffe://<td>/secretariat/auditor/<name>
//
// Walk-through:
//
//	p, err := identity.Parse(td, id)          // who is this peer?
//	p.Role == identity.RoleFocalPoint && p.State == "MX"
//	id := identity.Principal{State: "MX", Role: identity.RoleAnalyst, Name: "ana"}.ID(td)
//
// Authorization reads the peer's SPIFFE ID from the TLS connection
// ([PeerFromContext]), never from a request field.
//
// # Concurrency
//
// Principal values are immutable. Sources returned by this package are safe
// for concurrent use.
package identity
