//go:build !js

package ws

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
)

// ServerStats are the figures of a Server, as Server.Stats reports them.
type ServerStats struct {
	// Counters sums the counters of every connection the server
	// accepted: those open now, read as they stand, and those that have
	// closed, as they stood when they closed. A connection counts as
	// closed once its Handler has returned and the server has closed it.
	Counters
	// Accepted counts the handshakes the server completed.
	Accepted uint64
	// Open is how many connections are open now, as Len returns it.
	Open int64
	// Closed counts the connections that have closed.
	Closed uint64
	// Queued and Buffered sum ConnStats.Queued and ConnStats.Buffered
	// over the open connections: the messages, and their payload bytes,
	// waiting in send queues.
	Queued   int64
	Buffered int64
	// Broadcasts counts the messages that Broadcast sent out (its calls
	// with a valid message type); Counters.BroadcastsOut counts their
	// deliveries, and Counters.BroadcastsDropped the receivers that
	// missed one under OverflowDrop.
	Broadcasts uint64
	// OverflowClosed counts the receivers that Broadcast closed, under
	// OverflowClose, because their send queue was full.
	OverflowClosed uint64
	// CloseSent counts the closed connections by the code of the close
	// frame the server sent; AbnormalClosure counts those it sent none
	// on.
	CloseSent CloseCodes
	// CloseReceived counts the closed connections by the code of the
	// client's close frame; AbnormalClosure counts those that ended
	// without one (the client went away, or the connection ended first
	// for another cause: a protocol error, keepalive, CloseNow).
	CloseReceived CloseCodes
	// Refused counts the handshakes the server refused, by reason.
	Refused HandshakeRefusals
}

// add adds the counters of o to n.
func (n *Counters) add(o *Counters) {
	n.MessagesIn += o.MessagesIn
	n.BytesIn += o.BytesIn
	n.WireBytesIn += o.WireBytesIn
	n.MessagesOut += o.MessagesOut
	n.BytesOut += o.BytesOut
	n.WireBytesOut += o.WireBytesOut
	n.BroadcastsOut += o.BroadcastsOut
	n.BroadcastsDropped += o.BroadcastsDropped
	n.PingsIn += o.PingsIn
	n.PongsIn += o.PongsIn
	n.PingsOut += o.PingsOut
	n.KeepaliveTimeouts += o.KeepaliveTimeouts
}

// CloseCodes counts connections by a close code (see StatusCode): each
// field is named after the code it counts, and Other counts every code
// without a field of its own (1010, 1012, 1014, and the codes 3000 to
// 4999 of applications).
type CloseCodes struct {
	NormalClosure           uint64 // 1000
	GoingAway               uint64 // 1001
	ProtocolError           uint64 // 1002
	UnsupportedData         uint64 // 1003
	NoStatusReceived        uint64 // 1005: a close frame without a code
	AbnormalClosure         uint64 // 1006: no close frame
	InvalidFramePayloadData uint64 // 1007
	PolicyViolation         uint64 // 1008
	MessageTooBig           uint64 // 1009
	InternalError           uint64 // 1011
	TryAgainLater           uint64 // 1013
	Other                   uint64
}

// add counts one connection under code; 0, no close frame, counts as
// StatusAbnormalClosure.
func (n *CloseCodes) add(code StatusCode) {
	switch code {
	case StatusNormalClosure:
		n.NormalClosure++
	case StatusGoingAway:
		n.GoingAway++
	case StatusProtocolError:
		n.ProtocolError++
	case StatusUnsupportedData:
		n.UnsupportedData++
	case StatusNoStatusReceived:
		n.NoStatusReceived++
	case 0, StatusAbnormalClosure:
		n.AbnormalClosure++
	case StatusInvalidFramePayloadData:
		n.InvalidFramePayloadData++
	case StatusPolicyViolation:
		n.PolicyViolation++
	case StatusMessageTooBig:
		n.MessageTooBig++
	case StatusInternalError:
		n.InternalError++
	case StatusTryAgainLater:
		n.TryAgainLater++
	default:
		n.Other++
	}
}

