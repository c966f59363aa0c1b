package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

func TestClientRules(t *testing.T) {
	ctx := context.Background()
	t.Run("client masks every frame (5.3)", func(t *testing.T) {
		got := make(chan frame.Header, 4)
		url := rawServer(t, "", func(p *rawPeer) {
			for i := 0; i < 3; i++ {
				h, _, err := p.readFrame()
				if err != nil {
					return
				}
				got <- h
			}
			p.sendFrame(true, 0, frame.OpClose, closePayload(1000, ""))
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(ctx, ws.MessageText, []byte("one"))
		c.Write(ctx, ws.MessageBinary, make([]byte, 70000))
		c.Close(ws.StatusNormalClosure, "")
		keys := map[uint32]bool{}
		for i := 0; i < 3; i++ {
			h := <-got
			if !h.Masked {
				t.Fatalf("frame %d unmasked", i)
			}
			keys[h.Key] = true
		}
		if len(keys) < 2 {
			t.Fatal("masking keys repeat")
		}
	})
	t.Run("masked frame from server (5.1)", func(t *testing.T) {
		url := rawServer(t, "", func(p *rawPeer) {
			p.client = true // so it masks, which a server must not
			p.sendFrame(true, 0, frame.OpText, []byte("hi"))
			p.client = false
			p.expectCloseFromClient(t, 1002)
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if !errors.Is(err, ws.ErrMaskedFrame) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("server close echoed and reported", func(t *testing.T) {
		url := rawServer(t, "", func(p *rawPeer) {
			p.sendFrame(true, 0, frame.OpText, []byte("last words"))
			p.sendFrame(true, 0, frame.OpClose, closePayload(4321, "see you"))
			p.expectCloseFromClient(t, 4321)
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err != nil || string(msg) != "last words" {
			t.Fatalf("%q %v", msg, err)
		}
		_, _, err = c.Read(ctx)
		var ce ws.CloseError
		if !errors.As(err, &ce) || ce.Code != 4321 || ce.Reason != "see you" {
			t.Fatalf("got %v", err)
		}
		_, _, err = c.Read(ctx)
		if !errors.Is(err, net.ErrClosed) || !errors.As(err, &ce) {
			t.Fatalf("read after close: %v", err)
		}
		if err := c.Write(ctx, ws.MessageText, nil); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
	})
	for _, c := range []struct {
		name, extra string
	}{
		{"subprotocol not offered", "Sec-WebSocket-Protocol: chat\r\n"},
		{"extension not offered", "Sec-WebSocket-Extensions: permessage-deflate\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := rawServer(t, c.extra, func(p *rawPeer) {})
			_, _, err := ws.Dial(ctx, url, nil)
			var he *ws.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestHandshakeRejects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{OriginPatterns: []string{"*.allowed.example"}})
		if err != nil {
			return
		}
		c.CloseNow()
	}))
	defer srv.Close()
	good := func() http.Header {
		return http.Header{
			"Connection":            {"keep-alive, Upgrade"},
			"Upgrade":               {"WebSocket"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Version": {"13"},
		}
	}
	cases := []struct {
		name   string
		method string
		edit   func(h http.Header)
		status int
	}{
		{"good", "GET", func(h http.Header) {}, 101},
		{"version 8", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, 101},
		{"POST", "POST", func(h http.Header) {}, 405},
		{"no upgrade", "GET", func(h http.Header) { h.Del("Upgrade") }, 426},
		{"no connection", "GET", func(h http.Header) { h.Set("Connection", "keep-alive") }, 426},
		{"version 12", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "12") }, 426},
		{"no version", "GET", func(h http.Header) { h.Del("Sec-Websocket-Version") }, 426},
		{"short key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, 400},
		{"bad key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "!!!!!!!!!!!!!!!!!!!!!!==") }, 400},
		{"two keys", "GET", func(h http.Header) { h.Add("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, 400},
		{"same origin", "GET", func(h http.Header) { h.Set("Origin", srv.URL) }, 101},
		{"foreign origin", "GET", func(h http.Header) { h.Set("Origin", "https://evil.example") }, 403},
		{"allowed origin", "GET", func(h http.Header) { h.Set("Origin", "https://app.allowed.example") }, 101},
		{"bad origin", "GET", func(h http.Header) { h.Set("Origin", "::") }, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL, nil)
			req.Header = good()
			c.edit(req.Header)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.status == 426 && c.name == "version 12" && resp.Header.Get("Sec-WebSocket-Version") == "" {
				t.Fatal("426 without Sec-WebSocket-Version")
			}
			if c.status >= 400 {
				body, _ := io.ReadAll(resp.Body)
				if len(body) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Fatalf("no plain-text reason: %q", body)
				}
			}
		})
	}
}

func TestSubprotocols(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		server  *ws.AcceptOptions
		offered []string
		want    string
	}{
		{"server preference wins", &ws.AcceptOptions{Subprotocols: []string{"v2", "v1"}}, []string{"v1", "v2"}, "v2"},
		{"none in common", &ws.AcceptOptions{Subprotocols: []string{"v3"}}, []string{"v1", "v2"}, ""},
		{"none offered", &ws.AcceptOptions{Subprotocols: []string{"v3"}}, nil, ""},
		{"callback", &ws.AcceptOptions{SelectSubprotocol: func(r *http.Request, offered []string) string { return offered[len(offered)-1] }}, []string{"a", "b"}, "b"},
		{"callback picks unoffered", &ws.AcceptOptions{SelectSubprotocol: func(*http.Request, []string) string { return "zzz" }}, []string{"a"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sc, err := ws.Accept(w, r, c.server)
				if err != nil {
					return
				}
				sc.Write(ctx, ws.MessageText, []byte(sc.Subprotocol()))
				sc.Close(ws.StatusNormalClosure, "")
			}))
			defer srv.Close()
			cc, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Subprotocols: c.offered})
			if err != nil {
				t.Fatal(err)
			}
			_, msg, err := cc.Read(ctx)
			if err != nil || string(msg) != c.want || cc.Subprotocol() != c.want {
				t.Fatalf("server chose %q, client sees %q (%v); want %q", msg, cc.Subprotocol(), err, c.want)
			}
			cc.Read(ctx)
		})
	}
}

func TestDialShowsRejection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		c, err := ws.Accept(w, r, &ws.AcceptOptions{ResponseHeader: http.Header{"Set-Cookie": {"session=abc"}}})
		if err == nil {
			c.Close(ws.StatusNormalClosure, "")
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	_, resp, err := ws.Dial(ctx, srv.URL, nil)
	var he *ws.HandshakeError
	if !errors.As(err, &he) || he.Status != 401 || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("err %v resp %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "who are you?\n" {
		t.Fatalf("body %q", body)
	}
	c, resp, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Header: http.Header{"Authorization": {"Bearer good"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Set-Cookie") != "session=abc" {
		t.Fatalf("101 response: %v %v", resp.Status, resp.Header)
	}
	c.Read(ctx)
}

func TestDialContext(t *testing.T) {
	// A server that accepts TCP but never answers the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns sync.WaitGroup
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				io.Copy(io.Discard, nc)
				nc.Close()
			}()
		}
	}()
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String(), nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String(), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	ln.Close()
	conns.Wait()
}

