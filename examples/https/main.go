//go:build !js

// Command https serves WebSocket over TLS (wss://) from an HTTPS server of
// its own, as "External HTTP/S server" in Node's ws README does, and
// connects to it with a client that trusts the server's certificate.
//
// So that it runs anywhere, it makes a self-signed certificate for
// 127.0.0.1 and localhost at start-up; a real server loads its
// certificate and key from files (http.Server.ListenAndServeTLS) or gets
// them from Let's Encrypt (golang.org/x/crypto/acme/autocert), and its
// clients need no special set-up.
//
//	go run ./examples/https
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run starts an HTTPS server on 127.0.0.1 whose /ws endpoint echoes, and
// talks to it over wss.
func run(ctx context.Context, out io.Writer) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}

	srv := newServer(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }() // "": use TLSConfig's certificate
	defer func() {
		srv.Close() // closes the listener; the WebSocket connections are ours to close
		<-served
	}()

	// The client: trust this one certificate, as if it were a certificate
	// authority. Without RootCAs the dial fails, since no known authority
	// signed it.
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	url := "wss://" + ln.Addr().String() + "/ws"
	c, _, err := ws.Dial(ctx, url, &ws.DialOptions{
		TLSConfig: &tls.Config{RootCAs: roots},
	})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	fmt.Fprintln(out, "connected to", url)

	if err := c.Write(ctx, ws.MessageText, []byte("hello over TLS")); err != nil {
		return err
	}
	_, reply, err := c.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "received: %s\n", reply)
	return c.Close(ws.StatusNormalClosure, "")
}

// newServer returns the HTTPS server: a plain http.Server with a TLS
// certificate, whose /ws endpoint echoes. WebSocket needs nothing more;
// Accept works the same over TLS.
func newServer(cert tls.Certificate) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", echo)
	return &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
}

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, valid
// for a day and signed by its own key.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		// The names the client may use to reach the server.
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	// The template is both the certificate and its issuer: self-signed.
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// echo upgrades the request to a WebSocket and sends every message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}
