//go:build !js

package ws

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// Accept completes the server side of the opening handshake (RFC 6455
// section 4.2) and returns the connection. Call it from an http.Handler;
// the handler may check the request first, and answer it with any status
// instead of calling Accept.
//
// Accept checks the request: method GET, "Upgrade: websocket" and
// "Connection: upgrade" as tokens, a Sec-WebSocket-Key of 16 bytes in
// base64, and Sec-WebSocket-Version 13 or 8. A request that fails gets a
// 4xx response with a short plain-text reason (426 with the supported
// versions for a version it does not speak), and Accept returns a
// *HandshakeError. Then it checks the origin and picks a subprotocol as
// opts say, takes over the connection from net/http, and sends the 101
// response.
//
// The handler's request context ends when the handler returns, so use a
// context of the connection's own for its reads and writes if the handler
// hands the connection to another goroutine.
//
// Accept also takes a WebSocket over HTTP/2 (RFC 8441): an extended
// CONNECT request with the :protocol pseudo-header "websocket", which
// net/http passes to handlers when the program starts with
// GODEBUG=http2xconnect=1 in its environment (it reads the variable once,
// at start-up). The checks and the negotiation are those of HTTP/1.1,
// without the key, and the answer is 200 (a request that is not a valid
// extended CONNECT gets 405, 400 or 501). The connection then runs on the
// request's stream; frames, limits and closing are those of RFC 6455,
// and closing the connection ends the stream, not the TCP connection,
// which other requests and WebSockets share. The stream ends when the
// handler returns, so over HTTP/2 the handler must not return while the
// connection is in use, and must close it first: a ws.Server does both
// for you. Its transport reads the stream on a goroutine of its own, from
// the first read to the end, and writes on one while a write is in flight,
// because a stream's deadlines would reset it where a context must only
// interrupt.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if err := opts.Compression.check(); err != nil {
		reject(w, r, opts, http.StatusInternalServerError, "the server's compression settings are invalid")
		return nil, err
	}
	if r.ProtoMajor == 2 {
		return acceptHTTP2(w, r, opts)
	}
	if err := checkRequest(w, r, opts); err != nil {
		return nil, err
	}
	sub := chooseSubprotocol(r, opts)
	params, extHeader, compress := negotiateServer(r.Header, &opts.Options)

	// Bytes the client sent right behind its request are its first frames.
	var hj net.Conn
	var early []byte
	var brw *bufio.ReadWriter
	if cw, ok := w.(*connWriter); ok {
		hj, early = cw.takeOver()
	} else {
		var err error
		hj, brw, err = http.NewResponseController(w).Hijack()
		if err != nil {
			reject(w, r, opts, http.StatusInternalServerError, "the connection cannot be taken over")
			return nil, fmt.Errorf("ws: accept: hijack: %w", err)
		}
		if n := brw.Reader.Buffered(); n > 0 {
			early, _ = brw.Reader.Peek(n)
		}
	}
	// net/http and Serve set deadlines; the connection sets its own.
	hj.SetDeadline(time.Time{})
	if _, err := hj.Write(switchingProtocols(r, opts, sub, extHeader)); err != nil {
		hj.Close()
		return nil, fmt.Errorf("ws: accept: writing the response: %w", err)
	}
	c := newConn(hj, false, &opts.Options, early)
	if brw != nil {
		releaseBuffers(brw)
	}
	c.subprotocol = sub
	if compress {
		if err := c.setCompression(params, opts.Compression); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("ws: accept: %w", err)
		}
	}
	return c, nil
}

// switchingProtocols builds the 101 response. It is a function of its own,
// like releaseBuffers, so that its locals never sit on the stack beside
// the connection's first read: the stack of the goroutine that runs
// Accept stays small, and an idle connection small with it.
//
//go:noinline
func switchingProtocols(r *http.Request, opts *AcceptOptions, sub, extHeader string) []byte {
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
	const protocol, extensions = "Sec-WebSocket-Protocol: ", "Sec-WebSocket-Extensions: "
	// One allocation, of the size the response needs without
	// ResponseHeader.
	n := len(head) + handshake.AcceptKeyLen + 4
	if sub != "" {
		n += len(protocol) + len(sub) + 2
	}
	if extHeader != "" {
		n += len(extensions) + len(extHeader) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = handshake.AppendAcceptKey(b, r.Header.Get(handshake.HeaderKey))
	b = append(b, "\r\n"...)
	if sub != "" {
		b = appendStrings(b, protocol, sub, "\r\n")
	}
	if extHeader != "" {
		b = appendStrings(b, extensions, extHeader, "\r\n")
	}
	b = appendHeaderLines(b, opts.ResponseHeader, "Upgrade", "Connection", handshake.HeaderAccept, handshake.HeaderProtocol, handshake.HeaderExtensions)
	return append(b, "\r\n"...)
}

// releaseBuffers gives up net/http's 4 KiB read and write buffers of a
// hijacked connection. net/http keeps both alive for as long as the
// handler runs, and nothing uses either after the hijack, so both are
// reset to their zero values, which hold no buffer: an idle connection
// does not hold 8 KiB it never uses.
//
//go:noinline
func releaseBuffers(brw *bufio.ReadWriter) {
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}
}

