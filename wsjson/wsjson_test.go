//go:build !js

package wsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/wsjson"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns the two ends of a WebSocket connection over loopback TCP:
// the server's, accepted with opts, and the client's. Both are closed, and
// the server stopped, when the test ends.
func pair(t testing.TB, opts *ws.AcceptOptions) (server, client *ws.Conn) {
	t.Helper()
	accepted := make(chan *ws.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ws.Accept(w, r, opts) // nil on an error
		accepted <- c
	}))
	t.Cleanup(srv.Close)
	client, _, err := ws.Dial(testContext(t), "ws://"+srv.Listener.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.CloseNow() })
	return server, client
}

// testContext bounds a test, so that a bug fails it rather than hangs it.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type point struct {
	X, Y  int
	Label string            `json:"label,omitempty"`
	Tags  []string          `json:"tags"`
	Meta  map[string]string `json:"meta,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	want := point{X: 1, Y: -2, Label: "héllo <&>", Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"}}
	if err := wsjson.Write(ctx, client, want); err != nil {
		t.Fatal(err)
	}
	var got point
	if err := wsjson.Read(ctx, server, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	// On the wire: one text message of exactly json.Marshal's bytes, with
	// no newline after them.
	if err := wsjson.Write(ctx, client, want); err != nil {
		t.Fatal(err)
	}
	typ, p, err := server.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	marshalled, _ := json.Marshal(want)
	if typ != ws.MessageText || string(p) != string(marshalled) {
		t.Fatalf("got %v %q, want text %q", typ, p, marshalled)
	}
}

func TestStream(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	// Sizes around the pooled buffer's limit, so that a buffer that kept
	// bytes of an earlier value between writes would show.
	sizes := []int{0, 10, 100 << 10, 3, 70 << 10, 1, 64 << 10, 5}
	written := make(chan error, 1)
	go func() {
		for i, n := range sizes {
			if err := wsjson.Write(ctx, client, point{X: i, Label: strings.Repeat("x", n)}); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	for i, n := range sizes {
		var got point
		if err := wsjson.Read(ctx, server, &got); err != nil {
			t.Fatal(err)
		}
		if got.X != i || len(got.Label) != n || strings.Trim(got.Label, "x") != "" {
			t.Fatalf("value %d: got X=%d and a label of %d bytes, want %d", i, got.X, len(got.Label), n)
		}
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
}

func TestReadBinary(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	if err := client.Write(ctx, ws.MessageBinary, []byte(` {"X":7} `)); err != nil {
		t.Fatal(err)
	}
	var got point
	if err := wsjson.Read(ctx, server, &got); err != nil {
		t.Fatal(err)
	}
	if got.X != 7 {
		t.Fatalf("got %+v", got)
	}
}

// TestReadBadMessage sends messages that are not one JSON value; each
// read fails, and the message after it is read whole.
func TestReadBadMessage(t *testing.T) {
	pad := strings.Repeat(" ", 200<<10) // more than the decoder buffers
	tests := []struct {
		name, msg string
		is        error // what the error must match, if anything
	}{
		{"second value", `{"a":1} {"b":2}`, nil},
		{"garbage", `{"a":1}x`, nil},
		{"closing bracket", `{"a":1}]`, nil},
		{"numbers", `1 2`, nil},
		{"cut string after", `{"a":1} "abc`, io.ErrUnexpectedEOF},
		{"garbage after a long pad", `{"a":1}` + pad + "x", nil},
		{"syntax error before a long rest", `{"a":x` + pad + `}`, nil},
		{"cut value", `{"a":`, io.ErrUnexpectedEOF},
		{"empty", ``, io.ErrUnexpectedEOF},
		{"white space only", " \n\t\r ", io.ErrUnexpectedEOF},
		{"wrong type", `{"a":"one"}`, nil},
	}
	ctx := testContext(t)
	server, client := pair(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, msg := range []string{tt.msg, `{"a":2}`} {
				if err := client.Write(ctx, ws.MessageText, []byte(msg)); err != nil {
					t.Fatal(err)
				}
			}
			var v struct{ A int }
			err := wsjson.Read(ctx, server, &v)
			if err == nil || !strings.HasPrefix(err.Error(), "wsjson: read: ") {
				t.Fatalf("got %v, want a wsjson error", err)
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("%v matches io.EOF, which would read as the end of the stream", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v does not match %v", err, tt.is)
			}
			v.A = 0
			if err := wsjson.Read(ctx, server, &v); err != nil || v.A != 2 {
				t.Fatalf("the next message: got %+v, %v; want {A:2}", v, err)
			}
		})
	}
}

