//go:build !js

package ws_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// TestCloseRead checks that a connection that only writes learns of the
// peer's close through CloseRead, and refuses data messages.
func TestCloseRead(t *testing.T) {
	ctx := context.Background()
	t.Run("the peer closes", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		if err := c.Write(ctx, ws.MessageText, []byte("one")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := s.Read(ctx); err != nil || string(msg) != "one" {
			t.Fatalf("%q, %v", msg, err)
		}
		go s.Close(ws.StatusGoingAway, "bye")
		select {
		case <-done.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the context of CloseRead is not done after the peer closed")
		}
		<-c.Done()
		if ws.CloseStatus(c.Err()) != ws.StatusGoingAway {
			t.Fatalf("Err: %v", c.Err())
		}
		var ce *ws.ClosedError
		if err := c.Write(ctx, ws.MessageText, []byte("two")); !errors.As(err, &ce) || ws.CloseStatus(err) != ws.StatusGoingAway {
			t.Fatalf("Write after the peer's close: %v", err)
		}
	})
	t.Run("pings are answered", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		c.CloseRead(ctx)
		go s.Read(ctx)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		// The server's Ping needs the client to answer, which only a
		// reading client does.
		if err := s.Ping(pctx, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a data message is a policy violation", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		s.Write(ctx, ws.MessageText, []byte("unexpected"))
		_, _, err := s.Read(ctx)
		if ws.CloseStatus(err) != ws.StatusPolicyViolation {
			t.Fatalf("the sender read %v", err)
		}
		<-done.Done()
		<-c.Done()
		if !errors.Is(c.Err(), ws.ErrUnexpectedMessage) {
			t.Fatalf("Err: %v", c.Err())
		}
	})
	t.Run("its context stops it", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		rctx, cancel := context.WithCancel(ctx)
		done := c.CloseRead(rctx)
		cancel()
		<-done.Done()
		// The connection stays open, and can be read again.
		s.Write(ctx, ws.MessageText, []byte("still here"))
		if _, msg, err := c.Read(ctx); err != nil || string(msg) != "still here" {
			t.Fatalf("%q, %v", msg, err)
		}
	})
	t.Run("Close waits for it", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		go s.Read(ctx)
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done.Done():
		default:
			t.Fatal("Close returned before the goroutine of CloseRead ended")
		}
	})
}

