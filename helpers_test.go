//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
	"github.com/seed-d6ba7b20/ws/internal/mask"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// The helpers shared by the package's external tests: connected pairs,
// raw peers that speak WebSocket by hand, echo servers and the proxies
// and servers the tests of Dial run against. Those that need no *ws.Conn,
// and that the internal tests and internal/conformance use too, are in
// internal/wstest.

// rawPeer speaks WebSocket by hand, so a test can send any bytes at all,
// malformed ones included, and see exactly what comes back.
type rawPeer struct {
	t      testing.TB
	nc     net.Conn
	br     *bufio.Reader
	client bool // mask what we send, expect unmasked frames back
}

// dialRaw opens a raw client connection to a server URL (http://...).
func dialRaw(t testing.TB, url string, extraHeaders ...string) *rawPeer {
	t.Helper()
	addr := strings.TrimPrefix(url, "http://")
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" + strings.Join(extraHeaders, "") + "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != handshake.AcceptKey(key) {
		t.Fatalf("handshake: %v %v", resp.Status, resp.Header)
	}
	p := &rawPeer{t: t, nc: nc, br: br, client: true}
	t.Cleanup(func() { nc.Close() })
	return p
}

// frameBytes encodes a frame, masked when the peer is a client.
func (p *rawPeer) frameBytes(fin bool, rsv, op byte, payload []byte) []byte {
	return wstest.AppendFrame(nil, frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: p.client, Key: 0x0a0b0c0d}, payload)
}

func (p *rawPeer) send(b []byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("raw send: %v", err)
	}
}

func (p *rawPeer) sendFrame(fin bool, rsv, op byte, payload []byte) {
	p.t.Helper()
	p.send(p.frameBytes(fin, rsv, op, payload))
}

// readFrame reads one frame, unmasking it.
func (p *rawPeer) readFrame() (frame.Header, []byte, error) {
	var hb [frame.MaxHeaderSize]byte
	if _, err := io.ReadFull(p.br, hb[:2]); err != nil {
		return frame.Header{}, nil, err
	}
	n := frame.Size(hb[:2])
	if _, err := io.ReadFull(p.br, hb[2:n]); err != nil {
		return frame.Header{}, nil, err
	}
	h, _, ok := frame.Parse(hb[:n])
	if !ok || h.Length > 64<<20 {
		return h, nil, fmt.Errorf("bad header % x", hb[:n])
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return h, nil, err
	}
	if h.Masked {
		mask.Apply(h.Key, 0, payload)
	}
	return h, payload, nil
}

// expectClose reads until a close frame and checks its code (0 for an
// empty close frame), then checks that the connection ends.
func (p *rawPeer) expectClose(code int) {
	p.t.Helper()
	for {
		h, payload, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", code, err)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		got := 0
		if len(payload) >= 2 {
			got = int(binary.BigEndian.Uint16(payload))
		}
		if got != code {
			p.t.Fatalf("close code %d (%q), want %d", got, payload[min(2, len(payload)):], code)
		}
		if h.Masked == p.client {
			p.t.Fatalf("close frame masked=%v from the wrong side", h.Masked)
		}
		break
	}
	// Answer as a peer would, then expect the end of the stream.
	p.nc.Write(p.frameBytes(true, 0, frame.OpClose, nil))
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, p.br); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		p.t.Fatalf("after close: %v", err)
	}
	p.nc.Close()
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe"))
}

// closePayload encodes a close frame payload.
func closePayload(code int, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

// recordServer runs an echo server that reads whole messages with Read and
// reports the error that ended each connection on errs.
func recordServer(t *testing.T, opts *ws.AcceptOptions) (url string, errs chan error) {
	errs = make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			errs <- err
			return
		}
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				c.CloseNow()
				errs <- err
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				c.CloseNow()
				errs <- err
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, errs
}

func waitErr(t *testing.T, errs chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("server did not end the connection")
		return nil
	}
}

// rawServer accepts one connection, answers the handshake by hand with
// the given extra response lines, and hands the raw peer to serve.
func rawServer(t *testing.T, extra string, serve func(p *rawPeer)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
			handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))+"\r\n"+extra+"\r\n")
		serve(&rawPeer{t: t, nc: nc, br: br})
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return "ws://" + ln.Addr().String()
}