// HandshakeRefusals counts the handshakes a Server refused, by reason.
// Each was answered with an error status, or by AcceptOptions.Refuse, and
// Accept returned a *HandshakeError. Accept called outside a Server
// refuses in the same way but counts nowhere; nor does a handler of
// yours that answers a request itself.
type HandshakeRefusals struct {
	// Method: not GET over HTTP/1.1, or not CONNECT over HTTP/2 (405).
	Method uint64
	// Upgrade: HTTP/1.0 (505), or no "Connection: upgrade" and "Upgrade:
	// websocket" (426).
	Upgrade uint64
	// Version: a Sec-WebSocket-Version other than 13 and 8 (426).
	Version uint64
	// Key: a Sec-WebSocket-Key missing, repeated, or not 16 bytes in
	// base64 (400).
	Key uint64
	// Origin: a cross-origin request that AcceptOptions.OriginPatterns
	// does not allow (403).
	Origin uint64
	// HTTP2: an extended CONNECT request over HTTP/2 without the
	// :protocol pseudo-header (400) or for another protocol (501).
	HTTP2 uint64
	// ShuttingDown: a request during Shutdown (503).
	ShuttingDown uint64
	// Other: the server's own failures, such as invalid
	// CompressionOptions or a connection that net/http could not hand
	// over (500), and handshakes that failed without a refusal, when the
	// response could not be written.
	Other uint64
}

// Reasons of a refusal, the fields of HandshakeRefusals.
const (
	refusedOther refusal = iota
	refusedMethod
	refusedUpgrade
	refusedVersion
	refusedKey
	refusedOrigin
	refusedHTTP2
	refusedShuttingDown
	refusals // how many reasons there are
)

// refusalOf is the reason that a refusal with status counts under, for
// the checks that do not name one: those of an extended CONNECT
// (http2.go), and the server's own failures.
func refusalOf(r *http.Request, status int) refusal {
	switch {
	case status == http.StatusMethodNotAllowed:
		return refusedMethod
	case status == http.StatusUpgradeRequired:
		return refusedVersion
	case status == http.StatusForbidden:
		return refusedOrigin
	case r.ProtoMajor == 2 && (status == http.StatusBadRequest || status == http.StatusNotImplemented):
		return refusedHTTP2
	}
	return refusedOther
}

// serverCounters are the figures a Server keeps itself.
type serverCounters struct {
	refused        [refusals]atomic.Uint64
	broadcasts     atomic.Uint64
	overflowClosed atomic.Uint64
	// Under Server.mu: Accepted, and the figures of the connections that
	// have closed.
	gone ServerStats
}

// countRefusal counts the failed handshake whose error Accept returned.
func (n *serverCounters) countRefusal(err error) {
	var he *HandshakeError
	why := refusedOther
	if errors.As(err, &he) {
		why = he.refusal
	}
	n.refused[why].Add(1)
}

// Stats returns the server's figures. The counters of the open
// connections are read as they stand, under the lock that guards the
// server's set of connections, so its time grows with their number.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	st := s.stats.gone
	for c := range s.conns {
		cs := c.Stats()
		st.Counters.add(&cs.Counters)
		st.Queued += cs.Queued
		st.Buffered += cs.Buffered
	}
	st.Open = int64(len(s.conns))
	s.mu.Unlock()
	st.Broadcasts = s.stats.broadcasts.Load()
	st.OverflowClosed = s.stats.overflowClosed.Load()
	r := &s.stats.refused
	st.Refused = HandshakeRefusals{
		Method:       r[refusedMethod].Load(),
		Upgrade:      r[refusedUpgrade].Load(),
		Version:      r[refusedVersion].Load(),
		Key:          r[refusedKey].Load(),
		Origin:       r[refusedOrigin].Load(),
		HTTP2:        r[refusedHTTP2].Load(),
		ShuttingDown: r[refusedShuttingDown].Load(),
		Other:        r[refusedOther].Load(),
	}
	return st
}

// forget drops c, which has closed, from the open connections and adds
// its figures to those of the closed ones. It is a function of its own,
// kept out of serve, so that its locals do not sit on the stack of an idle
// connection's handler (TestIdleStackAndHeap).
//
//go:noinline
func (s *Server) forget(c *Conn) {
	cs := c.Stats()
	s.mu.Lock()
	delete(s.conns, c)
	g := &s.stats.gone
	g.Counters.add(&cs.Counters)
	g.Closed++
	g.CloseSent.add(cs.CloseSent)
	g.CloseReceived.add(cs.CloseReceived)
	s.mu.Unlock()
}

// StatsVar returns the server's figures as an expvar.Var, whose String
// method returns Stats, read afresh, as a JSON object. Publish them with
//
//	expvar.Publish("ws", s.StatsVar())
//
// and they appear under "ws" at /debug/vars. The package itself does
// not import expvar, whose import registers /debug/vars on
// http.DefaultServeMux.
func (s *Server) StatsVar() fmt.Stringer { return statsVar{s} }

// statsVar is the expvar.Var of a Server's figures.
type statsVar struct{ s *Server }

func (v statsVar) String() string {
	b, err := json.Marshal(v.s.Stats())
	if err != nil {
		return "{}" // not reached: ServerStats holds numbers only
	}
	return string(b)
}
