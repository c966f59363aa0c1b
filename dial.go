//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// maxErrorBody is how much of a failed handshake's response body Dial
// keeps for the caller.
const maxErrorBody = 16 << 10

// errHeadLimit is what a headLimiter returns at its limit.
var errHeadLimit = errors.New("response head limit reached")

// headLimiter is the reader under a handshake's bufio.Reader: while the
// response head is read it lets at most n bytes through, and then any
// number (n < 0).
type headLimiter struct {
	r io.Reader
	n int
}

func (l *headLimiter) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errHeadLimit
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

// readResponseHead reads the response to req through br, which reads
// from lim, with lim bounding the head to max bytes; the body and any
// bytes after it are not bounded.
func readResponseHead(br *bufio.Reader, lim *headLimiter, req *http.Request, max int) (*http.Response, error) {
	lim.n = max
	resp, err := http.ReadResponse(br, req)
	if err != nil && lim.n == 0 {
		err = fmt.Errorf("%w (over %d bytes)", ErrHeaderTooLarge, max)
	}
	lim.n = -1
	return resp, err
}

// Dial opens a WebSocket connection to rawURL and completes the client
// side of the opening handshake (RFC 6455 section 4.1). The URL's scheme
// is ws, wss, http or https, or ws+unix or wss+unix for a Unix socket (see
// DialOptions.UnixSocket). A user and password in the URL are sent as
// Basic Authorization, unless Header has an Authorization header. ctx
// bounds the whole dial, through any proxy and redirects, and the
// handshake; it does not apply to the connection afterwards.
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
	switch opts.ProtocolVersion {
	case 0, 13, 8:
	default:
		return nil, nil, fmt.Errorf("ws: dial: unsupported ProtocolVersion %d (13 or 8)", opts.ProtocolVersion)
	}
	if err := opts.Compression.check(); err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	t, err := newTarget(u, opts.UnixSocket)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	if opts.HTTP2 != nil {
		c, resp, err := dialHTTP2(ctx, t, opts)
		if err == nil || !opts.HTTP2Fallback || !errors.Is(err, errors.ErrUnsupported) {
			return c, resp, err
		}
	}
	st := &dialState{opts: opts, orig: t, header: opts.Header.Clone(), host: opts.Host}
	hr := st.request(t)
	var via []*http.Request
	for redirects := 0; ; redirects++ {
		c, resp, err := st.dialHop(ctx, t, hr)
		if err == nil {
			return c, resp, nil
		}
		loc, ok := redirectLocation(resp, err, opts)
		if !ok {
			return nil, resp, err
		}
		if redirects >= opts.MaxRedirects {
			return nil, resp, fmt.Errorf("ws: dial: %w: more than %d (the last to %q)", ErrTooManyRedirects, opts.MaxRedirects, loc)
		}
		next, err := t.redirect(loc, opts.UnixSocket)
		if err == nil && next.ipc && !st.orig.ipc {
			err = errors.New("only a ws+unix URL may redirect to a Unix socket")
		}
		if err != nil {
			return nil, resp, fmt.Errorf("ws: dial: redirect to %q: %w", loc, err)
		}
		nhr := st.request(next)
		if opts.CheckRedirect != nil {
			via = append(via, hr.httpRequest(ctx, t))
			req := nhr.httpRequest(ctx, next)
			if err := opts.CheckRedirect(req, via); err != nil {
				return nil, resp, fmt.Errorf("ws: dial: redirect to %q: %w", loc, err)
			}
			nhr.header, nhr.host = req.Header, req.Host
			if nhr.host == "" {
				nhr.host = next.u.Host
			}
		}
		t, hr = next, nhr
	}
}

// dialState is what carries over from one hop of a dial to the next.
type dialState struct {
	opts   *DialOptions
	orig   *target
	header http.Header // Header, less what the credentials rule dropped
	host   string      // Host, unless the rule dropped it
}

// hopRequest is what a handshake request says besides the fixed headers.
type hopRequest struct {
	uri    string
	host   string
	header http.Header
}