func TestContextCancelKeepsConnection(t *testing.T) {
	for _, tcp := range []bool{true, false} {
		name := map[bool]string{true: "tcp", false: "pipe"}[tcp]
		t.Run(name, func(t *testing.T) {
			c, s := pair(t, tcp, nil, nil)
			// A read with nothing to read is interrupted and the
			// connection lives on.
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, _, err := s.Read(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			_, _, err = s.Reader(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v", err)
			}
			bg := context.Background()
			go c.Write(bg, ws.MessageText, []byte("still here"))
			_, msg, err := s.Read(bg)
			if err != nil || string(msg) != "still here" {
				t.Fatalf("after cancel: %q %v", msg, err)
			}
			// A context done before the call does nothing at all.
			done, cancel := context.WithCancel(bg)
			cancel()
			if _, _, err := s.Read(done); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if err := s.Write(done, ws.MessageText, []byte("x")); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			go c.Write(bg, ws.MessageText, []byte("again"))
			if _, msg, err := s.Read(bg); err != nil || string(msg) != "again" {
				t.Fatalf("%q %v", msg, err)
			}
		})
	}
}

func TestContextCancelMidMessage(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	bg := context.Background()
	w, err := c.Writer(bg, ws.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 20000)) // one frame goes out, the message stays open
	ctx, cancel := context.WithCancel(bg)
	_, r, err := s.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = io.ReadAll(r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// The connection lives on: the rest of the message is dropped and the
	// next one arrives whole.
	w.Write(make([]byte, 5000))
	w.Close()
	go c.Write(bg, ws.MessageText, []byte("next"))
	if _, msg, err := s.Read(bg); err != nil || string(msg) != "next" {
		t.Fatalf("after: %q %v", msg, err)
	}
}

func TestWriteCancelBlocked(t *testing.T) {
	// Over a pipe, a write blocks until the peer reads.
	c, _ := pair(t, false, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Write(ctx, ws.MessageText, []byte("nobody reads"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + i)}, 1000+i*3000)
			for j := 0; j < each; j++ {
				if j%2 == 0 {
					if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				w, err := c.Writer(ctx, ws.MessageBinary)
				if err != nil {
					t.Error(err)
					return
				}
				for k := 0; k < len(msg); k += 700 {
					w.Write(msg[k:min(k+700, len(msg))])
				}
				if err := w.Close(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for n := 0; n < writers*each; n++ {
		_, msg, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) == 0 || !bytes.Equal(msg, bytes.Repeat(msg[:1], len(msg))) || len(msg) != 1000+int(msg[0]-'a')*3000 {
			t.Fatalf("message %d interleaved (%d bytes)", n, len(msg))
		}
	}
	wg.Wait()
}

func TestConcurrentReadIsAnError(t *testing.T) {
	_, s := pair(t, false, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Read(ctx)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	if _, _, err := s.Read(context.Background()); !errors.Is(err, ws.ErrConcurrentRead) {
		t.Fatalf("got %v", err)
	}
	cancel()
	<-done
}

func TestPing(t *testing.T) {
	var pings, pongs sync.Map
	c, s := pair(t, true,
		&ws.AcceptOptions{Options: ws.Options{OnPing: func(p []byte) { pings.Store(string(p), true) }}},
		&ws.DialOptions{Options: ws.Options{OnPong: func(p []byte) { pongs.Store(len(p), true) }}})
	ctx := context.Background()
	go s.Read(ctx)
	go c.Read(ctx)
	for i := 0; i < 3; i++ {
		if err := c.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := pongs.Load(8); !ok {
		t.Fatal("OnPong not called")
	}
	n := 0
	pings.Range(func(k, v any) bool { n++; return true })
	if n != 3 {
		t.Fatalf("OnPing saw %d distinct pings", n)
	}
	// Without a reader on the pinging side, Ping waits for its context.
	c2, _ := pair(t, false, nil, nil)
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c2.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestDisableAutoPong(t *testing.T) {
	c, s := pair(t, true, &ws.AcceptOptions{Options: ws.Options{DisableAutoPong: true}}, nil)
	ctx := context.Background()
	go s.Read(ctx)
	go c.Read(ctx)
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pong arrived anyway: %v", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	ctx := context.Background()
	t.Run("close with reader active on peer", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		got := make(chan error, 1)
		go func() {
			_, _, err := s.Read(ctx)
			got <- err
		}()
		if err := c.Close(ws.StatusGoingAway, "later"); err != nil {
			t.Fatal(err)
		}
		err := <-got
		var ce ws.CloseError
		if !errors.As(err, &ce) || ce.Code != ws.StatusGoingAway || ce.Reason != "later" {
			t.Fatalf("got %v", err)
		}
		if err := c.Close(ws.StatusNormalClosure, ""); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second close: %v", err)
		}
		if err := c.CloseNow(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("CloseNow after Close: %v", err)
		}
	})
	t.Run("close both sides at once", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		var wg sync.WaitGroup
		var cerr, serr error
		wg.Add(2)
		go func() { defer wg.Done(); cerr = c.Close(ws.StatusNormalClosure, "") }()
		go func() { defer wg.Done(); serr = s.Close(ws.StatusNormalClosure, "") }()
		wg.Wait()
		// Each side gets the other's close frame: a clean close for both.
		if cerr != nil || serr != nil {
			t.Fatalf("Close: client %v, server %v", cerr, serr)
		}
		if ws.CloseStatus(c.Err()) != ws.StatusNormalClosure || ws.CloseStatus(s.Err()) != ws.StatusNormalClosure {
			t.Fatalf("Err: client %v, server %v", c.Err(), s.Err())
		}
		<-c.Done()
		<-s.Done()
	})
	t.Run("peer never answers: bounded", func(t *testing.T) {
		c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{CloseTimeout: 100 * time.Millisecond}})
		_ = s // the server never reads, so never answers
		start := time.Now()
		err := c.Close(ws.StatusNormalClosure, "")
		if err == nil {
			t.Fatal("no error for an unanswered close")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
		<-c.Done()
	})
	t.Run("invalid codes and reasons refused locally", func(t *testing.T) {
		c, _ := pair(t, false, nil, nil)
		for _, code := range []ws.StatusCode{0, 999, 1004, 1006, 1015, 2000, 5000} {
			if err := c.Close(code, ""); !errors.Is(err, ws.ErrInvalidCloseCode) {
				t.Fatalf("code %d: %v", code, err)
			}
		}
		for _, reason := range []string{strings.Repeat("x", 124), "\xff"} {
			if err := c.Close(1000, reason); !errors.Is(err, ws.ErrInvalidCloseReason) {
				t.Fatalf("reason %q: %v", reason, err)
			}
		}
		if err := c.Close(ws.StatusNoStatusReceived, "x"); !errors.Is(err, ws.ErrInvalidCloseReason) {
			t.Fatal(err)
		}
	})
	t.Run("CloseNow interrupts a blocked read", func(t *testing.T) {
		_, s := pair(t, true, nil, nil)
		got := make(chan error, 1)
		go func() {
			_, _, err := s.Read(ctx)
			got <- err
		}()
		time.Sleep(20 * time.Millisecond)
		s.CloseNow()
		err := <-got
		if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ws.ErrLocalClose) {
			t.Fatalf("got %v", err)
		}
		if !errors.Is(s.Err(), ws.ErrLocalClose) || !ws.IsNormalClosure(s.Err()) {
			t.Fatalf("Err after CloseNow: %v", s.Err())
		}
	})
	t.Run("peer vanishes", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		c.CloseNow()
		_, _, err := s.Read(ctx)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v", err)
		}
		if !errors.Is(s.Err(), io.ErrUnexpectedEOF) {
			t.Fatalf("Err: %v", s.Err())
		}
	})
}

