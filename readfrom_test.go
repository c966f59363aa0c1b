package ws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"

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