// checkRequest validates the handshake request and answers a bad one.
func checkRequest(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) error {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return refuse(w, r, opts, refusedMethod, http.StatusMethodNotAllowed, "a WebSocket handshake must use GET")
	}
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return refuse(w, r, opts, refusedUpgrade, http.StatusHTTPVersionNotSupported, "a WebSocket handshake needs HTTP/1.1")
	}
	if !handshake.HasToken(r.Header, "Connection", "upgrade") || !handshake.HasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return refuse(w, r, opts, refusedUpgrade, http.StatusUpgradeRequired, "this endpoint speaks WebSocket only: expected Connection: Upgrade and Upgrade: websocket")
	}
	switch r.Header.Get(handshake.HeaderVersion) {
	case "13", "8":
	default:
		w.Header().Set("Sec-WebSocket-Version", "13, 8")
		return refuse(w, r, opts, refusedVersion, http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version: this server speaks 13 and 8")
	}
	if keys := r.Header.Values(handshake.HeaderKey); len(keys) != 1 || !handshake.ValidKey(keys[0]) {
		return refuse(w, r, opts, refusedKey, http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64")
	}
	if err := checkOrigin(r, opts); err != nil {
		return refuse(w, r, opts, refusedOrigin, http.StatusForbidden, err.Error())
	}
	return nil
}

// reject answers the request with status and a plain-text reason, or as
// opts.Refuse says. The reason a Server counts the refusal under follows
// from the status (see refusalOf); refuse names it.
func reject(w http.ResponseWriter, r *http.Request, opts *AcceptOptions, status int, reason string) error {
	return refuse(w, r, opts, refusalOf(r, status), status, reason)
}

// refuse is reject with the reason a Server counts the refusal under.
func refuse(w http.ResponseWriter, r *http.Request, opts *AcceptOptions, why refusal, status int, reason string) error {
	err := &HandshakeError{Status: status, Reason: reason, refusal: why}
	if opts.Refuse != nil {
		opts.Refuse(w, r, err)
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, reason)
	return err
}

// checkOrigin applies the origin rules of AcceptOptions.
func checkOrigin(r *http.Request, opts *AcceptOptions) error {
	if opts.InsecureSkipOriginCheck {
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get(handshake.HeaderOrigin8) // version 8
	}
	if origin == "" || sameOrigin(origin, r.Host) {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("invalid Origin %q", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, pat := range opts.OriginPatterns {
		target := u.Hostname()
		if strings.Contains(pat, ":") {
			target = u.Host
		}
		if ok, err := path.Match(strings.ToLower(pat), strings.ToLower(target)); ok && err == nil {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not allowed", origin)
}

// sameOrigin reports whether origin is "http://" or "https://" followed
// by host, compared without regard to case, where host is a name of
// letters, digits, dots and hyphens with an optional port of digits: the
// common case of a page served by the same host, decided without parsing
// a URL. A false answer means only that checkOrigin must parse; for every
// origin it accepts, url.Parse gives a Host equal to host but for ASCII
// case.
func sameOrigin(origin, host string) bool {
	rest, ok := strings.CutPrefix(origin, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(origin, "http://"); !ok {
			return false
		}
	}
	if len(rest) != len(host) || !strings.EqualFold(rest, host) {
		return false
	}
	name, port, hasPort := strings.Cut(rest, ":")
	if name == "" || hasPort && port == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// chooseSubprotocol picks the subprotocol as opts say.
func chooseSubprotocol(r *http.Request, opts *AcceptOptions) string {
	offered := handshake.Tokens(r.Header, handshake.HeaderProtocol)
	if len(offered) == 0 {
		return ""
	}
	if opts.SelectSubprotocol != nil {
		if choice := opts.SelectSubprotocol(r, offered); slices.Contains(offered, choice) {
			return choice
		}
		return ""
	}
	for _, s := range opts.Subprotocols {
		if slices.Contains(offered, s) {
			return s
		}
	}
	return ""
}

// appendHeaderLines appends the lines of h to b, but not those of the
// headers in skip (canonical names), which the handshake sets itself.
func appendHeaderLines(b []byte, h http.Header, skip ...string) []byte {
	for k, vs := range h {
		if slices.Contains(skip, http.CanonicalHeaderKey(k)) {
			continue
		}
		for _, v := range vs {
			b = appendStrings(b, k, ": ", sanitizeHeaderValue(v), "\r\n")
		}
	}
	return b
}

// appendStrings appends each of ss to b.
func appendStrings(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = append(b, s...)
	}
	return b
}

// sanitizeHeaderValue drops line breaks, which would split the header.
func sanitizeHeaderValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}