// expectCloseFromClient reads until the client's close frame, checks its
// code, answers it and closes.
func (p *rawPeer) expectCloseFromClient(t *testing.T, code int) {
	for {
		h, payload, err := p.readFrame()
		if err != nil {
			t.Errorf("waiting for close: %v", err)
			return
		}
		if h.Opcode == frame.OpClose {
			if len(payload) < 2 || int(payload[0])<<8|int(payload[1]) != code {
				t.Errorf("close payload %q, want code %d", payload, code)
			}
			if !h.Masked {
				t.Errorf("client close frame unmasked")
			}
			p.sendFrame(true, 0, frame.OpClose, payload[:2])
			return
		}
	}
}

// pair returns the two ends of a WebSocket connection over an in-memory
// pipe (or loopback TCP), with both closed at the end of the test.
func pair(t testing.TB, tcp bool, sopts *ws.AcceptOptions, copts *ws.DialOptions) (client, server *ws.Conn) {
	t.Helper()
	ch := make(chan *ws.Conn, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, sopts)
		if err != nil {
			t.Error(err)
			ch <- nil
			return
		}
		ch <- c
	})
	if copts == nil {
		copts = &ws.DialOptions{}
	}
	url := "ws://pipe/"
	if tcp {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		url = srv.URL
	} else {
		srv := wstest.NewServer(h)
		t.Cleanup(srv.Close)
		copts.NetDial = srv.DialContext
	}
	c, _, err := ws.Dial(context.Background(), url, copts)
	if err != nil {
		t.Fatal(err)
	}
	s := <-ch
	if s == nil {
		t.FailNow()
	}
	t.Cleanup(func() {
		c.CloseNow()
		s.CloseNow()
	})
	return c, s
}

// dialTestHandler accepts, records the handshake request, and echoes
// messages until the connection ends.
type dialTestHandler struct {
	opts *ws.AcceptOptions
	requestLog
}

// requestLog records the requests a test server or proxy sees.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) record(r *http.Request) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r.Clone(context.Background()))
	l.mu.Unlock()
}

// last returns the last request recorded.
func (l *requestLog) last(t *testing.T) *http.Request {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) == 0 {
		t.Fatal("the server saw no request")
	}
	return l.reqs[len(l.reqs)-1]
}

func (h *dialTestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.record(r)
	c, err := ws.Accept(w, r, h.opts)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
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

// echoOnce checks that c echoes a message, then closes it.
func echoOnce(t *testing.T, c *ws.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, ws.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil || string(msg) != "hello" {
		t.Fatalf("echo: %q %v", msg, err)
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// dialCtx is the context of a test's dials.
func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connectProxy is an HTTP CONNECT proxy built on net/http: it hijacks
// the connection and pipes bytes to the target.
type connectProxy struct {
	user, pass string                              // required credentials, if user is set
	dial       func(addr string) (net.Conn, error) // nil means net.Dial
	wg         sync.WaitGroup
	requestLog
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.record(r)
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.user != "" {
		fake := &http.Request{Header: http.Header{"Authorization": r.Header.Values("Proxy-Authorization")}}
		u, pw, ok := fake.BasicAuth()
		if !ok || u != p.user || pw != p.pass {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
	}
	dial := p.dial
	if dial == nil {
		dial = func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }
	}
	dst, err := dial(r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		dst.Close()
		return
	}
	hj.SetDeadline(time.Time{})
	io.WriteString(hj, "HTTP/1.1 200 Connection established\r\n\r\n")
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		io.Copy(dst, brw.Reader)
		dst.Close()
		hj.Close()
	}()
	go func() {
		defer p.wg.Done()
		io.Copy(hj, dst)
		dst.Close()
		hj.Close()
	}()
}

// connects returns the targets of the CONNECT requests the proxy saw.
func (p *connectProxy) connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s []string
	for _, r := range p.reqs {
		s = append(s, r.Method+" "+r.Host)
	}
	return s
}

// socks5Server is a SOCKS5 proxy (RFC 1928) with no authentication and
// the CONNECT command only, for IPv4, domain and IPv6 addresses.
type socks5Server struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	dests []string
	conns map[net.Conn]bool
}

