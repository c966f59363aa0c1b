package main

// The compressed echo: permessage-deflate with context takeover where the
// server supports it, JSON-like messages that differ from one to the next,
// and one client (ws.Dial with Compression: &ws.CompressionOptions{}) for every
// server.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	coder "github.com/coder/websocket"
	"github.com/lxzan/gws"
	ws "github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// zServers are the compressed echo servers, by name. Each echoes whole
// messages (Read/Write or its library's equivalent).
var zServers = map[string]server{
	// ws with the defaults: context takeover, level 1, the last 4 KiB sent
	// primed into a pooled compressor for each message.
	"ws-deflate": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{}})),
	// ws keeping a whole compressor per connection (Engine: ws.EngineWriter).
	"ws-deflate-keep": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{Engine: ws.EngineWriter}})),
	// The same at level 8 instead of 1: a whole compressor kept per
	// connection (Engine: ws.EngineWriter), compressing with flate level 8,
	// for the bytes against CPU trade-off next to zlib's level 6 in
	// node-deflate and gws's level-5-like 12-bit compressor.
	"ws-deflate-l8": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{Level: 8, Engine: ws.EngineWriter}})),
	// ws at level 6 with the default engine (EngineDictionary): the last
	// 4 KiB sent primed into a pooled window compressor for each message,
	// 5 KiB kept per connection.
	"ws-deflate-d6": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{Level: 6}})),
	// ws at level 6 with context takeover and ws's window compressor
	// (Engine: ws.EngineWindow), which searches about as hard as zlib's
	// level 6 (Node's default), with 144 KiB kept per connection.
	"ws-deflate-l6": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{Level: 6, Engine: ws.EngineWindow}})),
	// The same, asking the client for a 12-bit window as gws-deflate does,
	// so that both servers inflate the same client stream. It also holds
	// 5 KiB of inflate history per connection instead of 40.
	"ws-deflate-l6-c12": httpServer(wsDeflate(ws.Options{Compression: &ws.CompressionOptions{
		Level: 6, Engine: ws.EngineWindow, ClientMaxWindowBits: 12,
	}})),
	// gws with context takeover both ways, its defaults otherwise (level 1,
	// window bits 12 both ways when context takeover is on).
	"gws-deflate": serveGWSDeflate(0),
	// The same with 32 KiB windows (window bits 15), with which gws, like
	// ws, compresses with flate level 1; below 15 bits both use
	// klauspost's custom-window compressor, whatever the level.
	"gws-deflate-15": serveGWSDeflate(15),
	// gorilla negotiates only no context takeover.
	"gorilla-deflate-nct": httpServer(gorillaReadWrite(true)),
	// coder with its CompressionContextTakeover.
	"coder-deflate": httpServer(coderReadWrite(&coder.AcceptOptions{CompressionMode: coder.CompressionContextTakeover})),
}

func init() {
	for name, s := range zServers {
		servers[name] = s
	}
}

// zSize is the size of every compressed-echo message. It is exactly
// ws's DefaultCompressionThreshold, so that ws's server, with its
// defaults, compresses the echoes.
const zSize = 1024

// wsDeflate echoes with Read/Write, accepting with the options o.
func wsDeflate(o ws.Options) http.HandlerFunc {
	return wsHandler(&ws.AcceptOptions{Options: o}, wsEcho)
}

// serveGWSDeflate serves gws with context takeover both ways and window
// bits of bits each (0: gws's default, 12 with context takeover).
func serveGWSDeflate(bits int) server {
	return serveGWS(&gws.ServerOption{
		ReadMaxPayloadSize: readLimit,
		PermessageDeflate: gws.PermessageDeflate{
			Enabled:               true,
			ServerContextTakeover: true,
			ClientContextTakeover: true,
			ServerMaxWindowBits:   bits,
			ClientMaxWindowBits:   bits,
		},
	}, false)
}

// countConn counts the bytes that cross a client's TCP connection.
type countConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// zClient is one compressed-echo connection.
type zClient struct {
	c   *ws.Conn
	cc  *countConn
	ext string // the server's Sec-WebSocket-Extensions
}

