//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// TestStatsExchange counts a known exchange exactly, on both sides:
// messages written with Write, a Writer and Send, one read only in part
// and dropped by the next read, a ping and the close handshake.
func TestStatsExchange(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)

	c.Write(ctx, ws.MessageText, []byte("hello"))
	c.Write(ctx, ws.MessageBinary, make([]byte, 1000))
	w, err := c.Writer(ctx, ws.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 300))
	io.Copy(w, bytes.NewReader(make([]byte, 700)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	if _, msg, err := s.Read(ctx); err != nil || len(msg) != 5 {
		t.Fatalf("first message: %d bytes, %v", len(msg), err)
	}
	_, r, err := s.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(r, make([]byte, 10)) // the rest is dropped by the next read
	if _, msg, err := s.Read(ctx); err != nil || len(msg) != 1000 {
		t.Fatalf("third message: %d bytes, %v", len(msg), err)
	}

	s.Write(ctx, ws.MessageText, make([]byte, 50))
	s.Write(ctx, ws.MessageBinary, make([]byte, 60))
	done := make(chan error, 1)
	s.Send(ctx, ws.MessageBinary, make([]byte, 70), done)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The server reads, so it answers the ping and takes the close frame.
	read := make(chan error, 1)
	go func() { _, _, err := s.Read(ctx); read <- err }()
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ws.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	if ws.CloseStatus(<-read) != ws.StatusNormalClosure {
		t.Fatal("the server's read did not see the close frame")
	}
	<-s.Done()

	want := ws.ConnStats{
		Counters: ws.Counters{
			MessagesOut: 3, BytesOut: 2005, WireBytesOut: 2005,
			MessagesIn: 3, BytesIn: 180, WireBytesIn: 180,
			PingsOut: 1, PongsIn: 1,
		},
		CloseSent: ws.StatusNormalClosure, CloseReceived: ws.StatusNormalClosure,
	}
	if got := c.Stats(); got != want {
		t.Errorf("client:\n got %+v\nwant %+v", got, want)
	}
	want = ws.ConnStats{
		Counters: ws.Counters{
			MessagesIn: 3, BytesIn: 2005, WireBytesIn: 2005,
			MessagesOut: 3, BytesOut: 180, WireBytesOut: 180,
			PingsIn: 1,
		},
		CloseSent: ws.StatusNormalClosure, CloseReceived: ws.StatusNormalClosure,
	}
	if got := s.Stats(); got != want {
		t.Errorf("server:\n got %+v\nwant %+v", got, want)
	}
}

// recordConn records the bytes written to a connection while on is set.
type recordConn struct {
	net.Conn
	on  atomic.Bool
	mu  sync.Mutex
	out []byte
}

func (r *recordConn) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	if r.on.Load() {
		r.mu.Lock()
		r.out = append(r.out, p[:n]...)
		r.mu.Unlock()
	}
	return n, err
}

// dataPayload sums the payload lengths of the data frames in b.
func dataPayload(t *testing.T, b []byte) uint64 {
	t.Helper()
	var n uint64
	for len(b) > 0 {
		h, hn, ok := frame.Parse(b)
		if !ok || len(b) < hn+int(h.Length) {
			t.Fatalf("bad frame in the recorded bytes: % x", b[:min(len(b), 16)])
		}
		if !frame.IsControl(h.Opcode) {
			n += uint64(h.Length)
		}
		b = b[hn+int(h.Length):]
	}
	return n
}

