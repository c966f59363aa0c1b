package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// DialOptions are the settings of Dial. The zero value dials with no
// extra headers, no subprotocol and the default TLS settings.
type DialOptions struct {
	Options

	// Header is added to the handshake request, for example an
	// Authorization or Cookie header. Headers the handshake sets itself
	// are left out of it.
	Header http.Header
	// Host, if set, is sent as the Host header instead of the URL's host.
	Host string
	// Origin, if set, is sent as the Origin header.
	Origin string
	// Subprotocols are offered to the server, in order of preference.
	Subprotocols []string
	// TLSConfig is used for wss and https URLs; nil means the defaults,
	// with the server name taken from the URL.
	TLSConfig *tls.Config
	// NetDial, if set, opens the transport instead of a net.Dialer. It
	// gets "tcp" and the URL's host and port.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// maxErrorBody is how much of a failed handshake's response body Dial
// keeps for the caller.
const maxErrorBody = 16 << 10

// Dial opens a WebSocket connection to rawURL (ws, wss, http or https)
// and completes the client side of the opening handshake (RFC 6455 section
// 4.1). ctx bounds the whole dial and handshake; it does not apply to the
// connection afterwards.
//
// Dial returns the server's response on success, with an empty body, so
// the caller can read its headers (Set-Cookie, say). When the server
// answers with anything but a valid 101 response, Dial returns that
// response too, with up to 16 KiB of its body readable, and a
// *HandshakeError; for example a 401 page to show the user.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	secure := false
	switch u.Scheme {
	case "ws", "http":
	case "wss", "https":
		secure = true
	default:
		return nil, nil, fmt.Errorf("ws: dial: unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, nil, fmt.Errorf("ws: dial: URL %q has no host", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}

	dial := opts.NetDial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	if secure {
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("ws: dial: TLS handshake: %w", err)
		}
		nc = tc
	}
	c, resp, err := clientHandshake(ctx, nc, u, opts)
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// clientHandshake sends the handshake request on nc and checks the reply.
func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	stop := interrupt(ctx, nc, bothDeadlines)
	defer stop()
	wrap := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("ws: dial: %w", ctx.Err())
		}
		return fmt.Errorf("ws: dial: %w", err)
	}

	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])

	host := opts.Host
	if host == "" {
		host = u.Host
	}
	var b strings.Builder
	b.WriteString("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + sanitizeHeaderValue(host) + "\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n")
	if opts.Origin != "" {
		b.WriteString("Origin: " + sanitizeHeaderValue(opts.Origin) + "\r\n")
	}
	if len(opts.Subprotocols) > 0 {
		b.WriteString("Sec-WebSocket-Protocol: " + sanitizeHeaderValue(strings.Join(opts.Subprotocols, ", ")) + "\r\n")
	}
	for k, vs := range opts.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol":
			continue
		}
		for _, v := range vs {
			b.WriteString(k + ": " + sanitizeHeaderValue(v) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		return nil, nil, wrap(err)
	}

	br := bufio.NewReaderSize(nc, 4096)
	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, wrap(err)
	}
	if err := checkResponse(resp, key, opts); err != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, err
	}
	resp.Body = http.NoBody
	var early []byte
	if n := br.Buffered(); n > 0 {
		early, _ = br.Peek(n)
	}
	c := newConn(nc, true, &opts.Options, early)
	c.subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	return c, resp, nil
}

// checkResponse checks the server's answer to the handshake request.
func checkResponse(resp *http.Response, key string, opts *DialOptions) error {
	fail := func(reason string) error {
		return &HandshakeError{Status: resp.StatusCode, Reason: reason}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail("expected status 101 Switching Protocols")
	}
	if !handshake.HasToken(resp.Header, "Upgrade", "websocket") {
		return fail("response lacks Upgrade: websocket")
	}
	if !handshake.HasToken(resp.Header, "Connection", "upgrade") {
		return fail("response lacks Connection: Upgrade")
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != handshake.AcceptKey(key) {
		return fail("wrong Sec-WebSocket-Accept")
	}
	if vs := resp.Header.Values("Sec-WebSocket-Protocol"); len(vs) > 0 {
		ok := len(vs) == 1
		if ok {
			ok = false
			for _, s := range opts.Subprotocols {
				if s == vs[0] {
					ok = true
				}
			}
		}
		if !ok {
			return fail(fmt.Sprintf("server chose subprotocol %q, which was not offered", strings.Join(vs, ", ")))
		}
	}
	if len(resp.Header.Values("Sec-WebSocket-Extensions")) > 0 {
		return fail("server chose an extension that was not offered")
	}
	return nil
}
