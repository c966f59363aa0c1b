package ws_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

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

// TestWriterOnClosedConn checks that Writer, and a writer's Write, fail on
// a closed connection with a *ClosedError, as Write does.
func TestWriterOnClosedConn(t *testing.T) {
	ctx := context.Background()
	c, _ := pair(t, true, nil, nil)
	w, err := c.Writer(ctx, ws.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	var ce *ws.ClosedError
	if _, err := w.Write([]byte("x")); !errors.As(err, &ce) || !errors.Is(err, ws.ErrLocalClose) {
		t.Fatalf("Write after CloseNow: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close of the writer after CloseNow: nil")
	}
	if _, err := c.Writer(ctx, ws.MessageText); !errors.As(err, &ce) {
		t.Fatalf("Writer after CloseNow: %v", err)
	}
	if err := c.Write(ctx, ws.MessageText, []byte("x")); !errors.As(err, &ce) {
		t.Fatalf("Write after CloseNow: %v", err)
	}
}