// TestCloseReadStopsBeforeItsContext checks that the context CloseRead
// returns is done only once its goroutine has let go of the reader, so a
// read right after it never meets ErrConcurrentRead.
func TestCloseReadStopsBeforeItsContext(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	for i := 0; i < 50; i++ {
		rctx, cancel := context.WithCancel(ctx)
		done := c.CloseRead(rctx)
		cancel()
		<-done.Done()
		if err := s.Write(ctx, ws.MessageText, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

// TestCloseReadDuringClose checks that a data message the peer sent
// before it saw this side's close frame is dropped, not taken for a
// breach of CloseRead's agreement.
func TestCloseReadDuringClose(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	c.CloseRead(ctx)
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ws.StatusNormalClosure, "") }()
	// The server has not read the close frame yet: it may still send.
	time.Sleep(20 * time.Millisecond)
	if err := s.Write(ctx, ws.MessageText, []byte("in flight")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(ctx); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("server read: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !ws.IsNormalClosure(c.Err()) {
		t.Fatalf("Err: %v", c.Err())
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

// TestEndings checks that every way a connection ends gives Err a cause
// that errors.Is and errors.As can match, the same one the interrupted
// call reports, and that IsNormalClosure tells the normal endings apart.
func TestEndings(t *testing.T) {
	ctx := context.Background()
	t.Run("peer closes with 1000", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		go c.Close(ws.StatusNormalClosure, "bye")
		_, _, err := s.Read(ctx)
		if ws.CloseStatus(err) != ws.StatusNormalClosure || !ws.IsNormalClosure(err) {
			t.Fatalf("read: %v", err)
		}
		<-s.Done()
		if ws.CloseStatus(s.Err()) != ws.StatusNormalClosure || !ws.IsNormalClosure(s.Err()) {
			t.Fatalf("Err: %v", s.Err())
		}
	})
	t.Run("Close completes the handshake", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		go s.Read(ctx)
		if err := c.Close(ws.StatusGoingAway, ""); err != nil {
			t.Fatal(err)
		}
		if ws.CloseStatus(c.Err()) != ws.StatusGoingAway || !ws.IsNormalClosure(c.Err()) {
			t.Fatalf("Err: %v", c.Err())
		}
	})
	t.Run("Close whose peer never answers", func(t *testing.T) {
		c, _ := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{CloseTimeout: 50 * time.Millisecond}})
		err := c.Close(ws.StatusNormalClosure, "")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close: %v", err)
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) || ws.IsNormalClosure(c.Err()) {
			t.Fatalf("Err: %v", c.Err())
		}
	})
	t.Run("peer breaks the protocol", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		s.SetReadLimit(4)
		c.Write(ctx, ws.MessageText, []byte("too long"))
		_, _, err := s.Read(ctx)
		if !errors.Is(err, ws.ErrMessageTooBig) || !errors.Is(s.Err(), ws.ErrMessageTooBig) || ws.IsNormalClosure(s.Err()) {
			t.Fatalf("read: %v, Err: %v", err, s.Err())
		}
		_, _, err = c.Read(ctx)
		if ws.CloseStatus(err) != ws.StatusMessageTooBig || ws.IsNormalClosure(c.Err()) {
			t.Fatalf("the sender's read: %v, Err: %v", err, c.Err())
		}
	})
	t.Run("a writer sees the peer's close code", func(t *testing.T) {
		// The receiver refuses a message; the sender reads in another
		// goroutine, and its writes, racing the close frame's arrival,
		// must fail with the receiver's 1009 and nothing else.
		for i := 0; i < 20; i++ {
			c, s := pair(t, true, nil, nil)
			s.SetReadLimit(1 << 10)
			go s.Read(ctx)
			done := c.CloseRead(ctx)
			var err error
			for n := 0; err == nil && n < 10000; n++ {
				err = c.Write(ctx, ws.MessageBinary, make([]byte, 4<<10))
			}
			<-done.Done()
			var ce *ws.ClosedError
			if !errors.As(err, &ce) || ws.CloseStatus(err) != ws.StatusMessageTooBig {
				t.Fatalf("round %d: write: %v", i, err)
			}
			if ws.CloseStatus(c.Err()) != ws.StatusMessageTooBig {
				t.Fatalf("round %d: Err: %v", i, c.Err())
			}
		}
	})
	t.Run("two Close calls at once", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		go s.Read(ctx)
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- c.Close(ws.StatusNormalClosure, "") }()
		}
		for range 2 {
			if err := <-errs; err != nil && !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Close: %v", err)
			}
		}
		if ws.CloseStatus(c.Err()) != ws.StatusNormalClosure {
			t.Fatalf("Err: %v", c.Err())
		}
	})
	t.Run("Close answered by a FIN alone", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		go func() {
			// The server vanishes instead of answering: an EOF or a
			// reset, depending on whether the close frame was read.
			time.Sleep(20 * time.Millisecond)
			s.CloseNow()
		}()
		err := c.Close(ws.StatusNormalClosure, "")
		if err == nil || ws.IsNormalClosure(err) || c.Err() == nil || ws.IsNormalClosure(c.Err()) {
			t.Fatalf("Close: %v, Err: %v", err, c.Err())
		}
	})
	t.Run("transport lost", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		c.CloseNow()
		_, _, err := s.Read(ctx)
		if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(s.Err(), io.ErrUnexpectedEOF) || ws.IsNormalClosure(s.Err()) {
			t.Fatalf("read: %v, Err: %v", err, s.Err())
		}
	})
	t.Run("keepalive times out under a pending read", func(t *testing.T) {
		// The server never reads, so never answers pings.
		c, _ := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 20 * time.Millisecond, PingTimeout: 30 * time.Millisecond}})
		_, _, err := c.Read(ctx)
		if !errors.Is(err, ws.ErrKeepaliveTimeout) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read: %v", err)
		}
		if !errors.Is(c.Err(), ws.ErrKeepaliveTimeout) || ws.IsNormalClosure(c.Err()) {
			t.Fatalf("Err: %v", c.Err())
		}
		if err := c.Write(ctx, ws.MessageText, []byte("x")); !errors.Is(err, ws.ErrKeepaliveTimeout) {
			t.Fatalf("write: %v", err)
		}
	})
	t.Run("Shutdown's deadline", func(t *testing.T) {
		got := make(chan *ws.Conn, 1)
		srv := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
			got <- c
			<-c.Done()
		}}
		hs := httptest.NewServer(srv)
		defer hs.Close()
		// The client never reads, so never answers the server's close
		// frame.
		c, _, err := ws.Dial(ctx, hs.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		s := <-got
		sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown: %v", err)
		}
		if !errors.Is(s.Err(), context.DeadlineExceeded) || ws.IsNormalClosure(s.Err()) {
			t.Fatalf("Err: %v", s.Err())
		}
	})
	t.Run("IsNormalClosure", func(t *testing.T) {
		for err, want := range map[error]bool{
			nil:                                      false,
			ws.ErrLocalClose:                         true,
			&ws.ClosedError{Cause: ws.ErrLocalClose}: true,
			ws.CloseError{Code: 1000}:                true,
			ws.CloseError{Code: 1001}:                true,
			ws.CloseError{Code: 1005}:                true,
			ws.CloseError{Code: 1011}:                false,
			ws.CloseError{Code: 4000}:                false,
			ws.ErrKeepaliveTimeout:                   false,
			io.ErrUnexpectedEOF:                      false,
		} {
			if got := ws.IsNormalClosure(err); got != want {
				t.Errorf("IsNormalClosure(%v) = %v", err, got)
			}
		}
	})
}
