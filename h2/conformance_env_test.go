package h2_test

//lint:file-ignore SA1019 the raw peer opens its streams with x/net/http2's Transport, deprecated in favour of net/http's, which cannot send the :protocol pseudo-header in Go 1.26.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seed-d6ba7b20/ws/h2"
	"github.com/seed-d6ba7b20/ws/internal/conformance"
	"golang.org/x/net/http2"
)

// conformanceWindow is the receive window, per stream and per connection,
// of conformanceEnv's servers: larger than the suite's largest message
// (16 MiB) and its frames' headers. net/http's HTTP/2 server queues a
// stream's WINDOW_UPDATE behind the DATA frames of its response that
// wait for the client's window, so with the default of 1 MiB the raw
// server, sending a message of 16 MiB, deadlocks with a client that
// streams its echo (mode "stream") and reads on only once it has written
// it: the client waits for the server's window, and the server's window
// waits for the client's.
const conformanceWindow = 64 << 20

// conformanceEnv returns what conformance.RunHTTP2 needs: HTTP/2 servers
// over TLS on loopback, the library's client on an h2.Transport, and a
// raw client that opens its streams with golang.org/x/net/http2 directly,
// so that the raw peer shares no code with the library. Both clients
// trust the certificates of the servers that Serve starts, which RunHTTP2
// starts before it connects or dials.
func conformanceEnv(t *testing.T) conformance.HTTP2Env {
	roots := x509.NewCertPool()
	lib := h2.NewTransport(&tls.Config{RootCAs: roots})
	raw := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(lib.CloseIdleConnections)
	t.Cleanup(raw.CloseIdleConnections)
	return conformance.HTTP2Env{
		Serve: func(t testing.TB, h http.Handler) string {
			s := httptest.NewUnstartedServer(h)
			s.EnableHTTP2 = true
			s.Config.HTTP2 = &http.HTTP2Config{
				MaxReceiveBufferPerStream:     conformanceWindow,
				MaxReceiveBufferPerConnection: conformanceWindow,
			}
			s.StartTLS()
			t.Cleanup(s.Close)
			roots.AddCert(s.Certificate())
			return s.URL
		},
		Connect: func(ctx context.Context, url string, header http.Header) (*http.Response, io.WriteCloser, error) {
			pr, pw := io.Pipe()
			req, err := http.NewRequestWithContext(ctx, http.MethodConnect, url, pr)
			if err != nil {
				return nil, nil, err
			}
			req.Header = header
			resp, err := raw.RoundTrip(req)
			if err != nil {
				pw.Close()
				return nil, nil, err
			}
			return resp, pw, nil
		},
		Transport: lib,
	}
}