// dialHop connects to t and runs the handshake.
func (s *dialState) dialHop(ctx context.Context, t *target, req *hopRequest) (*Conn, *http.Response, error) {
	nc, resp, err := openTransport(ctx, t, s.opts)
	if err != nil {
		return nil, resp, err
	}
	c, resp, err := runHandshake(ctx, nc, t.u, req, s.opts)
	if resp != nil && s.opts.Jar != nil {
		if cs := resp.Cookies(); len(cs) > 0 {
			s.opts.Jar.SetCookies(t.httpURL(), cs)
		}
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// openTransport connects to t: to its Unix socket, directly, or through
// a proxy, and then with TLS for a secure target. On a proxy's refusal it
// returns the proxy's response.
func openTransport(ctx context.Context, t *target, opts *DialOptions) (net.Conn, *http.Response, error) {
	dial := opts.NetDial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var nc net.Conn
	switch pu, err := chooseProxy(ctx, t, opts); {
	case err != nil:
		return nil, nil, fmt.Errorf("ws: dial: choosing a proxy: %w", err)
	case t.socket != "":
		if nc, err = dial(ctx, "unix", t.socket); err != nil {
			return nil, nil, dialError(ctx, "", err)
		}
	case pu != nil:
		var resp *http.Response
		if nc, resp, err = dialProxy(ctx, dial, pu, t.addr, opts); err != nil {
			return nil, resp, err
		}
	default:
		if nc, err = dial(ctx, "tcp", t.addr); err != nil {
			return nil, nil, dialError(ctx, "", err)
		}
	}
	if !t.secure {
		return nc, nil, nil
	}
	tc, err := tlsClient(ctx, nc, opts.TLSConfig, t.u.Hostname())
	if err != nil {
		nc.Close()
		return nil, nil, dialError(ctx, "TLS handshake: ", err)
	}
	return tc, nil, nil
}

// dialError wraps err, and ctx's error if ctx is done: a dial cut short
// by the context reports, say, an i/o timeout, which does not match
// context.DeadlineExceeded by itself.
func dialError(ctx context.Context, what string, err error) error {
	cerr := ctxError(ctx)
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("ws: dial: %s%w (%w)", what, cerr, err)
	}
	return fmt.Errorf("ws: dial: %s%w", what, err)
}

// keepErrorBody replaces the body of a refusal with up to maxErrorBody
// bytes of it, read from body (resp.Body or a reader of it), so the
// caller can read them after the connection is gone. It does not close
// the original body, which would read the rest of it, without end for a
// server that never ends it: the caller drops the connection instead.
//
// A body still arriving gets up to errorBodyWait, within the dial's own
// deadline, so a server that stalls in the middle of it cannot hold the
// dial until the context ends, or forever without a deadline.
func keepErrorBody(ctx context.Context, nc net.Conn, resp *http.Response, body io.Reader) {
	if ctx.Err() == nil { // else the transport's deadline is past already
		wait := time.Now().Add(errorBodyWait)
		if d, ok := ctx.Deadline(); ok && d.Before(wait) {
			wait = d
		}
		nc.SetReadDeadline(wait)
	}
	data, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	resp.Body = io.NopCloser(bytes.NewReader(data))
}

// errorBodyWait bounds how long Dial waits for the body of a refusal.
const errorBodyWait = time.Second

// prefixConn is a net.Conn whose first bytes were read ahead.
type prefixConn struct {
	net.Conn
	buf []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// respReader is a 4 KiB reader of handshake responses over the limiter
// of their heads.
type respReader struct {
	lim headLimiter
	br  *bufio.Reader
}

// respReaders are the respReaders, each kept for another Dial once its
// response has been read.
var respReaders = sync.Pool{New: func() any {
	r := new(respReader)
	r.br = bufio.NewReaderSize(&r.lim, 4096)
	return r
}}

// handshakeDeadline bounds the I/O of a handshake on nc by ctx: its
// deadline is set on nc, so it holds to the kernel's timer even while a
// read is busy, and its cancellation interrupts. The returned stop
// clears both.
func handshakeDeadline(ctx context.Context, nc net.Conn) (stop func()) {
	d, ok := ctx.Deadline()
	if ok {
		nc.SetDeadline(d)
	}
	cancelled := interrupt(ctx, nc, interruptBoth)
	return func() {
		if !cancelled() && ok {
			nc.SetDeadline(time.Time{})
		}
	}
}

// runHandshake sends the handshake request hr for u on nc and checks the
// reply.
func runHandshake(ctx context.Context, nc net.Conn, u *url.URL, hr *hopRequest, opts *DialOptions) (*Conn, *http.Response, error) {
	stop := handshakeDeadline(ctx, nc)
	defer stop()
	wrap := func(err error) error {
		if cerr := ctxError(ctx); cerr != nil && !errors.Is(err, ErrHeaderTooLarge) {
			err = cerr
		}
		if ra := nc.RemoteAddr(); ra != nil && ra.String() != u.Host {
			return fmt.Errorf("ws: dial: handshake with %s (%s): %w", u.Host, ra, err)
		}
		return fmt.Errorf("ws: dial: handshake with %s: %w", u.Host, err)
	}

	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])

	version, originHeader := "13", "Origin"
	if opts.ProtocolVersion == 8 {
		version, originHeader = "8", "Sec-WebSocket-Origin"
	}
	b := make([]byte, 0, 256)
	b = appendStrings(b, "GET ", hr.uri, " HTTP/1.1\r\nHost: ", sanitizeHeaderValue(hr.host),
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ", key,
		"\r\nSec-WebSocket-Version: ", version, "\r\n")
	if opts.Origin != "" {
		b = appendStrings(b, originHeader, ": ", sanitizeHeaderValue(opts.Origin), "\r\n")
	}
	if len(opts.Subprotocols) > 0 {
		b = appendStrings(b, "Sec-WebSocket-Protocol: ", sanitizeHeaderValue(strings.Join(opts.Subprotocols, ", ")), "\r\n")
	}
	if opts.Compression != nil {
		b = appendStrings(b, "Sec-WebSocket-Extensions: ", deflate.ClientOffer(opts.Compression.clientConfig()), "\r\n")
	}
	b = appendHeaderLines(b, hr.header, "Host", "Upgrade", "Connection", handshake.HeaderKey, handshake.HeaderVersion, handshake.HeaderExtensions, handshake.HeaderProtocol)
	b = append(b, "\r\n"...)
	if _, err := nc.Write(b); err != nil {
		return nil, nil, wrap(err)
	}
	rr := respReaders.Get().(*respReader)
	rr.lim.r = nc
	br := rr.br
	br.Reset(&rr.lim)
	// Every path out has read what it needs of br: an error body is
	// copied by keepErrorBody, and early frames by newConn.
	defer func() {
		br.Reset(&rr.lim)
		rr.lim.r = nil
		respReaders.Put(rr)
	}()
	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	resp, err := readResponseHead(br, &rr.lim, req, opts.maxHead())
	if err != nil {
		return nil, nil, wrap(err)
	}
	params, compress, err := checkResponse(resp, key, opts)
	if err != nil {
		keepErrorBody(ctx, nc, resp, resp.Body)
		return nil, resp, err
	}
	resp.Body = http.NoBody
	var early []byte
	if n := br.Buffered(); n > 0 {
		early, _ = br.Peek(n)
	}
	c := newConn(nc, true, &opts.Options, early)
	c.subprotocol = resp.Header.Get(handshake.HeaderProtocol)
	if compress {
		if err := c.setCompression(params, opts.Compression); err != nil {
			c.CloseNow()
			return nil, nil, fmt.Errorf("ws: dial: %w", err)
		}
	}
	return c, resp, nil
}

