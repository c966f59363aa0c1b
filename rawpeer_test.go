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
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
	"github.com/seed-d6ba7b20/ws/internal/mask"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

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