// zDial connects with ws.Dial, offering permessage-deflate with context
// takeover. The client keeps a whole compressor (Engine: ws.EngineWriter)
// and compresses every message (Threshold: -1).
func zDial(addr string) (*zClient, error) {
	zc := &zClient{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := ws.Dial(ctx, "ws://"+addr+"/", &ws.DialOptions{
		Options: ws.Options{
			Compression: &ws.CompressionOptions{Engine: ws.EngineWriter, Threshold: -1},
			ReadLimit:   readLimit,
		},
		Proxy: ws.NoProxy,
		NetDial: func(ctx context.Context, network, a string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, a)
			if err != nil {
				return nil, err
			}
			zc.cc = &countConn{Conn: nc}
			return zc.cc, nil
		},
	})
	if err != nil {
		return nil, err
	}
	zc.c = c
	zc.ext = resp.Header.Get("Sec-WebSocket-Extensions")
	return zc, nil
}

func (zc *zClient) close() {
	if tc, ok := zc.cc.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	zc.c.CloseNow()
}

// roundTrip sends msg as a text message and checks that the echo is the
// same.
func (zc *zClient) roundTrip(msg []byte) error {
	ctx := context.Background()
	if err := zc.c.Write(ctx, ws.MessageText, msg); err != nil {
		return err
	}
	_, p, err := zc.c.Read(ctx)
	if err != nil {
		return err
	}
	if !bytes.Equal(p, msg) {
		return fmt.Errorf("echo differs: %d bytes, want %d", len(p), len(msg))
	}
	return nil
}

// zMessages returns n JSON-like messages of exactly zSize bytes each, all
// different (wstest.JSONStream, which the library's tests of its wire
// size count too).
func zMessages(n int, seed uint64) [][]byte { return wstest.JSONStream(n, zSize, seed) }

// runZEcho is runEcho for the compressed echo: n connections, each
// sending different messages of zSize bytes one at a time. It also
// counts the bytes on the client's connections in each direction and
// records the negotiated extension.
func runZEcho(addr string, pid, n int, limit time.Duration, msgs [][]byte) (sample, error) {
	s := sample{cell: cell{"zecho", zSize, n}}
	warm, per := echoCounts(zSize, n)
	if len(msgs) < n*(warm+per) {
		return s, fmt.Errorf("%d messages prepared, need %d", len(msgs), n*(warm+per))
	}
	clients := make([]*zClient, 0, n)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for range n {
		c, err := zDial(addr)
		if err != nil {
			return s, err
		}
		if len(clients) > 0 && c.ext != clients[0].ext {
			return s, fmt.Errorf("extensions differ between connections: %q and %q", c.ext, clients[0].ext)
		}
		clients = append(clients, c)
	}
	s.ext = clients[0].ext
	// Connection i uses msgs[i*(warm+per):], warm-up first.
	rt := func(i, from int) func(int) error {
		base := i*(warm+per) + from
		return func(j int) error { return clients[i].roundTrip(msgs[base+j]) }
	}
	wire := func() (in, out int64) {
		for _, c := range clients {
			in += c.cc.in.Load()
			out += c.cc.out.Load()
		}
		return in, out
	}
	wend := time.Now().Add(limit)
	if err := parallel(n, func(i int) error {
		clients[i].cc.SetDeadline(wend.Add(10 * time.Second))
		return roundTrips(warm, wend, nil, rt(i, 0))
	}); err != nil {
		return s, fmt.Errorf("warm-up: %w", err)
	}
	in0, out0 := wire()
	lat := make([][]time.Duration, n)
	for i := range lat {
		lat[i] = make([]time.Duration, 0, per)
	}
	if err := timed(&s, pid, limit, func(end time.Time) error {
		return parallel(n, func(i int) error {
			clients[i].cc.SetDeadline(end.Add(10 * time.Second))
			return roundTrips(per, end, &lat[i], rt(i, warm))
		})
	}); err != nil {
		return s, err
	}
	in1, out1 := wire()
	s.wireIn, s.wireOut = float64(in1-in0), float64(out1-out0)
	latencies(&s, lat)
	return s, nil
}

// zMessageCount is how many messages runZEcho needs for n connections.
func zMessageCount(n int) int {
	warm, per := echoCounts(zSize, n)
	return n * (warm + per)
}