func TestStatusCodeString(t *testing.T) {
	if ws.StatusGoingAway.String() != "GoingAway" || ws.StatusCode(4000).String() != "StatusCode(4000)" {
		t.Fatal(ws.StatusGoingAway.String(), ws.StatusCode(4000).String())
	}
	if ws.CloseStatus(errors.New("x")) != -1 {
		t.Fatal("CloseStatus of a plain error")
	}
	err := error(ws.CloseError{Code: 1000, Reason: "ok"})
	if ws.CloseStatus(errors.Join(errors.New("wrapped"), err)) != 1000 {
		t.Fatal("CloseStatus misses wrapped errors")
	}
}

func TestPingWithoutReader(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	go s.Read(ctx) // the server reads, so it answers pings
	// The client reads nothing: Ping reads its own pong.
	for i := 0; i < 3; i++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := c.Ping(tctx, nil); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// A message that arrives before the pong is kept for the next read.
	c2, s2 := pair(t, true, nil, nil)
	if err := s2.Write(ctx, ws.MessageText, []byte("first")); err != nil {
		t.Fatal(err)
	}
	go s2.Read(ctx)
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := c2.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping with a message waiting: %v, want it to wait behind the message", err)
	}
	if _, msg, err := c2.Read(ctx); err != nil || string(msg) != "first" {
		t.Fatalf("%q %v", msg, err)
	}
	if err := c2.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCloseKeepsMessagesForReadLoop(t *testing.T) {
	// The server sends 50 messages and only then reads, so it answers the
	// client's close after them; the client's read loop, in another
	// goroutine and busy for a moment after each message, must get all 50
	// although Close runs meanwhile.
	for i := 0; i < 3; i++ {
		c, s := pair(t, true, nil, nil)
		ctx := context.Background()
		const n = 50
		go func() {
			for j := 0; j < n; j++ {
				s.Write(ctx, ws.MessageText, []byte("m"))
			}
			s.Read(ctx)
		}()
		got := make(chan int, 1)
		go func() {
			k := 0
			for {
				if _, _, err := c.Read(ctx); err != nil {
					got <- k
					return
				}
				k++
				time.Sleep(2 * time.Millisecond)
			}
		}()
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		if k := <-got; k != n {
			t.Fatalf("read loop got %d of %d messages", k, n)
		}
	}
}

