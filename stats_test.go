//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

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
