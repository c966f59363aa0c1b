//go:build !js

package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// target is where one hop of a dial goes.
type target struct {
	// u is the URL of the request, with scheme ws or wss whatever the
	// URL given said; for a ws+unix URL, its host is the Host header
	// ("localhost" by default) and its path the request path.
	u      *url.URL
	secure bool
	ipc    bool   // a ws+unix or wss+unix URL
	socket string // the Unix socket to dial, or ""
	addr   string // the host and port to dial when socket is ""
}

// newTarget checks u and works out where it leads. unixSocket is
// DialOptions.UnixSocket.
func newTarget(u *url.URL, unixSocket string) (*target, error) {
	t := &target{}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
	case "wss", "https":
		t.secure = true
	case "ws+unix":
		t.ipc = true
	case "wss+unix":
		t.ipc, t.secure = true, true
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	lu := *u
	lu.Scheme = "ws"
	if t.secure {
		lu.Scheme = "wss"
	}
	lu.Fragment, lu.RawFragment = "", ""
	if t.ipc {
		p := u.Path
		if u.Opaque != "" {
			var err error
			if p, err = url.PathUnescape(u.Opaque); err != nil {
				return nil, err
			}
		}
		socket, reqPath, _ := strings.Cut(p, ":")
		if socket == "" {
			return nil, fmt.Errorf("URL %q has no socket path", u.Redacted())
		}
		if !strings.HasPrefix(reqPath, "/") {
			reqPath = "/" + reqPath
		}
		lu.Opaque, lu.Path, lu.RawPath = "", reqPath, ""
		if lu.Host == "" {
			lu.Host = "localhost"
		}
		t.socket = socket
		t.u = &lu
		return t, nil
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", u.Redacted())
	}
	t.u = &lu
	t.socket = unixSocket
	t.addr = u.Host
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), t.defaultPort())
	}
	return t, nil
}

func (t *target) defaultPort() string {
	if t.secure {
		return "443"
	}
	return "80"
}

// hostKey names the host for the rule that drops credentials on a
// redirect: the socket of a ws+unix URL, or else the host name and the
// port unless it is the default one of the scheme, so that ws://h and
// wss://h are the same host.
func (t *target) hostKey() string {
	if t.ipc {
		return "unix:" + t.socket
	}
	k := strings.ToLower(t.u.Hostname())
	if p := t.u.Port(); p != "" && p != t.defaultPort() {
		k += ":" + p
	}
	return k
}

// httpURL is t.u with scheme http or https, as proxy functions and
// cookie jars expect.
func (t *target) httpURL() *url.URL {
	u := *t.u
	u.User = nil
	u.Scheme = "http"
	if t.secure {
		u.Scheme = "https"
	}
	return &u
}

// redirect returns the target of a redirect to loc.
func (t *target) redirect(loc, unixSocket string) (*target, error) {
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	if ref.Scheme == "" && ref.Host == "" && t.ipc {
		// A relative location on the same socket.
		n := *t
		n.u = t.u.ResolveReference(ref)
		n.u.Fragment, n.u.RawFragment = "", ""
		return &n, nil
	}
	if ref.IsAbs() {
		return newTarget(ref, unixSocket)
	}
	return newTarget(t.u.ResolveReference(ref), unixSocket)
}

// redirectLocation returns where the server redirects to, if Dial is to
// follow.
func redirectLocation(resp *http.Response, err error, opts *DialOptions) (string, bool) {
	var he *HandshakeError
	if opts.MaxRedirects <= 0 || resp == nil || !errors.As(err, &he) {
		return "", false
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return "", false
	}
	loc := resp.Header.Get("Location")
	return loc, loc != ""
}

// request applies the credentials rule of DialOptions.MaxRedirects and
// the cookie jar to the request for t.
func (s *dialState) request(t *target) *hopRequest {
	user := t.u.User
	if t != s.orig {
		cross := t.hostKey() != s.orig.hostKey()
		if cross || (s.orig.secure && !t.secure) {
			delHeader(s.header, "Authorization")
			delHeader(s.header, "Cookie")
			user = nil
			if cross {
				s.host = ""
			}
		}
	}
	h := s.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if user != nil && len(headerValues(h, "Authorization")) == 0 {
		pw, _ := user.Password()
		h.Set("Authorization", "Basic "+basicAuth(user.Username(), pw))
	}
	if s.opts.Jar != nil {
		if cs := s.opts.Jar.Cookies(t.httpURL()); len(cs) > 0 {
			parts := headerValues(h, "Cookie")
			delHeader(h, "Cookie")
			for _, c := range cs {
				parts = append(parts, c.String())
			}
			h.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	host := s.host
	if host == "" {
		host = t.u.Host
	}
	return &hopRequest{uri: t.u.RequestURI(), host: host, header: h}
}

// headerValues returns the values of the header name, whatever the case
// of its keys in h.
func headerValues(h http.Header, name string) []string {
	var vs []string
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == name {
			vs = append(vs, v...)
		}
	}
	return vs
}

// delHeader deletes the header name, whatever the case of its keys in h.
func delHeader(h http.Header, name string) {
	for k := range h {
		if http.CanonicalHeaderKey(k) == name {
			delete(h, k)
		}
	}
}

// httpRequest is r as the request CheckRedirect sees, for target t.
func (r *hopRequest) httpRequest(ctx context.Context, t *target) *http.Request {
	u := *t.u
	return (&http.Request{
		Method:     http.MethodGet,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     r.header,
		Host:       r.host,
	}).WithContext(ctx)
}
