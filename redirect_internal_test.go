//go:build !js

package ws

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestDialTargets(t *testing.T) {
	for _, c := range []struct {
		url, unixSocket              string
		uri, host, socket, addr, err string
		secure                       bool
	}{
		{url: "ws://example.com/chat?x=1#frag", uri: "/chat?x=1", host: "example.com", addr: "example.com:80"},
		{url: "https://example.com", uri: "/", host: "example.com", addr: "example.com:443", secure: true},
		{url: "wss://[::1]:8443/", uri: "/", host: "[::1]:8443", addr: "[::1]:8443", secure: true},
		{url: "ws://[::1]/", uri: "/", host: "[::1]", addr: "[::1]:80"},
		{url: "ws+unix:/run/app.sock:/chat?room=1", uri: "/chat?room=1", host: "localhost", socket: "/run/app.sock"},
		{url: "ws+unix:///run/app.sock:/chat", uri: "/chat", host: "localhost", socket: "/run/app.sock"},
		{url: "ws+unix:/run/app.sock", uri: "/", host: "localhost", socket: "/run/app.sock"},
		{url: "ws+unix:/run/app.sock:chat", uri: "/chat", host: "localhost", socket: "/run/app.sock"},
		{url: "ws+unix://app.example/run/app.sock:/x", uri: "/x", host: "app.example", socket: "/run/app.sock"},
		{url: "ws+unix:/run/my%20app.sock:/a%20b", uri: "/a%20b", host: "localhost", socket: "/run/my app.sock"},
		{url: "wss+unix:/run/app.sock:/x", uri: "/x", host: "localhost", socket: "/run/app.sock", secure: true},
		{url: "ws://example.com/x", unixSocket: "/tmp/s", uri: "/x", host: "example.com", socket: "/tmp/s", addr: "example.com:80"},
		{url: "ws+unix:", err: "no socket path"},
		{url: "ws+unix::/x", err: "no socket path"},
		{url: "ws:///x", err: "no host"},
		{url: "ftp://example.com/", err: "unsupported URL scheme"},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := newTarget(u, c.unixSocket)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got := tg.u.RequestURI(); got != c.uri || tg.u.Host != c.host || tg.socket != c.socket || tg.addr != c.addr || tg.secure != c.secure {
			t.Errorf("%s: uri %q host %q socket %q addr %q secure %v", c.url, got, tg.u.Host, tg.socket, tg.addr, tg.secure)
		}
	}
}

func TestDialRedirectTargets(t *testing.T) {
	for _, c := range []struct{ from, loc, want string }{
		{"ws://a.example/x/y", "z", "ws://a.example/x/z"},
		{"ws://a.example/x/y", "/z?q=1", "ws://a.example/z?q=1"},
		{"wss://a.example/x", "//b.example/z", "wss://b.example/z"},
		{"ws://a.example/x", "https://b.example/z", "wss://b.example/z"},
		{"wss://a.example/x", "http://b.example:81/z", "ws://b.example:81/z"},
		{"ws+unix:/s.sock:/x/y", "z", "unix /s.sock ws://localhost/x/z"},
		{"ws+unix:/s.sock:/x", "ws+unix:/t.sock:/z", "unix /t.sock ws://localhost/z"},
		{"ws+unix:/s.sock:/x", "ws://b.example/z", "ws://b.example/z"},
	} {
		u, _ := url.Parse(c.from)
		from, err := newTarget(u, "")
		if err != nil {
			t.Fatal(err)
		}
		to, err := from.redirect(c.loc, "")
		if err != nil {
			t.Errorf("%s -> %s: %v", c.from, c.loc, err)
			continue
		}
		got := to.u.String()
		if to.socket != "" {
			got = "unix " + to.socket + " " + got
		}
		if got != c.want {
			t.Errorf("%s -> %s: got %s, want %s", c.from, c.loc, got, c.want)
		}
	}
}

// TestDialCredentialsRule checks which hops keep Authorization, Cookie,
// Host and the URL's credentials.
func TestDialCredentialsRule(t *testing.T) {
	target := func(raw string) *target {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := newTarget(u, "")
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	for _, c := range []struct {
		name        string
		hops        []string
		creds, host bool // at the last hop
	}{
		{"same host", []string{"ws://u:p@a.example/x", "ws://u:p@a.example/y"}, true, true},
		{"default port written out", []string{"ws://u:p@a.example/x", "ws://u:p@A.example:80/y"}, true, true},
		{"ws to wss", []string{"ws://u:p@a.example/x", "wss://u:p@a.example/y"}, true, true},
		{"wss to ws", []string{"wss://u:p@a.example/x", "ws://u:p@a.example/y"}, false, true},
		{"another port", []string{"ws://u:p@a.example/x", "ws://u:p@a.example:81/y"}, false, false},
		{"another host", []string{"ws://u:p@a.example/x", "ws://u:p@b.example/x"}, false, false},
		{"back to the first host", []string{"ws://u:p@a.example/x", "ws://b.example/x", "ws://a.example/y"}, false, false},
		{"same socket", []string{"ws+unix:/s.sock:/x", "ws+unix://u:p@localhost/s.sock:/y"}, true, true},
		{"another socket", []string{"ws+unix:/s.sock:/x", "ws+unix://u:p@localhost/t.sock:/y"}, false, false},
		{"socket to TCP", []string{"ws+unix:/s.sock:/x", "ws://u:p@localhost/y"}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := &DialOptions{
				Header: http.Header{"Authorization": {"Bearer t"}, "cookie": {"c=1"}, "X-Other": {"o"}},
				Host:   "virtual.example",
			}
			first := target(c.hops[0])
			st := &dialState{opts: opts, orig: first, header: opts.Header.Clone(), host: opts.Host}
			var hr *hopRequest
			for _, h := range c.hops {
				tg := first
				if h != c.hops[0] {
					tg = target(h)
				}
				hr = st.request(tg)
			}
			if got := len(headerValues(hr.header, "Cookie")) > 0; got != c.creds {
				t.Errorf("Cookie %v, want %v", got, c.creds)
			}
			if got := len(headerValues(hr.header, "Authorization")) > 0; got != c.creds {
				t.Errorf("Authorization %v, want %v", got, c.creds)
			}
			if got := hr.host == "virtual.example"; got != c.host {
				t.Errorf("Host %q, want override %v", hr.host, c.host)
			}
			if hr.header.Get("X-Other") != "o" {
				t.Error("other header dropped")
			}
			if opts.Header.Get("Authorization") == "" || len(headerValues(opts.Header, "Cookie")) == 0 {
				t.Error("the caller's Header was changed")
			}
		})
	}
	// URL credentials alone: sent as Basic unless dropped.
	opts := &DialOptions{}
	first := target("ws://u:p@a.example/x")
	st := &dialState{opts: opts, orig: first}
	if got := st.request(first).header.Get("Authorization"); got != "Basic dTpw" {
		t.Errorf("first hop Authorization %q", got)
	}
	if got := st.request(target("wss://u:p@a.example/y")).header.Get("Authorization"); got != "Basic dTpw" {
		t.Errorf("upgraded hop Authorization %q", got)
	}
	if got := st.request(target("ws://u:p@b.example/y")).header.Get("Authorization"); got != "" {
		t.Errorf("cross-host hop Authorization %q", got)
	}
}
