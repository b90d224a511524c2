//go:build !unix

package main

// ignoreTTIN does nothing where there is no job control.
func ignoreTTIN() {}
