package ws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// TestState follows a connection through its stages, on both sides of a
// close handshake.
func TestState(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	if c.State() != ws.StateOpen || s.State() != ws.StateOpen {
		t.Fatalf("states %v %v, want open", c.State(), s.State())
	}
	// The server sends its close frame and waits; the client has not read
	// it yet.
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ws.StatusNormalClosure, "") }()
	deadline := time.Now().Add(5 * time.Second)
	for s.State() != ws.StateClosing {
		if time.Now().After(deadline) {
			t.Fatalf("server state %v after sending its close frame, want closing", s.State())
		}
		time.Sleep(time.Millisecond)
	}
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("read: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if c.State() != ws.StateClosed || s.State() != ws.StateClosed {
		t.Fatalf("states %v %v, want closed", c.State(), s.State())
	}
	for st, want := range map[ws.State]string{ws.StateOpen: "open", ws.StateClosing: "closing", ws.StateClosed: "closed", 7: "State(7)"} {
		if st.String() != want {
			t.Errorf("%d: %q, want %q", int(st), st.String(), want)
		}
	}
}

// TestReadPaused checks that a connection reports its reading paused
// between reads and while Messages holds a message no one receives.
func TestReadPaused(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	if !c.ReadPaused() {
		t.Fatal("paused: false before any read")
	}
	read := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		read <- err
	}()
	waitFor(t, "a read in progress", func() bool { return !c.ReadPaused() })
	if err := s.Write(ctx, ws.MessageText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if !c.ReadPaused() {
		t.Fatal("paused: false after the read returned")
	}
	// Messages reads the next message and holds it for a receiver.
	msgs := c.Messages()
	if err := s.Write(ctx, ws.MessageText, []byte("two")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Messages holding its message", c.ReadPaused)
	if m := <-msgs; string(m.Data) != "two" {
		t.Fatalf("got %q", m.Data)
	}
	waitFor(t, "Messages reading again", func() bool { return !c.ReadPaused() })
	c.CloseNow()
	s.CloseNow()
}

// waitFor waits up to 5 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMessageTypeFlags checks the flags of a message to send: valid
// combinations are sent, invalid ones refused, and String names them.
func TestMessageTypeFlags(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, false, nil, nil)
	for _, typ := range []ws.MessageType{ws.MessageText | ws.Compressed, ws.MessageBinary | ws.Uncompressed} {
		go c.Write(ctx, typ, []byte("x"))
		got, _, err := s.Read(ctx)
		if err != nil || got != typ&^(ws.Compressed|ws.Uncompressed) {
			t.Fatalf("%v sent, %v read: %v", typ, got, err)
		}
	}
	for _, typ := range []ws.MessageType{0, 3, ws.Compressed, ws.MessageText | ws.Compressed | ws.Uncompressed, ws.MessageBinary | 1<<12} {
		if err := c.Write(ctx, typ, nil); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("Write(%v): %v, want ErrInvalidMessageType", typ, err)
		}
		if _, err := c.Writer(ctx, typ); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("Writer(%v): %v, want ErrInvalidMessageType", typ, err)
		}
		if err := c.TrySend(typ, nil, nil); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("TrySend(%v): %v, want ErrInvalidMessageType", typ, err)
		}
	}
	for typ, want := range map[ws.MessageType]string{
		ws.MessageText:                                   "text",
		ws.MessageBinary | ws.Compressed:                 "binary|compressed",
		ws.MessageText | ws.Uncompressed:                 "text|uncompressed",
		ws.MessageText | ws.Compressed | ws.Uncompressed: fmt.Sprintf("MessageType(%d)", int(ws.MessageText|ws.Compressed|ws.Uncompressed)),
	} {
		if typ.String() != want {
			t.Errorf("%d: %q, want %q", int(typ), typ.String(), want)
		}
	}
	c.CloseNow()
	s.CloseNow()
}

// TestRefuse checks that AcceptOptions.Refuse writes the response to a
// refused handshake, with the headers the refusal needs already set, and
// that Accept still returns the HandshakeError.
func TestRefuse(t *testing.T) {
	errs := make(chan error, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := ws.Accept(w, r, &ws.AcceptOptions{Refuse: func(w http.ResponseWriter, r *http.Request, err *ws.HandshakeError) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(err.Status)
			fmt.Fprintf(w, "<p>%d: %s</p>", err.Status, err.Reason)
		}})
		errs <- err
	}))
	defer srv.Close()
	for _, c := range []struct {
		name, request string
		status        int
		header        string
	}{
		{"not websocket", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusUpgradeRequired, "Upgrade"},
		{"version", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", http.StatusUpgradeRequired, "Sec-WebSocket-Version"},
		{"method", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed, "Allow"},
		{"origin", "GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", http.StatusForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, c.request)
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "text/html" || !strings.HasPrefix(string(body), fmt.Sprintf("<p>%d: ", c.status)) {
				t.Fatalf("%d %q %q, want %d from Refuse", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status)
			}
			if c.header != "" && resp.Header.Get(c.header) == "" {
				t.Fatalf("no %s header in the refusal", c.header)
			}
			var he *ws.HandshakeError
			if err := <-errs; !errors.As(err, &he) || he.Status != c.status {
				t.Fatalf("Accept returned %v", err)
			}
		})
	}
}
