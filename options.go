package ws

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults of the connection's limits and timeouts.
const (
	// DefaultReadLimit is the longest message a connection accepts unless
	// SetReadLimit says otherwise: 32 MiB. It is large enough for any
	// message a browser or an API sends in practice, so users rarely meet
	// it, and small enough that 1,000 connections each in the middle of
	// a Read of the largest message hold 32 GiB at the very worst. Read
	// grows its buffer only as bytes arrive, so a header that merely claims
	// a large length allocates no more than 64 KiB.
	DefaultReadLimit = 32 << 20
	// DefaultMaxEmptyFragments is how many frames without payload one
	// message may span unless Options.MaxFragments says otherwise: 1,024.
	// Frames that carry bytes are not counted, since the read limit bounds
	// them (for a compressed message, by its compressed bytes), so a
	// message of any size in frames of any size passes; a stream of empty
	// continuation frames, which costs its sender nothing and never reaches
	// the limit, is cut off with StatusMessageTooBig.
	DefaultMaxEmptyFragments = 1 << 10
	// DefaultCloseTimeout bounds the close handshake: how long Close waits
	// to send its close frame and then for the peer's, before it closes
	// the transport anyway.
	DefaultCloseTimeout = 5 * time.Second
)

// Options are the settings of a connection that Accept and Dial share.
// The zero value gives the defaults.
type Options struct {
	// ReadLimit is the longest message the connection accepts, in bytes;
	// 0 means DefaultReadLimit and a negative value means no limit.
	// SetReadLimit changes it later.
	ReadLimit int64
	// MaxFragments, if positive, is how many frames one message may span.
	// 0 counts only frames without payload, at most
	// DefaultMaxEmptyFragments of them; a negative value sets no limit.
	MaxFragments int
	// SkipUTF8Validation turns off the check that text messages and close
	// reasons are UTF-8. Use it only where the peer is trusted.
	SkipUTF8Validation bool
	// DisableAutoPong stops the connection from answering pings. The
	// OnPing hook then decides what to do.
	DisableAutoPong bool
	// OnPing, if set, is called with the payload of each ping the peer
	// sends, from the goroutine that is reading, before the pong goes out.
	// The payload is only valid during the call. That goroutine may be one
	// of the connection's own (Messages, CloseRead, keepalive), which Close
	// and CloseNow wait for: so OnPing must not call them, but may start a
	// goroutine that does.
	OnPing func(payload []byte)
	// OnPong, if set, is called with the payload of each pong, from the
	// goroutine that is reading, as OnPing is, with the same rule. The
	// payload is only valid during the call.
	OnPong func(payload []byte)
	// CloseTimeout bounds each half of the close handshake; 0 means
	// DefaultCloseTimeout.
	CloseTimeout time.Duration

	// PingInterval, if positive, turns on keepalive: a goroutine sends a
	// ping whenever the interval passes, and closes the connection with
	// ErrKeepaliveTimeout when the pong does not arrive within
	// PingTimeout. So a peer that vanished without a word (a half-open
	// connection) is found within PingInterval + PingTimeout. The pong is
	// read as Ping describes: by the goroutine that reads, or by keepalive
	// itself while no one reads.
	PingInterval time.Duration
	// PingTimeout is how long keepalive waits for a pong; 0 means
	// PingInterval.
	PingTimeout time.Duration

	// SendQueue is how many messages Send may hold before it blocks (and
	// TrySend fails); 0 means DefaultSendQueue.
	SendQueue int

	// Compression, if not nil, negotiates permessage-deflate (RFC 7692)
	// with these settings; nil, the default, negotiates none. Compression
	// costs CPU, and memory with context takeover: turn it on where
	// bandwidth is dearer than both.
	Compression *CompressionOptions
}

// DefaultSendQueue is how many messages the send queue holds by default.
const DefaultSendQueue = 64

// AcceptOptions are the settings of Accept. The zero value accepts
// same-origin requests with no subprotocol.
type AcceptOptions struct {
	Options

	// Subprotocols lists the subprotocols the server speaks, in its order
	// of preference. Accept picks the first one the client offered; if
	// none matches the connection has no subprotocol.
	Subprotocols []string
	// SelectSubprotocol, if set, replaces Subprotocols: it gets the
	// client's offer in the client's order and returns the choice, or ""
	// for none. A choice the client did not offer counts as none.
	SelectSubprotocol func(r *http.Request, offered []string) string

	// OriginPatterns lists the hosts, besides the request's own, whose
	// pages may open connections: path.Match patterns such as
	// "example.com" or "*.example.com", matched without regard to case
	// against the host of the Origin header (with its port, if the
	// pattern has one). By default only same-origin requests, and requests
	// without an Origin header (which come from programs, not browsers),
	// are accepted.
	OriginPatterns []string
	// InsecureSkipOriginCheck accepts any origin. It lets any web page a
	// user visits talk to the server with the user's cookies; use it only
	// for servers that authenticate by other means.
	InsecureSkipOriginCheck bool

	// ResponseHeader is added to the 101 response, for example to set a
	// cookie. Headers the handshake sets itself are left out of it.
	ResponseHeader http.Header

	// Refuse, if set, writes the response to a request that Accept
	// refuses, in place of Accept's short plain-text one: a page of the
	// site's own, say, or a log line first. err has the status Accept
	// would send and the reason. Accept has already set on w the headers
	// that the refusal needs (Allow for 405, Upgrade and Connection or
	// Sec-WebSocket-Version for 426); Refuse must write a status. A
	// Server also calls it for the 503 it answers while it shuts down.
	Refuse func(w http.ResponseWriter, r *http.Request, err *HandshakeError)
}

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
	// far, oldest first. It may change req's Header and Host (an empty
	// Host means the URL's). An error
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

	// HTTP2, if set, opens the WebSocket over HTTP/2, as RFC 8441 says:
	// Dial sends an extended CONNECT request through this RoundTripper,
	// which must be able to send the :protocol pseudo-header, and the
	// WebSocket is one stream of an HTTP/2 connection that the
	// RoundTripper keeps and may share with other Dials and requests.
	// Package github.com/seed-d6ba7b20/ws/h2 provides one; net/http's
	// Transport cannot send the request. The RoundTripper makes the
	// connection, so NetDial, TLSConfig, Proxy, UnixSocket and
	// ProtocolVersion 8 do not apply, and no redirect is followed.
	//
	// A RoundTripper reports a server that does not take WebSockets over
	// HTTP/2 (it did not send SETTINGS_ENABLE_CONNECT_PROTOCOL, or it
	// speaks only HTTP/1.1) with an error matching errors.ErrUnsupported.
	// Dial returns that error, or dials over HTTP/1.1 instead when
	// HTTP2Fallback is set.
	HTTP2 http.RoundTripper
	// HTTP2Fallback makes Dial open the WebSocket over HTTP/1.1 when the
	// server does not take it over HTTP/2 (see HTTP2).
	HTTP2Fallback bool
}

// DefaultMaxResponseHeaderBytes is the longest response head Dial reads
// unless DialOptions.MaxResponseHeaderBytes says otherwise: 64 KiB, room
// for many cookies, where net/http's client allows 10 MB for any
// response.
const DefaultMaxResponseHeaderBytes = 64 << 10
