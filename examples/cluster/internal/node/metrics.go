package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the process's figures, in Prometheus's text format at
// /metrics: the cluster_* ones of the backplane and the drain, kept
// here; the ws_* ones that ws.Server keeps (wsstats.go); and the Go
// runtime's and the process's own.
type metrics struct {
	reg *prometheus.Registry

	published     prometheus.Counter
	publishErrors prometheus.Counter
	received      prometheus.Counter
	lost          prometheus.Counter
	skipped       prometheus.Counter
	transit       prometheus.Histogram
}

func newMetrics(n *Node) *metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"node": n.cfg.Name}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cluster", Name: name, Help: help, ConstLabels: labels,
		})
		reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "cluster", Name: name, Help: help, ConstLabels: labels,
		}, f))
	}
	bool01 := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	m := &metrics{
		reg:           reg,
		published:     counter("backplane_published_total", "Messages of this process's clients published on the backplane."),
		publishErrors: counter("backplane_publish_errors_total", "Messages whose publication failed; their senders were not told."),
		received:      counter("backplane_received_total", "Messages received from the backplane, from every process."),
		lost:          counter("backplane_lost_total", "Times the subscription broke or the engine dropped messages; each time the clients were disconnected with 1013."),
		skipped:       counter("broadcast_skipped_total", "Messages that Broadcast could not queue: the client's queue was full (it was disconnected with 1013) or it was closing."),
		transit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "cluster", Name: "backplane_transit_seconds", ConstLabels: labels,
			Help:    "From publication by any process to receipt from the backplane here.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50 µs to 1.6 s
		}),
	}
	reg.MustRegister(m.transit)
	gauge("publish_queue", "Messages of this process's clients waiting to be published.", func() float64 { return float64(len(n.out)) })
	gauge("draining", "1 while the process drains.", func() float64 { return bool01(n.draining.Load()) })
	gauge("backplane_up", "1 while the backplane's subscription is in place.", func() float64 { return bool01(n.subscribed.Load()) })
	reg.MustRegister(newWSCollector(&n.srv, labels))
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
