package ws

import (
	"net/url"
	"strings"
	"testing"
)

// slowSameOrigin is checkOrigin's same-origin rule by url.Parse, which
// sameOrigin must agree with whenever it says yes.
func slowSameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		origin, host string
		want         bool
	}{
		{"http://example.com", "example.com", true},
		{"https://Example.COM:8443", "example.com:8443", true},
		{"http://127.0.0.1:80", "127.0.0.1:80", true},
		{"http://example.com", "example.com:80", false},
		{"http://example.com/", "example.com", false},          // url.Parse decides
		{"http://user@example.com", "user@example.com", false}, // userinfo
		{"http://[::1]:80", "[::1]:80", false},                 // url.Parse decides
		{"http://a b", "a b", false},
		{"http://a:b", "a:b", false},
		{"http://a:", "a:", false},
		{"http://:80", ":80", false},
		{"ftp://example.com", "example.com", false},
		{"example.com", "example.com", false},
		{"", "", false},
	}
	for _, tc := range cases {
		if got := sameOrigin(tc.origin, tc.host); got != tc.want {
			t.Errorf("sameOrigin(%q, %q) = %v, want %v", tc.origin, tc.host, got, tc.want)
		}
		if sameOrigin(tc.origin, tc.host) && !slowSameOrigin(tc.origin, tc.host) {
			t.Errorf("sameOrigin(%q, %q) accepts what url.Parse does not", tc.origin, tc.host)
		}
	}
}

// FuzzSameOrigin checks that the fast path accepts nothing the parsed
// rule rejects.
func FuzzSameOrigin(f *testing.F) {
	f.Add("http://example.com:80", "example.com:80")
	f.Add("https://a.b", "A.B")
	f.Add("http://[::1]", "[::1]")
	f.Fuzz(func(t *testing.T, origin, host string) {
		if sameOrigin(origin, host) && !slowSameOrigin(origin, host) {
			t.Fatalf("sameOrigin(%q, %q) accepts what url.Parse does not", origin, host)
		}
		// The same host behind either scheme.
		for _, o := range []string{"http://" + host, "https://" + host} {
			if sameOrigin(o, host) && !slowSameOrigin(o, host) {
				t.Fatalf("sameOrigin(%q, %q) accepts what url.Parse does not", o, host)
			}
		}
	})
}
