//go:build unix

package main

import (
	"os/signal"
	"syscall"
)

// ignoreTTIN makes a read of the terminal by a background job fail
// instead of stopping the process.
func ignoreTTIN() { signal.Ignore(syscall.SIGTTIN) }