func TestReadTrailingSpace(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	if err := client.Write(ctx, ws.MessageText, []byte("\n {\"a\":1}\r\n\t ")); err != nil {
		t.Fatal(err)
	}
	var v struct{ A int }
	if err := wsjson.Read(ctx, server, &v); err != nil || v.A != 1 {
		t.Fatalf("got %+v, %v", v, err)
	}
}

func TestReadTooBig(t *testing.T) {
	ctx := testContext(t)
	// A short CloseTimeout cuts the second the server lingers after failing
	// the connection.
	server, client := pair(t, &ws.AcceptOptions{Options: ws.Options{ReadLimit: 100, CloseTimeout: 100 * time.Millisecond}})
	small := strings.Repeat("x", 50)
	for _, s := range []string{small, strings.Repeat("x", 1000)} {
		if err := wsjson.Write(ctx, client, s); err != nil {
			t.Fatal(err)
		}
	}
	var got string
	if err := wsjson.Read(ctx, server, &got); err != nil || got != small {
		t.Fatalf("under the limit: got %q, %v", got, err)
	}
	err := wsjson.Read(ctx, server, &got)
	if !errors.Is(err, ws.ErrMessageTooBig) || !strings.HasPrefix(err.Error(), "wsjson: read: ") {
		t.Fatalf("over the limit: got %v, want a wsjson error matching ws.ErrMessageTooBig", err)
	}
	// The server closed with 1009.
	if _, _, err := client.Read(ctx); ws.CloseStatus(err) != ws.StatusMessageTooBig {
		t.Fatalf("client: got %v, want a close with %v", err, ws.StatusMessageTooBig)
	}
}

func TestReadPeerClose(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	closed := make(chan error, 1)
	go func() { closed <- client.Close(4000, "bye") }()
	var v any
	err := wsjson.Read(ctx, server, &v)
	var ce ws.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Fatalf("got %v, want a CloseError with 4000 bye", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

func TestReadContext(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)

	// Waiting for a message.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	var v struct{ A string }
	if err := wsjson.Read(short, server, &v); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting: got %v, want context.DeadlineExceeded", err)
	}

	// In the middle of a message, its first frame come and the rest not
	// yet: within the value, and after it, in white space.
	for _, part := range [][2]string{
		{`{"A":"` + strings.Repeat("y", 100<<10), `"}`},
		{`{"A":"z"}` + strings.Repeat(" ", 100<<10), ` `},
	} {
		w, err := client.Writer(ctx, ws.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, part[0]); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := wsjson.Read(short, server, &v); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("mid-message: got %v, want context.DeadlineExceeded", err)
		}
		if _, err := io.WriteString(w, part[1]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// The connection goes on with the next message.
	if err := wsjson.Write(ctx, client, struct{ A string }{"next"}); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Read(ctx, server, &v); err != nil || v.A != "next" {
		t.Fatalf("after the timeouts: got %+v, %v", v, err)
	}
}

func TestWriteContext(t *testing.T) {
	ctx := testContext(t)
	_, client := pair(t, nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err := wsjson.Write(cancelled, client, 1)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "wsjson: write: ") {
		t.Fatalf("got %v, want a wsjson error matching context.Canceled", err)
	}
}

// TestWriteEncodeError writes values encoding/json cannot encode, some
// only after part of the value; nothing may reach the peer.
func TestWriteEncodeError(t *testing.T) {
	ctx := testContext(t)
	server, client := pair(t, nil)
	bad := []any{
		make(chan int),
		func() {},
		struct {
			A int
			B chan int
		}{A: 1},
		[]any{1, 2, complex(1, 2)},
	}
	for _, v := range bad {
		err := wsjson.Write(ctx, client, v)
		var unsupported *json.UnsupportedTypeError
		if !errors.As(err, &unsupported) || !strings.HasPrefix(err.Error(), "wsjson: write: ") {
			t.Errorf("%T: got %v, want a wsjson error wrapping *json.UnsupportedTypeError", v, err)
		}
	}
	if err := wsjson.Write(ctx, client, "ok"); err != nil {
		t.Fatal(err)
	}
	typ, p, err := server.Read(ctx)
	if err != nil || typ != ws.MessageText || string(p) != `"ok"` {
		t.Fatalf("first message: got %v %q, %v; want text %q", typ, p, err, `"ok"`)
	}
}

var benchValue = point{X: 1, Y: 2, Label: "benchmark", Tags: []string{"a", "b", "c"}}

// drained returns the client end of a pair whose server end a goroutine
// reads and discards, until the benchmark ends.
func drained(b *testing.B) *ws.Conn {
	server, client := pair(b, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, r, err := server.Reader(context.Background())
			if err != nil {
				return
			}
			io.Copy(io.Discard, r)
		}
	}()
	b.Cleanup(func() { server.CloseNow(); <-done })
	return client
}

