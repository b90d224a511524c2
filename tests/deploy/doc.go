// Package deploy checks the files under deploy/ that no Go code loads (the
// systemd units, the Grafana dashboard, the Prometheus rules and scrape
// config), so that they keep naming commands, flags and metrics that
// exist.
package deploy
