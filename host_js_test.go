//go:build js

// The tests of the client on the host's WebSocket, under GOOS=js
// GOARCH=wasm. They need a Go server, which interop's TestWasmNode and
// TestWasmChromium run, and name in WS_TEST_SERVER.

package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

// TestMain checks for leaked goroutines, but for the runtime's own that
// hands the host's events to Go.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}

// hostURL returns the URL of path on the test server.
func hostURL(t *testing.T, path string) string {
	t.Helper()
	base := os.Getenv("WS_TEST_SERVER")
	if base == "" {
		t.Fatal("WS_TEST_SERVER is not set: run these tests through the interop module's TestWasmNode, which starts their server")
	}
	return base + path
}

// hostDial dials path on the test server.
func hostDial(t *testing.T, path string, opts *ws.DialOptions) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := ws.Dial(ctx, hostURL(t, path), opts)
	if err != nil {
		t.Fatal(err)
	}
	if resp != nil {
		t.Fatal("a response from the host's WebSocket")
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func hostPattern(n int, text bool) []byte {
	b := make([]byte, n)
	for i := range b {
		if text {
			b[i] = 'a' + byte(i%26)
		} else {
			b[i] = byte(i * 7)
		}
	}
	return b
}

// TestHostEcho sends messages of each type and size through the echo
// server, with Write and Read, Writer and Reader, and ReadAppend.
func TestHostEcho(t *testing.T) {
	ctx := context.Background()
	c := hostDial(t, "/echo", nil)
	for _, n := range []int{0, 125, 64 << 10, 16 << 20} {
		for _, typ := range []ws.MessageType{ws.MessageText, ws.MessageBinary} {
			want := hostPattern(n, typ == ws.MessageText)
			if err := c.Write(ctx, typ, want); err != nil {
				t.Fatal(err)
			}
			got, data, err := c.Read(ctx)
			if err != nil || got != typ || !bytes.Equal(data, want) {
				t.Fatalf("%v of %d bytes: %v %v, %d bytes back", typ, n, got, err, len(data))
			}
		}
	}
	// A message written in pieces comes back whole, read as a stream.
	want := hostPattern(100000, true)
	w, err := c.Writer(ctx, ws.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(want); i += 30000 {
		w.Write(want[i:min(i+30000, len(want))])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, r, err := c.Reader(ctx)
	if err != nil || typ != ws.MessageText {
		t.Fatal(typ, err)
	}
	if data, err := io.ReadAll(r); err != nil || !bytes.Equal(data, want) {
		t.Fatalf("streamed: %v, %d bytes", err, len(data))
	}
	buf := []byte("kept:")
	c.Write(ctx, ws.MessageBinary, []byte{1, 2, 3})
	if _, buf, err = c.ReadAppend(ctx, buf); err != nil || string(buf) != "kept:\x01\x02\x03" {
		t.Fatalf("ReadAppend: %q %v", buf, err)
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if !ws.IsNormalClosure(c.Err()) || c.State() != ws.StateClosed {
		t.Fatalf("Err %v, state %v", c.Err(), c.State())
	}
}

// TestHostMessages receives through Messages and sends through Send and
// TrySend.
func TestHostMessages(t *testing.T) {
	ctx := context.Background()
	c := hostDial(t, "/echo", nil)
	done := make(chan error, 10)
	for i := range 5 {
		if err := c.Send(ctx, ws.MessageText, []byte(fmt.Sprint("send ", i)), done); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.TrySend(ws.MessageText, []byte("try"), done); err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg := range c.Messages() {
		got = append(got, string(msg.Data))
		if len(got) == 6 {
			break
		}
	}
	want := []string{"send 0", "send 1", "send 2", "send 3", "send 4", "try"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", got, want)
	}
	for range 6 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Every message was written and echoed: neither the send queue nor
	// the host holds any of it.
	if n := c.Buffered(); n != 0 {
		t.Fatalf("Buffered %d after every message came back, want 0", n)
	}
	if err := c.Close(4000, "done"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Close")
	}
}

// TestHostClose checks close codes both ways.
func TestHostClose(t *testing.T) {
	ctx := context.Background()
	// The server closes.
	c := hostDial(t, "/close?code=4002&reason=server+bye", nil)
	_, _, err := c.Read(ctx)
	var ce ws.CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "server bye" {
		t.Fatalf("read: %v, want the server's 4002", err)
	}
	// The client closes; the server reports the code it saw.
	c = hostDial(t, "/report-close", nil)
	if err := c.Close(4003, "client bye"); err != nil {
		t.Fatal(err)
	}
	c = hostDial(t, "/last-close", nil)
	_, data, err := c.Read(ctx)
	if err != nil || string(data) != `4003 "client bye"` {
		t.Fatalf("the server saw %q (%v), want 4003 \"client bye\"", data, err)
	}
	c.Close(ws.StatusNormalClosure, "")
	// A code a browser may not send is refused before anything goes out.
	c = hostDial(t, "/echo", nil)
	if err := c.Close(ws.StatusGoingAway, ""); !errors.Is(err, ws.ErrInvalidCloseCode) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Close(1001): %v, want ErrInvalidCloseCode and errors.ErrUnsupported", err)
	}
	if c.State() != ws.StateOpen {
		t.Fatalf("state %v after a refused Close", c.State())
	}
	c.Close(ws.StatusNormalClosure, "")
}

// TestHostCancelRead cancels a read waiting for a message, and uses the
// connection after it.
func TestHostCancelRead(t *testing.T) {
	c := hostDial(t, "/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read: %v, want DeadlineExceeded", err)
	}
	bg := context.Background()
	if err := c.Write(bg, ws.MessageText, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.Read(bg); err != nil || string(data) != "after" {
		t.Fatalf("after the cancelled read: %q %v", data, err)
	}
	c.Close(ws.StatusNormalClosure, "")
}

// TestHostFragmented reads a message the server sends in several frames,
// and checks the subprotocol the handshake chose.
func TestHostFragmented(t *testing.T) {
	c := hostDial(t, "/fragmented", &ws.DialOptions{Subprotocols: []string{"b", "a"}})
	if c.Subprotocol() != "a" {
		t.Fatalf("subprotocol %q, want a", c.Subprotocol())
	}
	_, data, err := c.Read(context.Background())
	if err != nil || !bytes.Equal(data, hostPattern(60000, true)) {
		t.Fatalf("%v, %d bytes", err, len(data))
	}
	c.Close(ws.StatusNormalClosure, "")
}

// TestHostNetConn runs a line protocol over NetConn.
func TestHostNetConn(t *testing.T) {
	c := hostDial(t, "/lines", nil)
	nc := ws.NetConn(context.Background(), c, ws.MessageText)
	defer nc.Close()
	br := bufio.NewReader(nc)
	for _, line := range []string{"hello", "over a net.Conn"} {
		fmt.Fprintf(nc, "%s\n", line)
		got, err := br.ReadString('\n')
		if err != nil || got != strings.ToUpper(line)+"\n" {
			t.Fatalf("%q: %q %v", line, got, err)
		}
	}
}

// TestHostUnsupported checks that what the host cannot do fails with
// errors.ErrUnsupported rather than differing in silence.
func TestHostUnsupported(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string]*ws.DialOptions{
		"Header":       {Header: map[string][]string{"X": {"y"}}},
		"Compression":  {Options: ws.Options{Compression: &ws.CompressionOptions{}}},
		"PingInterval": {Options: ws.Options{PingInterval: time.Second}},
		"MaxRedirects": {MaxRedirects: 3},
	} {
		if _, _, err := ws.Dial(ctx, hostURL(t, "/echo"), opts); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v, want errors.ErrUnsupported", name, err)
		}
	}
	c := hostDial(t, "/echo", nil)
	if err := c.Ping(ctx, nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Ping: %v", err)
	}
	if err := c.Pong(ctx, nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Pong: %v", err)
	}
	c.Close(ws.StatusNormalClosure, "")
	var he *ws.HandshakeError
	if _, _, err := ws.Dial(ctx, hostURL(t, "/refuse"), nil); !errors.As(err, &he) {
		t.Errorf("a refused handshake: %v, want a HandshakeError", err)
	}
}

// TestHostQueueBound lets the server send faster than Go reads: the
// queue of unread messages ends the connection once it holds more than
// the read limit, after the messages before the bound have been read.
func TestHostQueueBound(t *testing.T) {
	const limit = 64 << 10
	c := hostDial(t, "/flood", &ws.DialOptions{Options: ws.Options{ReadLimit: limit}})
	time.Sleep(time.Second) // the server sends 64 messages of 16 KiB meanwhile
	n := 0
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			if !errors.Is(err, ws.ErrMessageTooBig) {
				t.Fatalf("after %d messages: %v, want ErrMessageTooBig", n, err)
			}
			break
		}
		if len(data) != 16<<10 {
			t.Fatalf("message %d: %d bytes", n, len(data))
		}
		n++
	}
	if n < limit/(16<<10) || n >= 64 {
		t.Fatalf("%d messages read before the end, want the queue's bound, about %d", n, limit/(16<<10)+1)
	}
	<-c.Done()
}
