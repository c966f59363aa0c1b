//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
)

// NoProxy is a DialOptions.Proxy that connects directly, whatever the
// environment says.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// chooseProxy returns the proxy for t, or nil.
func chooseProxy(ctx context.Context, t *target, opts *DialOptions) (*url.URL, error) {
	if t.socket != "" {
		return nil, nil
	}
	proxy := opts.Proxy
	if proxy == nil {
		if opts.NetDial != nil {
			return nil, nil
		}
		proxy = http.ProxyFromEnvironment
	}
	u := t.httpURL()
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       u.Host,
	}
	return proxy(req.WithContext(ctx))
}

// tlsClient runs a TLS handshake on nc with a copy of cfg, for HTTP/1.1.
func tlsClient(ctx context.Context, nc net.Conn, cfg *tls.Config, serverName string) (*tls.Conn, error) {
	cfg = cfg.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// dialProxy connects to the proxy pu and asks it for a tunnel to addr.
func dialProxy(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), pu *url.URL, addr string, opts *DialOptions) (net.Conn, *http.Response, error) {
	port := "80"
	switch pu.Scheme {
	case "http":
	case "https":
		port = "443"
	default:
		return nil, nil, fmt.Errorf("ws: dial: unsupported proxy scheme %q (use NetDial for SOCKS5)", pu.Scheme)
	}
	if pu.Host == "" {
		return nil, nil, fmt.Errorf("ws: dial: proxy URL %q has no host", pu.Redacted())
	}
	paddr := pu.Host
	if pu.Port() == "" {
		paddr = net.JoinHostPort(pu.Hostname(), port)
	}
	nc, err := dial(ctx, "tcp", paddr)
	if err != nil {
		return nil, nil, dialError(ctx, "proxy "+paddr+": ", err)
	}
	if pu.Scheme == "https" {
		tc, err := tlsClient(ctx, nc, opts.ProxyTLSConfig, pu.Hostname())
		if err != nil {
			nc.Close()
			return nil, nil, dialError(ctx, "TLS handshake with proxy "+paddr+": ", err)
		}
		nc = tc
	}
	tunnel, resp, err := connectTunnel(ctx, nc, pu, addr, opts.ProxyConnectHeader, opts.maxHead())
	if err != nil {
		nc.Close()
		return nil, resp, fmt.Errorf("ws: dial: proxy %s: %w", paddr, err)
	}
	return tunnel, nil, nil
}

// connectTunnel sends CONNECT addr on nc, a connection to the proxy pu,
// and reads the answer.
func connectTunnel(ctx context.Context, nc net.Conn, pu *url.URL, addr string, header http.Header, maxHead int) (net.Conn, *http.Response, error) {
	stop := handshakeDeadline(ctx, nc)
	defer stop()
	wrap := func(err error) error {
		if cerr := ctxError(ctx); cerr != nil && !errors.Is(err, ErrHeaderTooLarge) {
			return cerr
		}
		return err
	}

	b := appendStrings(nil, "CONNECT ", addr, " HTTP/1.1\r\nHost: ", addr, "\r\n")
	if pu.User == nil {
		b = appendHeaderLines(b, header, "Host")
	} else {
		b = appendHeaderLines(b, header, "Host", "Proxy-Authorization")
		pw, _ := pu.User.Password()
		b = appendStrings(b, "Proxy-Authorization: Basic ", basicAuth(pu.User.Username(), pw), "\r\n")
	}
	b = append(b, "\r\n"...)
	if _, err := nc.Write(b); err != nil {
		return nil, nil, wrap(err)
	}

	lim := &headLimiter{r: nc}
	br := bufio.NewReaderSize(lim, 4096)
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	resp, err := readResponseHead(br, lim, req, maxHead)
	if err != nil {
		return nil, nil, wrap(err)
	}
	if resp.StatusCode != http.StatusOK {
		// Read a body whose end is known; of one that lasts until the
		// proxy closes, only what has arrived.
		body := io.Reader(resp.Body)
		if resp.ContentLength < 0 && !slices.Contains(resp.TransferEncoding, "chunked") {
			body = io.LimitReader(body, int64(br.Buffered()))
		}
		keepErrorBody(ctx, nc, resp, body)
		return nil, resp, fmt.Errorf("CONNECT %s: %s", addr, resp.Status)
	}
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		return &prefixConn{Conn: nc, buf: bytes.Clone(early)}, nil, nil
	}
	return nc, nil, nil
}
