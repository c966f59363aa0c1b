//go:build js

package ws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Dial opens a WebSocket connection to rawURL (ws, wss, http or https)
// with the host's WebSocket object: the browser's, or Node's (Node 20
// with --experimental-websocket, 22 and later by default), under
// GOOS=js GOARCH=wasm. The connection has the methods it has elsewhere,
// with the differences the host imposes:
//
//   - The host runs the handshake, so the *http.Response is always nil
//     and a refused handshake fails with an error that cannot say why.
//     The host offers permessage-deflate itself when it supports it, and
//     Extensions says what it agreed.
//   - The host sets the headers, the origin, TLS and any proxy, follows no
//     redirects and answers pings itself. So of the DialOptions only
//     Subprotocols, ReadLimit, MaxFragments, SkipUTF8Validation,
//     CloseTimeout and SendQueue may be set; any other field set fails
//     the dial with an error wrapping errors.ErrUnsupported, as do Ping
//     and Pong later.
//   - Close takes only StatusNormalClosure, StatusNoStatusReceived and
//     3000 to 4999: the codes a browser may send.
//   - The host delivers messages whether or not Go reads them. They wait
//     in a queue of at most the read limit in bytes (DefaultReadLimit
//     when there is none); a message over the limit, or one that would
//     take a queue that holds messages past it, ends the connection with
//     an error wrapping ErrMessageTooBig, once the messages before it
//     have been read. The host's socket is then closed without a code,
//     since a browser may not send 1009.
//   - Buffered adds the host's bufferedAmount to the send queue's bytes.
//
// Accept and Server do not exist under js/wasm: a page cannot listen.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	if err := opts.hostCheck(); err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, nil, fmt.Errorf("ws: dial: unsupported scheme %q in the host's WebSocket", u.Scheme)
	}
	limit := int64(DefaultReadLimit)
	if opts.ReadLimit > 0 {
		limit = opts.ReadLimit
	}
	h, err := newHostConn(u.String(), opts.Subprotocols, int(min(limit, 1<<40)))
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-h.opened:
	case <-ctx.Done():
		h.Close()
		h.release()
		return nil, nil, fmt.Errorf("ws: dial: %w", ctxError(ctx))
	}
	h.mu.Lock()
	code := h.peerCode
	h.mu.Unlock()
	if code != 0 {
		// The close event came first: the host could not connect or the
		// server refused the handshake; the host does not say which.
		h.Close()
		h.release()
		return nil, nil, &HandshakeError{Reason: fmt.Sprintf("the host's WebSocket closed with code %d before it opened", code)}
	}
	c := newConn(h, true, &opts.Options, nil)
	c.subprotocol = h.ws.Get("protocol").String()
	c.extensions = h.ws.Get("extensions").String()
	return c, nil, nil
}

// hostCheck refuses the options that the host's WebSocket cannot honour.
func (o *DialOptions) hostCheck() error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Header", len(o.Header) > 0},
		{"Host", o.Host != ""},
		{"Origin", o.Origin != ""},
		{"TLSConfig", o.TLSConfig != nil},
		{"NetDial", o.NetDial != nil},
		{"Proxy", o.Proxy != nil},
		{"ProxyTLSConfig", o.ProxyTLSConfig != nil},
		{"ProxyConnectHeader", len(o.ProxyConnectHeader) > 0},
		{"MaxRedirects", o.MaxRedirects != 0},
		{"CheckRedirect", o.CheckRedirect != nil},
		{"UnixSocket", o.UnixSocket != ""},
		{"ProtocolVersion", o.ProtocolVersion != 0 && o.ProtocolVersion != 13},
		{"MaxResponseHeaderBytes", o.MaxResponseHeaderBytes != 0},
		{"Jar", o.Jar != nil},
		{"HTTP2", o.HTTP2 != nil}, // the host picks the HTTP version itself
		{"HTTP2Fallback", o.HTTP2Fallback},
		{"Compression", o.Compression != nil},
		{"DisableAutoPong", o.DisableAutoPong},
		{"OnPing", o.OnPing != nil},
		{"OnPong", o.OnPong != nil},
		{"PingInterval", o.PingInterval != 0},
		{"PingTimeout", o.PingTimeout != 0},
	} {
		if f.set {
			return fmt.Errorf("ws: dial: DialOptions.%s is not available on the host's WebSocket: %w", f.name, errors.ErrUnsupported)
		}
	}
	return nil
}
