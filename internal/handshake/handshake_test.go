package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAcceptKey checks the example of RFC 6455 section 1.3, and keys of
// every length from 0 to 40 bytes against SHA-1 and base64 done the
// plain way.
func TestAcceptKey(t *testing.T) {
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey of the RFC's key = %q, want %q", got, want)
	}
	for n := 0; n <= 40; n++ {
		key := strings.Repeat("k", n)
		h := sha1.New()
		h.Write([]byte(key + GUID))
		want := base64.StdEncoding.EncodeToString(h.Sum(nil))
		if got := AcceptKey(key); got != want {
			t.Fatalf("AcceptKey of %d bytes = %q, want %q", n, got, want)
		}
		if got := string(AppendAcceptKey([]byte("x: "), key)); got != "x: "+want {
			t.Fatalf("AppendAcceptKey of %d bytes = %q, want %q", n, got, "x: "+want)
		}
		if len(want) != AcceptKeyLen {
			t.Fatalf("AcceptKeyLen %d, but a key is %d bytes long", AcceptKeyLen, len(want))
		}
	}
}

// TestAppendAcceptKeyAllocs checks that a key of the length section 4.1
// requires costs nothing beyond the buffer.
func TestAppendAcceptKeyAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { AppendAcceptKey(buf[:0], "dGhlIHNhbXBsZSBub25jZQ==") }); n != 0 {
		t.Fatalf("AppendAcceptKey allocates %v times", n)
	}
}

// TestHeaderNames checks that the header name constants are canonical,
// so that http.Header finds them without canonicalising.
func TestHeaderNames(t *testing.T) {
	for _, name := range []string{HeaderKey, HeaderVersion, HeaderProtocol, HeaderExtensions, HeaderAccept, HeaderOrigin8} {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is not canonical: %q", name, c)
		}
	}
	// The names as RFC 6455 spells them on the wire are found under the
	// constants.
	for wire, name := range map[string]string{
		"Sec-WebSocket-Key": HeaderKey, "Sec-WebSocket-Version": HeaderVersion,
		"Sec-WebSocket-Protocol": HeaderProtocol, "Sec-WebSocket-Extensions": HeaderExtensions,
		"Sec-WebSocket-Accept": HeaderAccept, "Sec-WebSocket-Origin": HeaderOrigin8,
	} {
		if c := http.CanonicalHeaderKey(wire); c != name {
			t.Errorf("%q is stored as %q, not %q", wire, c, name)
		}
	}
}
