package console

import "errors"

// ErrNotLoopback is returned by [Start] when Config.Listen is not a
// loopback address: the console serves only the person at this machine.
var ErrNotLoopback = errors.New("console: listen address is not loopback")
