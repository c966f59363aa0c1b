//go:build !js

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "", "", out)
	})
	want := `^connected to ws://(127\.0\.0\.1:\d+)/ through http://127\.0\.0\.1:\d+
received: hello through the proxy
the proxy opened tunnels to \[127\.0\.0\.1:\d+\]
$`
	m := regexp.MustCompile(want).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("got:\n%s", out)
	}
	// The tunnel went to the echo server.
	if !strings.Contains(out, "["+m[1]+"]") {
		t.Fatalf("the tunnel did not go to %s:\n%s", m[1], out)
	}
}

// TestThroughProxy runs the test's own echo server and proxy, as with the
// -url and -proxy flags, and checks the proxy carried the connection.
func TestThroughProxy(t *testing.T) {
	echoSrv := exampletest.Server(t, http.HandlerFunc(echo))
	proxy := &connectProxy{}
	proxySrv := exampletest.Server(t, proxy)

	wsURL := "ws://" + echoSrv.Listener.Addr().String() + "/"
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, wsURL, proxySrv.URL, out)
	})
	if !strings.Contains(out, "received: hello through the proxy\n") {
		t.Fatalf("got:\n%s", out)
	}
	if got, want := proxy.Tunnels(), []string{echoSrv.Listener.Addr().String()}; !slices.Equal(got, want) {
		t.Fatalf("tunnels %v, want %v", got, want)
	}
}

// TestRefused checks that Dial reports the proxy's refusal, with its
// response, when the server is not there: the dial goes to a port where
// nothing listens.
func TestRefused(t *testing.T) {
	proxySrv := exampletest.Server(t, &connectProxy{})
	nowhere := httptest.NewServer(http.NotFoundHandler())
	addr := nowhere.Listener.Addr().String()
	nowhere.Close()
	_, resp, err := ws.Dial(exampletest.Context(t), "ws://"+addr+"/", &ws.DialOptions{
		Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(proxySrv.URL) },
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %v %v, want 502 from the proxy", resp, err)
	}
	resp.Body.Close()
}