// checkResponse checks the server's answer to the handshake request, and
// returns the compression it agreed to.
func checkResponse(resp *http.Response, key string, opts *DialOptions) (deflate.Params, bool, error) {
	fail := func(reason string) (deflate.Params, bool, error) {
		return deflate.Params{}, false, &HandshakeError{Status: resp.StatusCode, Reason: reason}
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
	var want [handshake.AcceptKeyLen]byte
	if got := resp.Header.Get(handshake.HeaderAccept); got != string(handshake.AppendAcceptKey(want[:0], key)) {
		return fail("wrong Sec-WebSocket-Accept")
	}
	return checkAgreement(resp, opts)
}

// checkAgreement checks the subprotocol and extensions of the server's
// answer, over HTTP/1.1 or HTTP/2, and returns the compression it agreed
// to.
func checkAgreement(resp *http.Response, opts *DialOptions) (deflate.Params, bool, error) {
	fail := func(reason string) (deflate.Params, bool, error) {
		return deflate.Params{}, false, &HandshakeError{Status: resp.StatusCode, Reason: reason}
	}
	if vs := resp.Header.Values(handshake.HeaderProtocol); len(vs) > 0 {
		if len(vs) != 1 || !slices.Contains(opts.Subprotocols, vs[0]) {
			return fail(fmt.Sprintf("server chose subprotocol %q, which was not offered", strings.Join(vs, ", ")))
		}
	}
	if len(resp.Header.Values(handshake.HeaderExtensions)) == 0 {
		return deflate.Params{}, false, nil
	}
	if opts.Compression == nil {
		return fail("server chose an extension that was not offered")
	}
	exts, ok := handshake.ParseExtensions(resp.Header)
	if !ok {
		return fail("malformed Sec-WebSocket-Extensions")
	}
	params, compress, err := deflate.Accept(exts, opts.Compression.clientConfig())
	if err != nil {
		return fail(err.Error())
	}
	return params, compress, nil
}

// maxHead returns the bound on a response head.
func (o *DialOptions) maxHead() int {
	if o.MaxResponseHeaderBytes > 0 {
		return o.MaxResponseHeaderBytes
	}
	return DefaultMaxResponseHeaderBytes
}
