package taxiiproxy

import "errors"

// ErrNotLoopback is returned by Start when the listen address is not a
// loopback address: the proxy serves only the person at this machine.
var ErrNotLoopback = errors.New("taxiiproxy: listen address is not loopback")

// ErrConfig is returned by Start for a missing or malformed field of
// Config; the message names the field.
var ErrConfig = errors.New("taxiiproxy: bad config")