func newSOCKS5Server(t *testing.T) *socks5Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[nc] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *socks5Server) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	noAuth := false
	for _, m := range methods {
		noAuth = noAuth || m == 0
	}
	if !noAuth {
		nc.Write([]byte{5, 0xff})
		return
	}
	nc.Write([]byte{5, 0})
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil || req[0] != 5 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		ip := make(net.IP, 4)
		if req[3] == 4 {
			ip = make(net.IP, 16)
		}
		if _, err := io.ReadFull(br, ip); err != nil {
			return
		}
		host = ip.String()
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(br, name); err != nil {
			return
		}
		host = string(name)
	default:
		nc.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0}) // address type not supported
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return
	}
	if req[1] != 1 {
		nc.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0}) // command not supported
		return
	}
	dest := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	s.mu.Lock()
	s.dests = append(s.dests, fmt.Sprintf("%d %s", req[3], dest))
	s.mu.Unlock()
	dst, err := net.Dial("tcp", dest)
	if err != nil {
		nc.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	defer dst.Close()
	nc.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	done := make(chan struct{})
	go func() {
		io.Copy(dst, br)
		dst.Close()
		close(done)
	}()
	io.Copy(nc, dst)
	nc.Close()
	<-done
}

// socks5Dial is a NetDial that connects through the SOCKS5 proxy at
// proxyAddr.
func socks5Dial(proxyAddr string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network != "tcp" {
			return nil, errors.New("socks5: tcp only")
		}
		host, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", proxyAddr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			nc.SetDeadline(dl)
		}
		fail := func(err error) (net.Conn, error) {
			nc.Close()
			return nil, fmt.Errorf("socks5: %w", err)
		}
		if _, err := nc.Write([]byte{5, 1, 0}); err != nil {
			return fail(err)
		}
		var rep [2]byte
		if _, err := io.ReadFull(nc, rep[:]); err != nil {
			return fail(err)
		}
		if rep != [2]byte{5, 0} {
			return fail(fmt.Errorf("method refused: %v", rep))
		}
		req := []byte{5, 1, 0}
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			req = append(append(req, 1), ip.To4()...)
		} else if ip != nil {
			req = append(append(req, 4), ip.To16()...)
		} else {
			req = append(append(req, 3, byte(len(host))), host...)
		}
		req = binary.BigEndian.AppendUint16(req, uint16(port))
		if _, err := nc.Write(req); err != nil {
			return fail(err)
		}
		var head [4]byte
		if _, err := io.ReadFull(nc, head[:]); err != nil {
			return fail(err)
		}
		if head[1] != 0 {
			return fail(fmt.Errorf("CONNECT refused with code %d", head[1]))
		}
		skip := 4 + 2
		switch head[3] {
		case 4:
			skip = 16 + 2
		case 3:
			var n [1]byte
			if _, err := io.ReadFull(nc, n[:]); err != nil {
				return fail(err)
			}
			skip = int(n[0]) + 2
		}
		if _, err := io.ReadFull(nc, make([]byte, skip)); err != nil {
			return fail(err)
		}
		nc.SetDeadline(time.Time{})
		return nc, nil
	}
}

func certPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

func fixedProxy(raw string) func(*http.Request) (*url.URL, error) {
	u, err := url.Parse(raw)
	return func(*http.Request) (*url.URL, error) { return u, err }
}

// echoHandler echoes every message with Reader and Writer until the
// connection ends, and records the error that ended it.
type echoHandler struct {
	opts *ws.AcceptOptions
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (h *echoHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, h.opts)
	if err != nil {
		return
	}
	h.wg.Add(1)
	defer h.wg.Done()
	ctx := context.Background()
	for {
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
			c.CloseNow()
			return
		}
		wr, err := c.Writer(ctx, typ)
		if err != nil {
			c.CloseNow()
			return
		}
		if _, err := io.Copy(wr, rd); err != nil {
			wr.Close()
			c.CloseNow()
			return
		}
		if err := wr.Close(); err != nil {
			c.CloseNow()
			return
		}
	}
}

func (h *echoHandler) lastErr() error {
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	return h.errs[len(h.errs)-1]
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readMessages reads n messages with Reader, through buf, and drops them;
// it stops at the first error and returns it.
func readMessages(ctx context.Context, c *ws.Conn, n int, buf []byte) error {
	for range n {
		_, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		for {
			if _, err := r.Read(buf); err != nil {
				if err != io.EOF {
					return err
				}
				break
			}
		}
	}
	return nil
}
