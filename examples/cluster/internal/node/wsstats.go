package node

import (
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/seed-d6ba7b20/ws"
)

// wsCollector exports the figures that the process's ws.Server keeps,
// read with Server.Stats at each scrape, as ws_* metrics.
type wsCollector struct {
	srv   *ws.Server
	plain []wsMetric
	// by label: the close codes sent and received, the refusals
	closeSent, closeReceived, refused *prometheus.Desc
}

type wsMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(*ws.ServerStats) float64
}

func newWSCollector(srv *ws.Server, labels prometheus.Labels) *wsCollector {
	c := &wsCollector{srv: srv}
	add := func(name, help string, typ prometheus.ValueType, f func(*ws.ServerStats) float64) {
		c.plain = append(c.plain, wsMetric{prometheus.NewDesc("ws_"+name, help, nil, labels), typ, f})
	}
	counter := func(name, help string, f func(*ws.ServerStats) uint64) {
		add(name, help, prometheus.CounterValue, func(s *ws.ServerStats) float64 { return float64(f(s)) })
	}
	gauge := func(name, help string, f func(*ws.ServerStats) int64) {
		add(name, help, prometheus.GaugeValue, func(s *ws.ServerStats) float64 { return float64(f(s)) })
	}
	counter("messages_in_total", "Messages read from clients.", func(s *ws.ServerStats) uint64 { return s.MessagesIn })
	counter("bytes_in_total", "Payload bytes of the messages read, inflated.", func(s *ws.ServerStats) uint64 { return s.BytesIn })
	counter("wire_bytes_in_total", "Payload bytes of the messages read, as on the wire.", func(s *ws.ServerStats) uint64 { return s.WireBytesIn })
	counter("messages_out_total", "Messages written to clients.", func(s *ws.ServerStats) uint64 { return s.MessagesOut })
	counter("bytes_out_total", "Payload bytes of the messages written, before compression.", func(s *ws.ServerStats) uint64 { return s.BytesOut })
	counter("wire_bytes_out_total", "Payload bytes of the messages written, as on the wire.", func(s *ws.ServerStats) uint64 { return s.WireBytesOut })
	counter("broadcasts_total", "Messages that Broadcast sent out.", func(s *ws.ServerStats) uint64 { return s.Broadcasts })
	counter("broadcast_deliveries_total", "Messages of Broadcast written to a client.", func(s *ws.ServerStats) uint64 { return s.BroadcastsOut })
	counter("broadcast_dropped_total", "Messages of Broadcast missed under OverflowDrop.", func(s *ws.ServerStats) uint64 { return s.BroadcastsDropped })
	counter("overflow_closed_total", "Clients closed with 1013 because their send queue was full.", func(s *ws.ServerStats) uint64 { return s.OverflowClosed })
	counter("pings_in_total", "Pings from clients.", func(s *ws.ServerStats) uint64 { return s.PingsIn })
	counter("pongs_in_total", "Pongs from clients.", func(s *ws.ServerStats) uint64 { return s.PongsIn })
	counter("pings_out_total", "Pings sent.", func(s *ws.ServerStats) uint64 { return s.PingsOut })
	counter("keepalive_timeouts_total", "Connections ended by keepalive.", func(s *ws.ServerStats) uint64 { return s.KeepaliveTimeouts })
	counter("accepted_total", "Handshakes completed.", func(s *ws.ServerStats) uint64 { return s.Accepted })
	counter("closed_total", "Connections closed.", func(s *ws.ServerStats) uint64 { return s.Closed })
	gauge("open", "Connections open.", func(s *ws.ServerStats) int64 { return s.Open })
	gauge("queued_messages", "Messages waiting in the send queues.", func(s *ws.ServerStats) int64 { return s.Queued })
	gauge("queued_bytes", "Payload bytes waiting in the send queues.", func(s *ws.ServerStats) int64 { return s.Buffered })
	c.closeSent = prometheus.NewDesc("ws_close_sent_total", "Closed connections by the code of the close frame the server sent.", []string{"code"}, labels)
	c.closeReceived = prometheus.NewDesc("ws_close_received_total", "Closed connections by the code of the client's close frame.", []string{"code"}, labels)
	c.refused = prometheus.NewDesc("ws_refused_total", "Handshakes refused, by reason.", []string{"reason"}, labels)
	return c
}

// Describe implements prometheus.Collector.
func (c *wsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.plain {
		ch <- m.desc
	}
	ch <- c.closeSent
	ch <- c.closeReceived
	ch <- c.refused
}

// Collect implements prometheus.Collector.
func (c *wsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.srv.Stats()
	for _, m := range c.plain {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(&s))
	}
	byField(ch, c.closeSent, s.CloseSent)
	byField(ch, c.closeReceived, s.CloseReceived)
	byField(ch, c.refused, s.Refused)
}

// byField sends one counter for each field of the struct v, whose
// fields are uint64s (ws.CloseCodes, ws.HandshakeRefusals), labelled
// with the field's name: GoingAway, TryAgainLater, Origin, ...
func byField(ch chan<- prometheus.Metric, d *prometheus.Desc, v any) {
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(rv.Field(i).Uint()), rv.Type().Field(i).Name)
	}
}
