package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, "", "", &out); err != nil {
		t.Fatal(err)
	}
	want := `^connected to ws://(127\.0\.0\.1:\d+)/ through http://127\.0\.0\.1:\d+
received: hello through the proxy
the proxy opened tunnels to \[127\.0\.0\.1:\d+\]
$`
	m := regexp.MustCompile(want).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("got:\n%s", out.String())
	}
	// The tunnel went to the echo server.
	if !strings.Contains(out.String(), "["+m[1]+"]") {
		t.Fatalf("the tunnel did not go to %s:\n%s", m[1], out.String())
	}
}

// TestThroughProxy runs the test's own echo server and proxy, as with the
// -url and -proxy flags, and checks the proxy carried the connection.
func TestThroughProxy(t *testing.T) {
	echoSrv := httptest.NewServer(http.HandlerFunc(echo))
	defer echoSrv.Close()
	proxy := &connectProxy{}
	proxySrv := httptest.NewServer(proxy)
	defer proxySrv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	wsURL := "ws://" + echoSrv.Listener.Addr().String() + "/"
	if err := run(ctx, wsURL, proxySrv.URL, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "received: hello through the proxy\n") {
		t.Fatalf("got:\n%s", out.String())
	}
	if got, want := proxy.Tunnels(), []string{echoSrv.Listener.Addr().String()}; !slices.Equal(got, want) {
		t.Fatalf("tunnels %v, want %v", got, want)
	}
}

// TestRefused checks that Dial reports the proxy's refusal, with its
// response, when the server is not there: the dial goes to a port where
// nothing listens.
func TestRefused(t *testing.T) {
	proxySrv := httptest.NewServer(&connectProxy{})
	defer proxySrv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nowhere := httptest.NewServer(http.NotFoundHandler())
	addr := nowhere.Listener.Addr().String()
	nowhere.Close()
	_, resp, err := ws.Dial(ctx, "ws://"+addr+"/", &ws.DialOptions{
		Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(proxySrv.URL) },
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %v %v, want 502 from the proxy", resp, err)
	}
	resp.Body.Close()
}
