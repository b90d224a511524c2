package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/oas-cicte/iant/pkg/dirlock"
)

// lockDirs takes the lock of every directory this node writes (its data
// dir, its key file's, the embedded backbone's and the leaf node's
// stores), so a second iantd on the same files is refused, naming the
// process that runs there: two nodes rotating one key file would lose
// each other's keys.
// It returns the unlock funcs, in order.
func (c config) lockDirs() ([]func() error, error) {
	dirs := []struct{ field, dir string }{{"data_dir", c.DataDir}}
	if k := filepath.Dir(c.KeysFile); c.KeysFile != "" && k != filepath.Clean(c.DataDir) {
		dirs = append(dirs, struct{ field, dir string }{"keys_file", k})
	}
	if e := c.Backbone.Embedded; e != nil {
		dirs = append(dirs, struct{ field, dir string }{"backbone.embedded.store_dir", e.StoreDir})
	}
	if l := c.Backbone.Leaf; l != nil && l.StoreDir != "" {
		dirs = append(dirs, struct{ field, dir string }{"backbone.leaf.store_dir", l.StoreDir})
	}
	var unlocks []func() error
	for _, d := range dirs {
		l, err := dirlock.Lock(d.dir)
		if err != nil {
			for _, u := range unlocks {
				u()
			}
			if le := (*dirlock.LockedError)(nil); errors.As(err, &le) {
				return nil, fmt.Errorf("%s %s is in use by %s: is another iantd running on it?", d.field, d.dir, le.Holder())
			}
			return nil, fmt.Errorf("%s: %w", d.field, err)
		}
		unlocks = append(unlocks, l.Unlock)
	}
	return unlocks, nil
}
