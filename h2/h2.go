// Package h2 lets ws.Dial open WebSockets over HTTP/2, as RFC 8441 says:
// each WebSocket is a stream of an HTTP/2 connection, and many WebSockets
// to one server share one TCP connection, and its TLS handshake.
//
//	t := h2.NewTransport(nil)
//	defer t.CloseIdleConnections()
//	c, _, err := ws.Dial(ctx, "wss://example.com/chat", &ws.DialOptions{HTTP2: t})
//
// It is a module of its own, because it depends on golang.org/x/net/http2:
// net/http's client refuses the :protocol pseudo-header that the opening
// request needs. The server side needs no package of its own: ws.Accept
// takes the request when net/http hands it over, which it does when the
// server process starts with GODEBUG=http2xconnect=1 in its environment.
package h2

//lint:file-ignore SA1019 x/net/http2's Transport is deprecated in favour of net/http's, which cannot send the :protocol pseudo-header in Go 1.26.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/http2"
)

// Transport is an http.RoundTripper for ws.DialOptions.HTTP2. It keeps
// one HTTP/2 connection per server and opens streams on it: over TLS for
// wss and https URLs, where the server must offer "h2" in ALPN, and in
// cleartext, with prior knowledge, for ws and http URLs. A Transport is
// safe for concurrent use, and should be reused: its connections are
// what the WebSockets share.
type Transport struct {
	secure *http2.Transport
	plain  *http2.Transport
}

// NewTransport returns a Transport whose TLS connections use config (nil
// means the defaults), with its ALPN protocols set to "h2" and
// "http/1.1".
func NewTransport(config *tls.Config) *Transport {
	if config == nil {
		config = &tls.Config{}
	} else {
		config = config.Clone()
	}
	// "http/1.1" too, so that a server that speaks only HTTP/1.1
	// completes the TLS handshake and is then found out, rather than
	// failing it with an alert that says nothing of the reason.
	config.NextProtos = []string{http2.NextProtoTLS, "http/1.1"}
	return &Transport{
		secure: &http2.Transport{TLSClientConfig: config},
		plain: &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// RoundTrip sends req on a stream of the connection to req's host,
// opening the connection first if there is none. A server that does not
// take WebSockets over HTTP/2, because it speaks only HTTP/1.1 or did not
// send SETTINGS_ENABLE_CONNECT_PROTOCOL, gets an error that matches
// errors.ErrUnsupported, on which ws.Dial can fall back to HTTP/1.1 (see
// ws.DialOptions.HTTP2Fallback).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := t.secure
	if req.URL.Scheme == "http" {
		rt = t.plain
	}
	resp, err := rt.RoundTrip(req)
	if err != nil && unsupported(err) {
		return nil, fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	}
	return resp, err
}

// CloseIdleConnections closes the connections that carry no stream.
func (t *Transport) CloseIdleConnections() {
	t.secure.CloseIdleConnections()
	t.plain.CloseIdleConnections()
}

// unsupported reports whether err says that the server does not take
// extended CONNECT: x/net/http2 has no exported error for either case,
// so its messages are matched (and tested, in TestFallback).
func unsupported(err error) bool {
	s := err.Error()
	return strings.Contains(s, "extended connect not supported by peer") ||
		strings.Contains(s, "unexpected ALPN protocol")
}
