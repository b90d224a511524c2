package audit

import (
	"errors"
	"time"
)

// Option adjusts an optional setting of [OpenLog].
type Option interface {
	apply(*options) error
}

type options struct {
	now func() time.Time
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// WithClock sets the clock that dates checkpoints; the default is
// time.Now. Tests pass a fixed clock to get reproducible checkpoints.
// A nil clock gives an error wrapping [ErrInvalidOption].
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) error {
		if now == nil {
			return errors.Join(ErrInvalidOption, errors.New("clock is nil"))
		}
		o.now = now
		return nil
	})
}
