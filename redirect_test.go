//go:build !js

package ws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func TestDialRedirects(t *testing.T) {
	h := &dialTestHandler{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := srv.Listener.Addr().String()
	var mu sync.Mutex
	var hops []string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hops = append(hops, r.URL.RequestURI())
		mu.Unlock()
		switch r.URL.Path {
		case "/a":
			w.Header().Set("Location", "b") // relative to /a
			w.WriteHeader(http.StatusMovedPermanently)
		case "/b":
			w.Header().Set("Location", "http://"+host+"/c") // http becomes ws
			w.WriteHeader(http.StatusFound)
		case "/c":
			w.Header().Set("Location", "ws://"+host+"/d?x=1")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/d":
			h.ServeHTTP(w, r)
		case "/loop":
			time.Sleep(20 * time.Millisecond)
			http.Redirect(w, r, "/loop", http.StatusSeeOther)
		case "/nowhere":
			w.WriteHeader(http.StatusPermanentRedirect) // no Location
		case "/ftp":
			http.Redirect(w, r, "ftp://"+host+"/", http.StatusFound)
		case "/socket":
			w.Header().Set("Location", "ws+unix:/var/run/docker.sock:/info")
			w.WriteHeader(http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	url := "ws://" + host + "/a"

	t.Run("three hops", func(t *testing.T) {
		mu.Lock()
		hops = nil
		mu.Unlock()
		conn, resp, err := ws.Dial(dialCtx(t), url, &ws.DialOptions{MaxRedirects: 3})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("final status %d", resp.StatusCode)
		}
		mu.Lock()
		got := strings.Join(hops, " ")
		mu.Unlock()
		if got != "/a /b /c /d?x=1" {
			t.Fatalf("hops %q", got)
		}
		echoOnce(t, conn)
	})
	t.Run("too many", func(t *testing.T) {
		_, resp, err := ws.Dial(dialCtx(t), url, &ws.DialOptions{MaxRedirects: 2})
		if !errors.Is(err, ws.ErrTooManyRedirects) || !strings.Contains(err.Error(), "too many redirects") {
			t.Fatalf("got %v", err)
		}
		if resp == nil || resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("response %v", resp)
		}
	})
	t.Run("not followed by default", func(t *testing.T) {
		_, resp, err := ws.Dial(dialCtx(t), url, nil)
		var he *ws.HandshakeError
		if !errors.As(err, &he) || he.Status != http.StatusMovedPermanently || resp.Header.Get("Location") != "b" {
			t.Fatalf("err %v resp %v", err, resp)
		}
	})
	t.Run("context bounds all hops", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := ws.Dial(ctx, "ws://"+host+"/loop", &ws.DialOptions{MaxRedirects: 1000})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("redirect without Location", func(t *testing.T) {
		_, resp, err := ws.Dial(dialCtx(t), "ws://"+host+"/nowhere", &ws.DialOptions{MaxRedirects: 5})
		var he *ws.HandshakeError
		if !errors.As(err, &he) || resp.StatusCode != http.StatusPermanentRedirect {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a TCP URL may not redirect to a Unix socket", func(t *testing.T) {
		_, resp, err := ws.Dial(dialCtx(t), "ws://"+host+"/socket", &ws.DialOptions{MaxRedirects: 5})
		if err == nil || !strings.Contains(err.Error(), "Unix socket") || resp == nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("redirect to another scheme", func(t *testing.T) {
		_, _, err := ws.Dial(dialCtx(t), "ws://"+host+"/ftp", &ws.DialOptions{MaxRedirects: 5})
		if err == nil || !strings.Contains(err.Error(), `unsupported URL scheme "ftp"`) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestDialRedirectCredentials checks the credentials rule: a redirect to
// another host drops Authorization, Cookie, Host and URL credentials,
// unless CheckRedirect puts them back; CheckRedirect sees every hop and
// can stop the dial.
func TestDialRedirectCredentials(t *testing.T) {
	hb := &dialTestHandler{}
	b := httptest.NewServer(hb)
	defer b.Close()
	_, bPort, _ := strings.Cut(b.Listener.Addr().String(), ":")
	ha := &dialTestHandler{}
	var mu sync.Mutex
	var seenAuth []string
	auths := func() []string {
		mu.Lock()
		defer mu.Unlock()
		s := seenAuth
		seenAuth = nil
		return s
	}
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seenAuth = append(seenAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/cross":
			// Another host name and port for the same machine.
			http.Redirect(w, r, "ws://localhost:"+bPort+"/final", http.StatusFound)
		default:
			ha.ServeHTTP(w, r)
		}
	}))
	defer a.Close()
	aAddr := a.Listener.Addr().String()

	header := func() http.Header {
		return http.Header{"Authorization": {"Bearer token"}, "Cookie": {"c=1"}, "X-Other": {"kept"}}
	}
	check := func(t *testing.T, r *http.Request, creds bool, host string) {
		t.Helper()
		if creds != (r.Header.Get("Authorization") != "") || creds != (r.Header.Get("Cookie") != "") {
			t.Fatalf("credentials %v expected, got Authorization %q Cookie %q", creds, r.Header.Get("Authorization"), r.Header.Get("Cookie"))
		}
		if r.Header.Get("X-Other") != "kept" {
			t.Fatalf("other header lost: %v", r.Header)
		}
		if r.Host != host {
			t.Fatalf("Host %q, want %q", r.Host, host)
		}
	}

	t.Run("same host keeps them", func(t *testing.T) {
		conn, _, err := ws.Dial(dialCtx(t), "ws://"+aAddr+"/same", &ws.DialOptions{
			MaxRedirects: 1, Header: header(), Host: "virtual.example",
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		check(t, ha.last(t), true, "virtual.example")
	})
	t.Run("another host drops them", func(t *testing.T) {
		conn, _, err := ws.Dial(dialCtx(t), "ws://"+aAddr+"/cross", &ws.DialOptions{
			MaxRedirects: 1, Header: header(), Host: "virtual.example",
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		check(t, hb.last(t), false, "localhost:"+bPort)
	})
	t.Run("CheckRedirect puts them back", func(t *testing.T) {
		var hops []string
		conn, _, err := ws.Dial(dialCtx(t), "ws://"+aAddr+"/cross", &ws.DialOptions{
			MaxRedirects: 1, Header: header(), Host: "virtual.example",
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				for _, r := range via {
					hops = append(hops, r.URL.String())
				}
				hops = append(hops, req.URL.String())
				if req.Header.Get("Authorization") != "" {
					return errors.New("the credentials rule did not apply before CheckRedirect")
				}
				req.Header.Set("Authorization", via[0].Header.Get("Authorization"))
				req.Header.Set("Cookie", via[0].Header.Get("Cookie"))
				req.Host = via[0].Host
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		check(t, hb.last(t), true, "virtual.example")
		want := []string{"ws://" + aAddr + "/cross", "ws://localhost:" + bPort + "/final"}
		if !slices.Equal(hops, want) {
			t.Fatalf("CheckRedirect saw %q, want %q", hops, want)
		}
	})
	t.Run("CheckRedirect stops the dial", func(t *testing.T) {
		stop := errors.New("not there")
		conn, resp, err := ws.Dial(dialCtx(t), "ws://"+aAddr+"/cross", &ws.DialOptions{
			MaxRedirects: 1,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				return stop
			},
		})
		if !errors.Is(err, stop) || conn != nil {
			t.Fatalf("Dial: %v, want an error wrapping the hook's", err)
		}
		if resp == nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("response %v, want the redirect", resp)
		}
	})
	t.Run("URL credentials", func(t *testing.T) {
		auths()
		conn, _, err := ws.Dial(dialCtx(t), "ws://user:pw@"+aAddr+"/cross", &ws.DialOptions{MaxRedirects: 1})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if seenAuth := auths(); len(seenAuth) != 1 || seenAuth[0] != "Basic dXNlcjpwdw==" {
			t.Fatalf("first hop Authorization %q", seenAuth)
		}
		if got := hb.last(t).Header.Get("Authorization"); got != "" {
			t.Fatalf("second hop Authorization %q", got)
		}
	})
	t.Run("URL credentials yield to Header", func(t *testing.T) {
		auths()
		conn, _, err := ws.Dial(dialCtx(t), "ws://user:pw@"+aAddr+"/same", &ws.DialOptions{
			MaxRedirects: 1, Header: http.Header{"Authorization": {"Bearer token"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if seenAuth := auths(); len(seenAuth) != 2 || seenAuth[0] != "Bearer token" || seenAuth[1] != "Bearer token" {
			t.Fatalf("Authorization %q", seenAuth)
		}
	})
}
