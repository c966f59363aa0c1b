package ws_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// dialTestHandler accepts, records the handshake request, and echoes
// messages until the connection ends.
type dialTestHandler struct {
	opts *ws.AcceptOptions
	mu   sync.Mutex
	reqs []*http.Request
}

func (h *dialTestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Clone(context.Background()))
	h.mu.Unlock()
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

// last returns the last request the handler saw.
func (h *dialTestHandler) last(t *testing.T) *http.Request {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		t.Fatal("the server saw no request")
	}
	return h.reqs[len(h.reqs)-1]
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
	mu         sync.Mutex
	reqs       []*http.Request
	wg         sync.WaitGroup
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.reqs = append(p.reqs, r.Clone(context.Background()))
	p.mu.Unlock()
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

func (p *connectProxy) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reqs) == 0 {
		t.Fatal("the proxy saw no request")
	}
	return p.reqs[len(p.reqs)-1]
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
