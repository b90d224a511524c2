// Package policies embeds the network policy set kept in this directory
// (network.cedar, validated against network.cedarschema), so a node that is
// given no policy directory runs with the reviewed default. Operators edit
// the files here, run `iant policy check` and `iant policy test`, and point
// nodes at the directory (iantd: policy_dir; reloaded on SIGHUP).
package policies

import _ "embed"

// Network is the text of network.cedar.
//
//go:embed network.cedar
var Network []byte

// Schema is the text of network.cedarschema.
//
//go:embed network.cedarschema
var Schema []byte
