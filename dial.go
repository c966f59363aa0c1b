package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
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

// DialOptions are the settings of Dial. The zero value dials with no
// extra headers, no subprotocol, the default TLS settings and protocol
// version 13, through the proxy the environment names (see Proxy), with
// no cookie jar, and follows no redirects.
type DialOptions struct {
	Options

	// Header is added to the handshake request, for example an
	// Authorization or Cookie header. Headers the handshake sets itself
	// are left out of it. A Cookie header here is merged with the cookies
	// of Jar. When Dial follows a redirect away from the URL's host, its
	// Authorization and Cookie headers are dropped; see MaxRedirects.
	Header http.Header
	// Host, if set, is sent as the Host header instead of the URL's host.
	// It is dropped when a redirect leads to another host.
	Host string
	// Origin, if set, is sent as the Origin header, or as
	// Sec-WebSocket-Origin when ProtocolVersion is 8.
	Origin string
	// Subprotocols are offered to the server, in order of preference.
	Subprotocols []string
	// TLSConfig is used with the server of wss and https URLs; nil means
	// the defaults, with the server name taken from the URL. It is not
	// used with an https proxy: see ProxyTLSConfig.
	TLSConfig *tls.Config
	// NetDial, if set, opens the transport instead of a net.Dialer. It
	// gets "tcp" and the host and port of the server, or of the proxy
	// when there is one, or "unix" and the path of a Unix socket. A
	// NetDial that tunnels by itself, through a SOCKS5 proxy say, or
	// reaches an in-memory server, is why setting it turns off the
	// default proxy of the environment: see Proxy.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the URL of the proxy for a request, or nil to
	// connect directly. The request it gets has the URL Dial connects to
	// with ws mapped to http and wss to https, so that with
	// http.ProxyFromEnvironment HTTP_PROXY applies to ws URLs,
	// HTTPS_PROXY to wss URLs, and NO_PROXY exempts hosts.
	//
	// Dial asks the proxy for a tunnel to the server with an HTTP CONNECT
	// request; user and password in the proxy URL
	// ("http://user:pass@proxy:3128") go to it as Basic
	// Proxy-Authorization. An "https" proxy URL means TLS to the proxy
	// itself (see ProxyTLSConfig), and for a wss URL another TLS session
	// with the server inside the tunnel. If the proxy answers CONNECT with
	// anything but 200, Dial fails with an error that names the status
	// and returns the proxy's response (its Request.Method is CONNECT)
	// with up to 16 KiB of its body. Other proxy schemes fail the dial;
	// for a SOCKS5 proxy, use NetDial.
	//
	// nil means http.ProxyFromEnvironment, except when NetDial is set:
	// then nil means no proxy, so the route NetDial chooses is not
	// wrapped in another; set Proxy too to have NetDial dial the proxy.
	// NoProxy turns proxies off whatever the environment says. Note that
	// http.ProxyFromEnvironment reads the environment once per process
	// and never proxies requests to localhost or loopback addresses. Unix
	// sockets (UnixSocket, ws+unix URLs) are never proxied.
	Proxy func(*http.Request) (*url.URL, error)
	// ProxyTLSConfig is used for the TLS connection to an https proxy;
	// nil means the defaults, with the server name taken from the proxy
	// URL. TLSConfig is not used with the proxy, so client certificates
	// meant for the server are not shown to it.
	ProxyTLSConfig *tls.Config
	// ProxyConnectHeader is added to the CONNECT request sent to a proxy.
	// Credentials in the proxy URL replace a Proxy-Authorization in it.
	ProxyConnectHeader http.Header

	// MaxRedirects is how many redirects Dial follows; 0, the default,
	// means none: a redirect fails the dial like any other status but
	// 101, with a *HandshakeError and the response.
	//
	// Dial follows 301, 302, 303, 307 and 308 responses that have a
	// Location header, with a new GET request each time. A relative
	// Location is resolved against the current URL (for a ws+unix URL, it
	// keeps the socket); http and https locations become ws and wss. A
	// ws+unix location is refused unless the URL given to Dial was one
	// too, so that a remote server cannot send the client into a local
	// socket. After MaxRedirects redirects, the next fails the dial with
	// ErrTooManyRedirects and that response. ctx bounds all the hops
	// together. The response Dial returns is the last one.
	//
	// Credentials follow the rule of curl and browsers: when a hop goes to
	// another host than the URL given to Dial (another host name or port;
	// for ws+unix URLs, another socket), or to ws when that URL was wss,
	// Dial drops the Authorization and Cookie headers of Header, from then
	// on, and does not send the user and password of the hop's URL. A hop
	// to another host also drops Host, from then on. Going from ws to wss
	// on the same host keeps everything. Cookies from Jar are not
	// affected: the jar picks them for each hop's URL. CheckRedirect may
	// put credentials back for a host it trusts.
	MaxRedirects int
	// CheckRedirect, if set, is called before each redirect that Dial
	// would follow, as http.Client calls its own: req is the request of
	// the next hop, with a ws or wss URL and the headers Dial will send
	// (less those the handshake sets itself), and via the requests made so
	// far, oldest first. It may change req's Header and Host. An error
	// stops the dial, which returns it wrapped, with the redirect response.
	CheckRedirect func(req *http.Request, via []*http.Request) error

	// UnixSocket, if set, is the path of a Unix socket that Dial connects
	// to for any ws, wss, http or https URL, instead of the URL's host,
	// which still goes in the Host header and, for wss, names the server
	// to TLS. No proxy is used.
	//
	// Without it, Dial also takes URLs that name a Unix socket: "ws+unix:/run/app.sock:/chat?room=1" connects to
	// /run/app.sock and asks for /chat?room=1 (the socket path and the
	// request path are separated by the first ':', so the socket path
	// cannot contain one; the request path defaults to "/"). The Host
	// header is "localhost" unless the URL has a host or Host is set.
	// "wss+unix:" is the same with TLS on the socket; give the server name
	// in TLSConfig if it is not "localhost".
	UnixSocket string

	// ProtocolVersion is the WebSocket version sent in
	// Sec-WebSocket-Version: 0 or 13 (the default) for RFC 6455, or 8 for
	// servers that still speak only draft HyBi-08, which also puts Origin
	// in a Sec-WebSocket-Origin header, as that draft says. The framing
	// is the same. Other values fail the dial.
	ProtocolVersion int

	// MaxResponseHeaderBytes bounds the head of the server's response to
	// the handshake (its status line and headers), and of a proxy's
	// answer to CONNECT; 0 or less means DefaultMaxResponseHeaderBytes. A longer
	// head fails the dial with an error wrapping ErrHeaderTooLarge, so a
	// server that sends header lines without end costs no more memory
	// than this.
	MaxResponseHeaderBytes int

	// Jar, if set, holds cookies: those it has for each request's URL
	// (ws mapped to http, wss to https) are sent with it, after any
	// Cookie of Header, and the Set-Cookie headers of the server's
	// responses (the 101, redirects and refusals; not a proxy's) are
	// stored in it. net/http/cookiejar provides one.
	Jar http.CookieJar
}

// maxErrorBody is how much of a failed handshake's response body Dial
// keeps for the caller.
const maxErrorBody = 16 << 10

// DefaultMaxResponseHeaderBytes is the longest response head Dial reads
// unless DialOptions.MaxResponseHeaderBytes says otherwise: 64 KiB, room
// for many cookies, where net/http's client allows 10 MB for any
// response.
const DefaultMaxResponseHeaderBytes = 64 << 10

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

// maxHead returns the bound on a response head.
func (o *DialOptions) maxHead() int {
	if o.MaxResponseHeaderBytes > 0 {
		return o.MaxResponseHeaderBytes
	}
	return DefaultMaxResponseHeaderBytes
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
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	t, err := newTarget(u, opts.UnixSocket)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
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
