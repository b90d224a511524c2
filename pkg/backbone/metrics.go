package backbone

import (
	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/health"
)

// The backbone server's metrics, iant_backbone_*, read in-process from
// the embedded nats-server (Varz and Jsz, the figures its monitoring port
// would serve as /varz and /jsz) at each scrape.

var (
	bbConnections   = desc("iant_backbone_connections", "Client connections open now (the nodes; routes and leaf node links are counted apart).")
	bbTotalConns    = desc("iant_backbone_connections_total", "Client connections accepted since the server started.")
	bbRoutes        = desc("iant_backbone_routes", "Routes to other cluster servers open now.")
	bbLeafs         = desc("iant_backbone_leafnodes", "Leaf node links (states' leaf nodes) open now.")
	bbMsgsIn        = desc("iant_backbone_messages_received_total", "Messages the server received (clients, routes, leaf nodes).")
	bbMsgsOut       = desc("iant_backbone_messages_sent_total", "Messages the server sent.")
	bbBytesIn       = desc("iant_backbone_received_bytes_total", "Bytes the server received.")
	bbBytesOut      = desc("iant_backbone_sent_bytes_total", "Bytes the server sent.")
	bbSlow          = desc("iant_backbone_slow_consumers_total", "Connections cut since start because they could not keep up.")
	bbJSEnabled     = desc("iant_backbone_jetstream_enabled", "1 while JetStream runs on this server; 0 after it was shut down (e.g. out of disk).")
	bbJSStore       = desc("iant_backbone_jetstream_storage_bytes", "Bytes of JetStream file storage used on this server.")
	bbJSStoreMax    = desc("iant_backbone_jetstream_storage_limit_bytes", "The JetStream file storage this server may use (max_file_store).")
	bbJSStreams     = desc("iant_backbone_jetstream_streams", "Streams this server holds a replica of.")
	bbJSConsumers   = desc("iant_backbone_jetstream_consumers", "Consumers this server holds a replica of.")
	bbJSAPI         = desc("iant_backbone_jetstream_api_requests_total", "JetStream API requests served since start.")
	bbJSAPIErrors   = desc("iant_backbone_jetstream_api_errors_total", "JetStream API requests answered with an error since start.")
	bbJSCurrent     = desc("iant_backbone_jetstream_current", "1 when this server's JetStream is current with the cluster's meta leader (always, alone).")
	bbDiskFree      = desc("iant_backbone_disk_free_bytes", "Free bytes on the filesystem of the JetStream store directory.")
	bbDiskMin       = desc("iant_backbone_disk_min_free_bytes", "The free space the server keeps (disk.min_free): below it JetStream refuses new messages.")
	bbDiskPressure  = desc("iant_backbone_disk_pressure", "1 while the server refuses new messages for want of disk space (or its JetStream waits for space to restart).")
	bbStreamMsgs    = desc("iant_backbone_stream_messages", "Messages in a stream, reported by the server that leads it.", "stream")
	bbStreamBytes   = desc("iant_backbone_stream_bytes", "Bytes in a stream, reported by the server that leads it.", "stream")
	bbConsPending   = desc("iant_backbone_consumer_pending", "Messages not yet delivered to a consumer: for inbox-<CC>, copies waiting for state CC's node. Reported by the server that leads the consumer.", "stream", "consumer", "state")
	bbConsAckPend   = desc("iant_backbone_consumer_ack_pending", "Messages delivered to a consumer and not yet acknowledged.", "stream", "consumer", "state")
	bbConsRedeliver = desc("iant_backbone_consumer_redelivered", "Messages delivered to a consumer more than once and still unacknowledged.", "stream", "consumer", "state")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads a Server's figures at each scrape.
type collector struct{ s *Server }

// Collector returns the server's metrics as a Prometheus collector: the
// caller registers it in its registry (metrics.Register with the label
// server=<name>).
func (s *Server) Collector() prometheus.Collector { return collector{s} }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{bbConnections, bbTotalConns, bbRoutes, bbLeafs, bbMsgsIn, bbMsgsOut, bbBytesIn,
		bbBytesOut, bbSlow, bbJSEnabled, bbJSStore, bbJSStoreMax, bbJSStreams, bbJSConsumers, bbJSAPI, bbJSAPIErrors,
		bbJSCurrent, bbDiskFree, bbDiskMin, bbDiskPressure, bbStreamMsgs, bbStreamBytes, bbConsPending, bbConsAckPend, bbConsRedeliver} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	ns := c.s.ns
	if v, err := ns.Varz(&server.VarzOptions{}); err == nil {
		gauge(bbConnections, float64(v.Connections))
		counter(bbTotalConns, float64(v.TotalConnections))
		gauge(bbRoutes, float64(v.Routes))
		gauge(bbLeafs, float64(v.Leafs))
		counter(bbMsgsIn, float64(v.InMsgs))
		counter(bbMsgsOut, float64(v.OutMsgs))
		counter(bbBytesIn, float64(v.InBytes))
		counter(bbBytesOut, float64(v.OutBytes))
		counter(bbSlow, float64(v.SlowConsumers))
	}
	if free, err := health.FreeBytes(c.s.opts.StoreDir); err == nil {
		gauge(bbDiskFree, float64(free))
	}
	gauge(bbDiskMin, float64(c.s.disk.min))
	gauge(bbDiskPressure, b2f(c.s.DiskPressure()))
	enabled := ns.JetStreamEnabled()
	gauge(bbJSEnabled, b2f(enabled))
	if !enabled {
		return
	}
	gauge(bbJSCurrent, b2f(ns.JetStreamIsCurrent()))
	js, err := ns.Jsz(&server.JSzOptions{Accounts: true, Streams: true, Consumer: true})
	if err != nil {
		return
	}
	gauge(bbJSStore, float64(js.Store))
	gauge(bbJSStoreMax, float64(js.Config.MaxStore))
	gauge(bbJSStreams, float64(js.Streams))
	gauge(bbJSConsumers, float64(js.Consumers))
	counter(bbJSAPI, float64(js.API.Total))
	counter(bbJSAPIErrors, float64(js.API.Errors))
	c.collectStreams(js, gauge)
}

// collectStreams reports each stream and consumer of the IANT account
// from the server that leads it, so that a cluster reports each once.
func (c collector) collectStreams(js *server.JSInfo, gauge func(*prometheus.Desc, float64, ...string)) {
	name := c.s.ns.Name()
	leads := func(ci *server.ClusterInfo) bool { return ci == nil || ci.Leader == "" || ci.Leader == name }
	for _, acc := range js.AccountDetails {
		if acc.Name != account {
			continue
		}
		for _, st := range acc.Streams {
			if leads(st.Cluster) {
				gauge(bbStreamMsgs, float64(st.State.Msgs), st.Name)
				gauge(bbStreamBytes, float64(st.State.Bytes), st.Name)
			}
			for _, ci := range st.Consumer {
				if ci == nil || !leads(ci.Cluster) {
					continue
				}
				_, state, _ := consumerOwner(ci.Name)
				gauge(bbConsPending, float64(ci.NumPending), st.Name, ci.Name, state)
				gauge(bbConsAckPend, float64(ci.NumAckPending), st.Name, ci.Name, state)
				gauge(bbConsRedeliver, float64(ci.NumRedelivered), st.Name, ci.Name, state)
			}
		}
	}
}

func b2f(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