func TestKeepaliveDuringClose(t *testing.T) {
	c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 10 * time.Millisecond, PingTimeout: time.Second}})
	ctx := context.Background()
	go func() {
		time.Sleep(200 * time.Millisecond) // answer the close late
		s.Read(ctx)
	}()
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Err(); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("Err after a clean close: %v", err)
	}
}

func TestWriteCutOffMidFrameDeliversWhole(t *testing.T) {
	for _, client := range []bool{true, false} {
		t.Run(fmt.Sprint("client=", client), func(t *testing.T) {
			c, s := pair(t, false, nil, nil) // over a pipe a write waits for reads
			if !client {
				c, s = s, c
			}
			bg := context.Background()
			msg := bytes.Repeat([]byte("0123456789"), 10000)
			got := make(chan []byte, 1)
			partial := make(chan struct{})
			go func() {
				_, r, err := s.Reader(bg)
				if err != nil {
					t.Error(err)
					return
				}
				head := make([]byte, 1000)
				io.ReadFull(r, head)
				close(partial)
				<-time.After(100 * time.Millisecond) // the writer times out meanwhile
				rest, err := io.ReadAll(r)
				if err != nil {
					t.Error(err)
				}
				got <- append(head, rest...)
			}()
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			err := c.Write(ctx, ws.MessageBinary, msg)
			cancel()
			<-partial
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
			go c.Write(bg, ws.MessageText, []byte("next")) // sends the rest first
			if m := <-got; !bytes.Equal(m, msg) {
				t.Fatalf("message arrived with %d of %d bytes", len(m), len(msg))
			}
			if _, m, err := s.Read(bg); err != nil || string(m) != "next" {
				t.Fatalf("%q %v", m, err)
			}
		})
	}
}
