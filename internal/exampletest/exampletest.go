// Package exampletest holds what the tests of the programs in examples/
// share: a deadline, running a program's run function for its output, and
// starting a server and dialing it for the length of a test.
package exampletest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// Timeout bounds each test, as the programs' main functions bound a run.
const Timeout = 10 * time.Second

// Context returns a context that ends after Timeout, or when the test
// ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Output calls run, a program's run function, as main does, with a
// context of Context, and returns what it wrote. The test stops if run
// returns an error.
func Output(t testing.TB, run func(ctx context.Context, out io.Writer) error) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(Context(t), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// Server serves h on a free port of 127.0.0.1 until the test ends.
func Server(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Dial connects to the WebSocket server at url, and closes the connection
// when the test ends if the test has not. The test stops if the dial
// fails.
func Dial(t testing.TB, ctx context.Context, url string, opts *ws.DialOptions) *ws.Conn {
	t.Helper()
	c, _, err := ws.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}
