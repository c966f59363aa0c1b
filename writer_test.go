//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// streamServer runs a server that writes n messages, message i with
// io.Copy into a Writer from the reader mk(i) returns, and reports each
// io.Copy's (or else Close's) error on errs.
func streamServer(t *testing.T, opts *ws.AcceptOptions, mk func(i int) io.Reader, n int) (url string, errs chan error) {
	errs = make(chan error, n+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			errs <- err
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for i := range n {
			wr, err := c.Writer(ctx, ws.MessageBinary)
			if err != nil {
				errs <- err
				return
			}
			_, cerr := io.Copy(wr, mk(i))
			if err := wr.Close(); cerr == nil {
				cerr = err
			}
			errs <- cerr
		}
		// Wait for the peer to go away.
		c.Read(ctx)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, errs
}

// TestWriterReadFromFrames checks what io.Copy into a Writer puts on the
// wire: the bytes of the reader, whatever sizes its reads return, in as
// few frames as the 64 KiB buffer allows, the last with FIN and no empty
// final frame.
func TestWriterReadFromFrames(t *testing.T) {
	data := make([]byte, 200<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cases := []struct {
		name   string
		size   int
		wrap   func(io.Reader) io.Reader
		frames int
	}{
		{"empty", 0, nil, 1},
		{"16B", 16, nil, 1},
		{"64KiB", 64 << 10, nil, 1},
		{"64KiB one byte at a time", 64 << 10, iotest.OneByteReader, 1},
		{"64KiB+1", 64<<10 + 1, nil, 1},
		{"66KiB", 66 << 10, nil, 2},
		{"200KiB half reads", 200 << 10, iotest.HalfReader, 4},
		{"200KiB data with EOF", 200 << 10, iotest.DataErrReader, 4},
	}
	url, errs := streamServer(t, nil, func(i int) io.Reader {
		// A bytes.Reader would copy with its WriteTo, through Write.
		var r io.Reader = struct{ io.Reader }{bytes.NewReader(data[:cases[i].size])}
		if cases[i].wrap != nil {
			r = cases[i].wrap(r)
		}
		return r
	}, len(cases))
	p := dialRaw(t, url)
	for _, tc := range cases {
		var got []byte
		frames := 0
		for {
			h, payload, err := p.readFrame()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if frames == 0 && h.Opcode != frame.OpBinary || frames > 0 && h.Opcode != frame.OpContinuation {
				t.Fatalf("%s: frame %d has opcode %d", tc.name, frames, h.Opcode)
			}
			frames++
			got = append(got, payload...)
			if h.Fin {
				break
			}
		}
		if !bytes.Equal(got, data[:tc.size]) {
			t.Errorf("%s: %d bytes came, not the %d written", tc.name, len(got), tc.size)
		}
		if frames != tc.frames {
			t.Errorf("%s: %d frames, want %d", tc.name, frames, tc.frames)
		}
		if err := waitErr(t, errs); err != nil {
			t.Errorf("%s: io.Copy: %v", tc.name, err)
		}
	}
}

// TestWriterReadFromError checks that a reader's error comes back from
// io.Copy and that Close still ends the message with what was read.
func TestWriterReadFromError(t *testing.T) {
	boom := errors.New("boom")
	url, errs := streamServer(t, nil, func(int) io.Reader {
		return io.MultiReader(bytes.NewReader([]byte("partial")), iotest.ErrReader(boom))
	}, 1)
	p := dialRaw(t, url)
	h, payload, err := p.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if !h.Fin || string(payload) != "partial" {
		t.Errorf("got fin %v payload %q, want the bytes read before the error in one final frame", h.Fin, payload)
	}
	if err := waitErr(t, errs); !errors.Is(err, boom) {
		t.Errorf("io.Copy returned %v, want the reader's error", err)
	}
}

// TestWriterReadFromStream writes messages with io.Copy into a client's
// Writer, to a server that echoes them by io.Copy from its Reader into its
// Writer (echoHandler), plain and compressed, and checks every byte.
func TestWriterReadFromStream(t *testing.T) {
	for _, mode := range []*ws.CompressionOptions{nil, {}} {
		opts := ws.Options{Compression: mode}
		srv := httptest.NewServer(&echoHandler{opts: &ws.AcceptOptions{Options: opts}})
		ctx := context.Background()
		c, _, err := ws.Dial(ctx, "ws"+srv.URL[len("http"):], &ws.DialOptions{Options: opts})
		if err != nil {
			srv.Close()
			t.Fatal(err)
		}
		for _, size := range []int{0, 1, 1000, 64 << 10, 64<<10 + 1, 300 << 10} {
			msg := make([]byte, size)
			for i := range msg {
				msg[i] = byte(i % 251)
			}
			wr, err := c.Writer(ctx, ws.MessageBinary)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(wr, iotest.HalfReader(bytes.NewReader(msg))); err != nil {
				t.Fatal(err)
			}
			if err := wr.Close(); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Errorf("mode %v, %d bytes: the echo differs", mode, size)
			}
		}
		c.Close(ws.StatusNormalClosure, "")
		srv.Close()
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
