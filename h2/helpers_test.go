package h2_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-d6ba7b20/ws/h2"
)

// h2Server is a server on loopback that speaks HTTP/2 over TLS, with a
// Transport that trusts it.
type h2Server struct {
	*httptest.Server
	url   string // wss:// URL of the server's root
	tr    *h2.Transport
	conns atomic.Int32 // TCP connections accepted
}

// newH2Server starts h on an HTTP/2 server over TLS.
func newH2Server(t testing.TB, h http.Handler) *h2Server {
	s := &h2Server{}
	s.Server = httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	s.tr = h2.NewTransport(&tls.Config{RootCAs: pool})
	t.Cleanup(s.tr.CloseIdleConnections)
	s.url = "wss" + strings.TrimPrefix(s.URL, "https")
	return s
}

// isExtendedConnect reports whether r came as RFC 8441's extended CONNECT
// over HTTP/2.
func isExtendedConnect(r *http.Request) bool {
	return r.ProtoMajor == 2 && r.Method == http.MethodConnect && r.Header.Get(":protocol") == "websocket"
}