// TestStatsCompression counts the bytes of compressed messages as the
// application gives them and as they cross the wire, checked against
// the frames the client put on the wire.
func TestStatsCompression(t *testing.T) {
	ctx := context.Background()
	comp := ws.Options{Compression: &ws.CompressionOptions{}}
	var rec *recordConn
	copts := &ws.DialOptions{Options: comp, NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rec = &recordConn{Conn: nc}
		return rec, nil
	}}
	c, s := pair(t, true, &ws.AcceptOptions{Options: comp}, copts)
	rec.on.Store(true)

	big := wstest.JSON(4096)
	c.Write(ctx, ws.MessageText, big)                   // compressed
	c.Write(ctx, ws.MessageText, big[:100])             // under the threshold
	c.Write(ctx, ws.MessageText|ws.Uncompressed, big)   // as it is
	c.Write(ctx, ws.MessageText|ws.Compressed, big[:9]) // compressed, small as it is
	w, err := c.Writer(ctx, ws.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(big[:2000])
	w.Write(big[2000:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := s.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.Write(ctx, ws.MessageText, big)
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}

	total := uint64(4096 + 100 + 4096 + 9 + 4096)
	rec.mu.Lock()
	wire := dataPayload(t, rec.out)
	rec.mu.Unlock()
	cs, ss := c.Stats(), s.Stats()
	if cs.MessagesOut != 5 || cs.BytesOut != total || cs.WireBytesOut != wire {
		t.Errorf("client out: %d messages, %d bytes, %d on the wire; want 5, %d, %d", cs.MessagesOut, cs.BytesOut, cs.WireBytesOut, total, wire)
	}
	if ss.MessagesIn != 5 || ss.BytesIn != total || ss.WireBytesIn != wire {
		t.Errorf("server in: %d messages, %d bytes, %d on the wire; want 5, %d, %d", ss.MessagesIn, ss.BytesIn, ss.WireBytesIn, total, wire)
	}
	if wire >= total-4096 {
		t.Errorf("%d bytes on the wire for %d, of which 4196 uncompressed: compression saved nothing", wire, total)
	}
	if cs.BytesIn != 4096 || cs.WireBytesIn != ss.WireBytesOut || ss.BytesOut != 4096 || ss.WireBytesOut >= 4096 {
		t.Errorf("server to client: %d bytes, %d on the wire; the client read %d, %d", ss.BytesOut, ss.WireBytesOut, cs.BytesIn, cs.WireBytesIn)
	}
}

// slowReceiver starts a Server whose send queues hold one message, with
// the given overflow policy, on an in-memory listener, and connects a
// client that reads nothing: over the pipe, the server's first write to
// it blocks at once.
func slowReceiver(t *testing.T, overflow ws.OverflowPolicy) (*ws.Server, *ws.Conn) {
	t.Helper()
	s := &ws.Server{
		Overflow: overflow,
		Options:  ws.AcceptOptions{Options: ws.Options{SendQueue: 1}},
		Handler: func(c *ws.Conn, r *http.Request) {
			for range c.Messages() {
			}
		},
	}
	srv := wstest.NewServer(s)
	t.Cleanup(srv.Close)
	c, _, err := ws.Dial(context.Background(), "ws://pipe/", &ws.DialOptions{NetDial: srv.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	waitFor(t, "connection", func() bool { return s.Len() == 1 })
	return s, c
}

// TestStatsBroadcastDrop fills the send queue of a receiver that does
// not read, under OverflowDrop: every message Broadcast did not queue is
// counted as dropped, and every one it queued as delivered once the
// receiver reads.
func TestStatsBroadcastDrop(t *testing.T) {
	ctx := context.Background()
	s, c := slowReceiver(t, ws.OverflowDrop)
	sent, queued := 0, 0
	for s.Stats().BroadcastsDropped < 3 {
		n, err := s.Broadcast(ws.MessageBinary, []byte("news"), nil)
		if err != nil {
			t.Fatal(err)
		}
		sent++
		queued += n
		if sent > 1000 {
			t.Fatal("nothing dropped after 1000 broadcasts")
		}
	}
	st := s.Stats()
	if st.Broadcasts != uint64(sent) || st.BroadcastsDropped != uint64(sent-queued) {
		t.Fatalf("%d broadcasts, %d dropped; want %d, %d", st.Broadcasts, st.BroadcastsDropped, sent, sent-queued)
	}
	for range queued {
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "deliveries", func() bool { return s.Stats().BroadcastsOut == uint64(queued) })
	var server *ws.Conn
	for sc := range s.Conns() {
		server = sc
	}
	ss := server.Stats()
	if ss.BroadcastsOut != uint64(queued) || ss.MessagesOut != uint64(queued) || ss.BroadcastsDropped != uint64(sent-queued) || ss.Queued != 0 || ss.Buffered != 0 {
		t.Errorf("the receiver: %+v; want %d delivered, %d dropped", ss, queued, sent-queued)
	}
	if cs := c.Stats(); cs.MessagesIn != uint64(queued) || cs.BytesIn != 4*uint64(queued) {
		t.Errorf("the client read %d messages, %d bytes; want %d, %d", cs.MessagesIn, cs.BytesIn, queued, 4*queued)
	}
	if st := s.Stats(); st.OverflowClosed != 0 {
		t.Errorf("%d receivers closed under OverflowDrop", st.OverflowClosed)
	}
	c.Close(ws.StatusNormalClosure, "")
	s.Shutdown(ctx)
}

// TestStatsBroadcastClose fills the send queue of a receiver that does
// not read, under OverflowClose, and broadcasts on while its close waits
// for the queue: it counts as closed once, and with 1013 sent once it has
// read its queue.
func TestStatsBroadcastClose(t *testing.T) {
	ctx := context.Background()
	s, c := slowReceiver(t, ws.OverflowClose)
	for i := 0; s.Stats().OverflowClosed == 0; i++ {
		s.Broadcast(ws.MessageBinary, []byte("news"), nil)
		if i > 1000 {
			t.Fatal("no receiver closed after 1000 broadcasts")
		}
	}
	for range 5 {
		s.Broadcast(ws.MessageBinary, []byte("more"), nil)
	}
	if _, err := readAllUntilClose(c); ws.CloseStatus(err) != ws.StatusTryAgainLater {
		t.Fatalf("the receiver ended with %v", err)
	}
	waitFor(t, "end of the handler", func() bool { return s.Len() == 0 })
	st := s.Stats()
	want := ws.CloseCodes{TryAgainLater: 1}
	if st.OverflowClosed != 1 || st.Closed != 1 || st.CloseSent != want || st.CloseReceived != want {
		t.Errorf("%d closed for overflow, %d closed, sent %+v, received %+v; want 1, 1, %+v", st.OverflowClosed, st.Closed, st.CloseSent, st.CloseReceived, want)
	}
	if st.BroadcastsOut != c.Stats().MessagesIn {
		t.Errorf("%d delivered, the client read %d", st.BroadcastsOut, c.Stats().MessagesIn)
	}
	s.Shutdown(ctx)
}

// TestStatsKeepaliveTimeout ends a connection whose client reads but
// answers no ping: the server counts the timeout, its pings and a close
// without a close frame either way.
func TestStatsKeepaliveTimeout(t *testing.T) {
	ctx := context.Background()
	s := &ws.Server{
		Options: ws.AcceptOptions{Options: ws.Options{PingInterval: 20 * time.Millisecond}},
		Handler: func(c *ws.Conn, r *http.Request) {
			for range c.Messages() {
			}
		},
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Options: ws.Options{DisableAutoPong: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err == nil {
		t.Fatal("read a message")
	}
	waitFor(t, "end of the handler", func() bool { return s.Stats().Closed == 1 })
	st := s.Stats()
	abnormal := ws.CloseCodes{AbnormalClosure: 1}
	if st.KeepaliveTimeouts != 1 || st.PingsOut == 0 || st.PongsIn != 0 || st.CloseSent != abnormal || st.CloseReceived != abnormal {
		t.Errorf("server: %+v", st)
	}
	if cs := c.Stats(); cs.PingsIn != st.PingsOut || cs.KeepaliveTimeouts != 0 {
		t.Errorf("the client took %d pings of %d", cs.PingsIn, st.PingsOut)
	}
}

// TestStatsCloseCodes ends connections in every way, from either side,
// and checks the server's count of the codes sent and received.
func TestStatsCloseCodes(t *testing.T) {
	ctx := context.Background()
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			if code, ok := strings.CutPrefix(string(msg.Data), "close "); ok {
				var n int
				fmt.Sscan(code, &n)
				c.Close(ws.StatusCode(n), "")
			}
		}
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dial := func() *ws.Conn {
		c, _, err := ws.Dial(ctx, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	// The client closes.
	for _, code := range []ws.StatusCode{ws.StatusNormalClosure, ws.StatusGoingAway, ws.StatusNoStatusReceived, 4000} {
		c := dial()
		if err := c.Close(code, ""); err != nil {
			t.Fatal(err)
		}
		if cs := c.Stats(); cs.CloseSent != code || cs.CloseReceived != code {
			t.Errorf("close %d: the client sent %d and received %d", code, cs.CloseSent, cs.CloseReceived)
		}
	}
	// The server closes.
	for _, code := range []ws.StatusCode{ws.StatusPolicyViolation, ws.StatusInternalError} {
		c := dial()
		c.Write(ctx, ws.MessageText, fmt.Appendf(nil, "close %d", code))
		if _, err := readAllUntilClose(c); ws.CloseStatus(err) != code {
			t.Fatalf("close %d: %v", code, err)
		}
		if cs := c.Stats(); cs.CloseSent != code || cs.CloseReceived != code {
			t.Errorf("close %d: the client sent %d and received %d", code, cs.CloseSent, cs.CloseReceived)
		}
	}
	// A protocol error of the client's: the server sends 1007 and
	// closes without reading the answer.
	c := dial()
	c.Write(ctx, ws.MessageText, []byte{0xff})
	readAllUntilClose(c)
	if cs := c.Stats(); cs.CloseReceived != ws.StatusInvalidFramePayloadData {
		t.Errorf("the client received %d", cs.CloseReceived)
	}
	// No close frame at all.
	dial().CloseNow()

	waitFor(t, "end of the handlers", func() bool { return s.Stats().Closed == 8 })
	st := s.Stats()
	sent := ws.CloseCodes{NormalClosure: 1, GoingAway: 1, NoStatusReceived: 1, Other: 1, PolicyViolation: 1, InternalError: 1, InvalidFramePayloadData: 1, AbnormalClosure: 1}
	received := ws.CloseCodes{NormalClosure: 1, GoingAway: 1, NoStatusReceived: 1, Other: 1, PolicyViolation: 1, InternalError: 1, AbnormalClosure: 2}
	if st.CloseSent != sent {
		t.Errorf("sent:\n got %+v\nwant %+v", st.CloseSent, sent)
	}
	if st.CloseReceived != received {
		t.Errorf("received:\n got %+v\nwant %+v", st.CloseReceived, received)
	}
	if st.Accepted != 8 || st.Open != 0 {
		t.Errorf("%d accepted, %d open", st.Accepted, st.Open)
	}
}

// TestStatsRefusals refuses a handshake for each reason, over HTTP/1.1
// and HTTP/2, and checks the count of each.
func TestStatsRefusals(t *testing.T) {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {}}
	valid := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		return r
	}
	h2 := func(method, protocol string) *http.Request {
		r := httptest.NewRequest(method, "/", nil)
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		r.Header.Set("Sec-WebSocket-Version", "13")
		if protocol != "" {
			r.Header.Set(":protocol", protocol)
		}
		return r
	}
	refuse := func(r *http.Request, status int) {
		t.Helper()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != status {
			t.Errorf("status %d, want %d", w.Code, status)
		}
	}
	r := valid()
	r.Method = http.MethodPost
	refuse(r, 405)
	refuse(h2(http.MethodGet, "websocket"), 405)
	r = valid()
	r.ProtoMinor = 0
	refuse(r, 505)
	r = valid()
	r.Header.Del("Upgrade")
	refuse(r, 426)
	r = valid()
	r.Header.Set("Sec-WebSocket-Version", "12")
	refuse(r, 426)
	r = h2(http.MethodConnect, "websocket")
	r.Header.Set("Sec-WebSocket-Version", "12")
	refuse(r, 426)
	r = valid()
	r.Header.Set("Sec-WebSocket-Key", "short")
	refuse(r, 400)
	r = valid()
	r.Header.Set("Origin", "https://elsewhere.example")
	refuse(r, 403)
	refuse(h2(http.MethodConnect, ""), 400)
	refuse(h2(http.MethodConnect, "chat"), 501)
	refuse(valid(), 500) // a recorder cannot be hijacked
	s.Shutdown(context.Background())
	refuse(valid(), 503)

	want := ws.HandshakeRefusals{Method: 2, Upgrade: 2, Version: 2, Key: 1, Origin: 1, HTTP2: 2, ShuttingDown: 1, Other: 1}
	if got := s.Stats().Refused; got != want {
		t.Errorf("refused:\n got %+v\nwant %+v", got, want)
	}

	// Settings that no handshake could use.
	bad := &ws.Server{Handler: s.Handler, Options: ws.AcceptOptions{Options: ws.Options{Compression: &ws.CompressionOptions{Level: 42}}}}
	w := httptest.NewRecorder()
	bad.ServeHTTP(w, valid())
	if got := bad.Stats().Refused; got != (ws.HandshakeRefusals{Other: 1}) || w.Code != 500 {
		t.Errorf("invalid compression settings: %d, %+v", w.Code, got)
	}
}

// expvars names the variables that TestStatsExpvar publishes, one a run,
// since expvar cannot take a name back.
var expvars atomic.Int32

// TestStatsExpvar publishes a server's figures with expvar and reads
// them back from /debug/vars.
func TestStatsExpvar(t *testing.T) {
	ctx := context.Background()
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(ctx, msg.Type, msg.Data)
		}
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	name := fmt.Sprintf("ws-test-%d", expvars.Add(1))
	expvar.Publish(name, s.StatsVar())

	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(ctx, ws.MessageText, []byte("hello"))
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close(ws.StatusNormalClosure, "")
	waitFor(t, "end of the handler", func() bool { return s.Len() == 0 })
	ws.Dial(ctx, srv.URL+"/", &ws.DialOptions{Header: http.Header{"Origin": {"https://elsewhere.example"}}})

	vars := httptest.NewServer(expvar.Handler())
	defer vars.Close()
	resp, err := http.Get(vars.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	var got ws.ServerStats
	if err := json.Unmarshal(all[name], &got); err != nil {
		t.Fatalf("%s: %v in %s", name, err, all[name])
	}
	want := ws.ServerStats{
		Counters: ws.Counters{MessagesIn: 1, BytesIn: 5, WireBytesIn: 5, MessagesOut: 1, BytesOut: 5, WireBytesOut: 5},
		Accepted: 1, Closed: 1,
		CloseSent:     ws.CloseCodes{NormalClosure: 1},
		CloseReceived: ws.CloseCodes{NormalClosure: 1},
		Refused:       ws.HandshakeRefusals{Origin: 1},
	}
	if got != want {
		t.Errorf("published:\n got %+v\nwant %+v", got, want)
	}
	var raw map[string]any
	json.Unmarshal(all[name], &raw)
	for _, key := range []string{"MessagesIn", "WireBytesOut", "Accepted", "Open", "CloseSent", "Refused"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %q in %s", key, all[name])
		}
	}
	s.Shutdown(ctx)
}
