// Package deploy checks the files under deploy/ that no Go code loads (the
// systemd units), so that they keep naming commands and flags that exist.
package deploy