// fed returns the server end of a pair whose client end a goroutine
// writes msg to, again and again, until the benchmark ends.
func fed(b *testing.B, msg []byte) *ws.Conn {
	server, client := pair(b, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for client.Write(context.Background(), ws.MessageText, msg) == nil {
		}
	}()
	b.Cleanup(func() { client.CloseNow(); <-done })
	return server
}

// BenchmarkWrite compares Write with json.Marshal and Conn.Write, and with
// Conn.Write of bytes encoded once. The allocations include those of the
// goroutine that reads the messages.
func BenchmarkWrite(b *testing.B) {
	msg, _ := json.Marshal(&benchValue)
	writes := map[string]func(ctx context.Context, c *ws.Conn) error{
		"wsjson": func(ctx context.Context, c *ws.Conn) error { return wsjson.Write(ctx, c, &benchValue) },
		"Marshal": func(ctx context.Context, c *ws.Conn) error {
			p, err := json.Marshal(&benchValue)
			if err != nil {
				return err
			}
			return c.Write(ctx, ws.MessageText, p)
		},
		"encoded": func(ctx context.Context, c *ws.Conn) error { return c.Write(ctx, ws.MessageText, msg) },
	}
	for _, name := range []string{"wsjson", "Marshal", "encoded"} {
		b.Run(name, func(b *testing.B) {
			c := drained(b)
			ctx := testContext(b)
			b.ReportAllocs()
			for b.Loop() {
				if err := writes[name](ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead compares Read with Conn.Read and json.Unmarshal, and with
// reading the message without decoding it. The allocations include those
// of the goroutine that writes the messages.
func BenchmarkRead(b *testing.B) {
	msg, _ := json.Marshal(&benchValue)
	reads := map[string]func(ctx context.Context, c *ws.Conn, v *point) error{
		"wsjson": func(ctx context.Context, c *ws.Conn, v *point) error { return wsjson.Read(ctx, c, v) },
		"Unmarshal": func(ctx context.Context, c *ws.Conn, v *point) error {
			_, p, err := c.Read(ctx)
			if err != nil {
				return err
			}
			return json.Unmarshal(p, v)
		},
		"undecoded": func(ctx context.Context, c *ws.Conn, v *point) error {
			_, r, err := c.Reader(ctx)
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			return err
		},
	}
	for _, name := range []string{"wsjson", "Unmarshal", "undecoded"} {
		b.Run(name, func(b *testing.B) {
			c := fed(b, msg)
			ctx := testContext(b)
			b.ReportAllocs()
			var v point
			for b.Loop() {
				if err := reads[name](ctx, c, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
