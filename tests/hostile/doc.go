// Package hostile_test attacks a running network as a compromised member
// state would: with its genuine SVID and node keys, through the backbone
// and the API, and checks what the victims store and show and what the
// audit log says.
package hostile_test
