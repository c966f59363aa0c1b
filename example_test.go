//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/rpc"
	"os"
	"strings"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"golang.org/x/sync/errgroup"
)

// An echo server and a client that talks to it.
func Example_echo() {
	// The server: accept inside any http.Handler, then read and write.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered the request with an error status.
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return // the client closed, or the connection broke
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})

	// Serve it on a free port of 127.0.0.1; http.ListenAndServe(":8080",
	// handler) would serve it on port 8080.
	srv := httptest.NewServer(handler)
	defer srv.Close()

	// The client: dial with a deadline for the handshake. Dial takes the
	// server's http:// URL as well as ws://.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"hello", "world"} {
		if err := c.Write(ctx, ws.MessageText, []byte(s)); err != nil {
			log.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(msg))
	}
	c.Close(ws.StatusNormalClosure, "done")
	// Output:
	// hello
	// world
}

// Read and Write send and receive whole messages.
func ExampleConn_Read() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Write(r.Context(), ws.MessageText, []byte("hello from the server"))
		c.Write(r.Context(), ws.MessageBinary, []byte{1, 2, 3})
		c.Close(ws.StatusNormalClosure, "")
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			fmt.Println("closed:", ws.CloseStatus(err))
			return
		}
		fmt.Printf("%v: %q\n", typ, msg)
	}
	// Output:
	// text: "hello from the server"
	// binary: "\x01\x02\x03"
	// closed: NormalClosure
}

// ReadAppend reads each message into the same buffer, so that a loop over
// messages of similar sizes allocates nothing once the buffer has grown.
func ExampleConn_ReadAppend() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, m := range []string{"one", "two", "three"} {
			c.Write(r.Context(), ws.MessageText, []byte(m))
		}
		c.Close(ws.StatusNormalClosure, "")
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	for {
		var err error
		_, buf, err = c.ReadAppend(ctx, buf[:0])
		if err != nil {
			fmt.Println("closed:", ws.CloseStatus(err))
			return
		}
		fmt.Printf("%s\n", buf)
	}
	// Output:
	// one
	// two
	// three
	// closed: NormalClosure
}

// Reader and Writer stream a message of any size without holding it whole:
// here io.Copy sends a file as one message and stores the echo in another.
func ExampleConn_Writer() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			wr, err := c.Writer(ctx, typ)
			if err != nil {
				return
			}
			io.Copy(wr, rd)
			if wr.Close() != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	src, err := os.CreateTemp("", "ws-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(src.Name())
	src.WriteString(strings.Repeat("a line of the file\n", 10000))
	src.Seek(0, io.SeekStart)

	go func() {
		w, err := c.Writer(ctx, ws.MessageBinary)
		if err != nil {
			return
		}
		io.Copy(w, src) // the file goes out in frames as it is read
		w.Close()
	}()

	_, r, err := c.Reader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	dst, err := os.CreateTemp("", "ws-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(dst.Name())
	n, err := io.Copy(dst, r)
	fmt.Println(n, err)
	c.Close(ws.StatusNormalClosure, "")
	// Output:
	// 190000 <nil>
}

// Close sends a close frame with a status code and a reason; the peer's
// read returns them as a CloseError.
func ExampleConn_Close() {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		_, _, err = c.Read(context.Background())
		var ce ws.CloseError
		if errors.As(err, &ce) {
			fmt.Printf("server: client closed with %d %v: %q\n", ce.Code, ce.Code, ce.Reason)
		}
	}))
	defer srv.Close()

	c, _, err := ws.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Close(ws.StatusGoingAway, "shutting down"); err != nil {
		log.Fatal(err)
	}
	<-done
	// Output:
	// server: client closed with 1001 GoingAway: "shutting down"
}

// Ranging over Messages receives every message until the connection ends;
// Err then says why it ended.
func ExampleConn_Messages() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, s := range []string{"one", "two", "three"} {
			c.Write(r.Context(), ws.MessageText, []byte(s))
		}
		c.Close(ws.StatusNormalClosure, "that's all")
	}))
	defer srv.Close()

	conn, _, err := ws.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()
	for msg := range conn.Messages() {
		fmt.Printf("%s: %s\n", msg.Type, msg.Data)
	}
	fmt.Println("ended:", conn.Err())
	// Output:
	// text: one
	// text: two
	// text: three
	// ended: ws: closed with status NormalClosure (1000): that's all
}

// A Dial gives up when its context is cancelled or its deadline passes,
// here against a server that never answers the handshake.
func ExampleDial_cancel() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answer
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := ws.Dial(ctx, srv.URL, nil)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true
}

// Calc is a net/rpc service for the NetConn example.
type Calc struct{}

// Add adds two numbers.
func (Calc) Add(args [2]int, sum *int) error { *sum = args[0] + args[1]; return nil }

// NetConn turns a connection into a net.Conn, so any protocol that runs
// over a byte stream runs over WebSocket: here net/rpc.
func ExampleNetConn() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		rpcs := rpc.NewServer()
		rpcs.Register(Calc{})
		rpcs.ServeConn(ws.NetConn(context.Background(), c, ws.MessageBinary))
	}))
	defer srv.Close()

	c, _, err := ws.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	client := rpc.NewClient(ws.NetConn(context.Background(), c, ws.MessageBinary))
	defer client.Close()
	var sum int
	if err := client.Call("Calc.Add", [2]int{40, 2}, &sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum)
	// Output:
	// 42
}

// Relaying between a WebSocket and a TCP connection: NetConn makes the
// WebSocket a byte stream, and one errgroup copies both ways, ending both
// sides when either ends.
func ExampleNetConn_relay() {
	// A TCP service that shouts back what it reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		tc, err := ln.Accept()
		if err != nil {
			return
		}
		defer tc.Close()
		buf := make([]byte, 100)
		n, _ := tc.Read(buf)
		tc.Write(bytes.ToUpper(buf[:n]))
	}()

	// The gateway relays each WebSocket connection to the TCP service.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		tc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			c.Close(ws.StatusBadGateway, "backend down")
			return
		}
		wc := ws.NetConn(r.Context(), c, ws.MessageBinary)
		var g errgroup.Group
		g.Go(func() error { _, err := io.Copy(tc, wc); tc.Close(); return err })
		g.Go(func() error { _, err := io.Copy(wc, tc); wc.Close(); return err })
		g.Wait()
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, ws.MessageBinary, []byte("hello tcp"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	_, _, err = c.Read(ctx)
	fmt.Println(ws.CloseStatus(err))
	// Output:
	// HELLO TCP
	// NormalClosure
}

// A Server tracks its connections, so it can broadcast to all of them and
// shut down gracefully.
func ExampleServer() {
	s := &ws.Server{}
	s.Handler = func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			// Everyone, the sender included, hears every message.
			s.Broadcast(msg.Type, msg.Data, nil)
		}
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	ctx := context.Background()
	alice, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	bob, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	for s.Len() < 2 {
		time.Sleep(time.Millisecond)
	}
	alice.Write(ctx, ws.MessageText, []byte("hi, all"))
	_, msg, _ := bob.Read(ctx)
	fmt.Println("bob got:", string(msg))
	_, msg, _ = alice.Read(ctx)
	fmt.Println("alice got:", string(msg))

	go alice.Read(ctx) // keep reading, to see the server's close frames
	go bob.Read(ctx)
	// The HTTP server first, then the ws.Server: see ExampleServer_Shutdown.
	srv.Close()
	if err := s.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("open after shutdown:", s.Len())
	// Output:
	// bob got: hi, all
	// alice got: hi, all
	// open after shutdown: 0
}

// A graceful shutdown of a ws.Server in an http.Server of your own stops
// the http.Server first and the ws.Server second. http.Server.Shutdown
// closes the listener, so that no new connection arrives, and returns
// without waiting for the WebSocket connections, which left net/http when
// they were upgraded; Server.Shutdown then sends each of them 1001 Going
// Away and waits for their close handshakes. Server.ListenAndServe and
// Server.Serve do the same when their context ends.
func ExampleServer_Shutdown() {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for range c.Messages() {
		}
	}}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", s)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	read := make(chan error, 1)
	go func() { _, _, err := c.Read(ctx); read <- err }()

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// First the http.Server: its Shutdown closes the listener at once, then
	// waits for plain HTTP requests and idle connections (a browser may hold
	// one for seconds), not for the WebSocket ones of HTTP/1.1, which it no
	// longer sees. Over HTTP/2 it waits for their streams too, which end
	// as the ws.Server closes them: so the two shutdowns run together.
	closed := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	<-closed
	// Meanwhile the ws.Server: 1001 Going Away to every connection, and a
	// wait for their close handshakes.
	if err := s.Shutdown(sctx); err != nil {
		log.Print(err)
	}
	if err := <-httpDone; err != nil {
		log.Print(err)
	}

	fmt.Println("serve:", <-served)
	fmt.Println("client:", ws.CloseStatus(<-read))
	// Output:
	// serve: http: Server closed
	// client: GoingAway
}

// A server of WebSockets over HTTP/2 (RFC 8441) as well as HTTP/1.1: any
// http.Server with TLS, whose handler calls Accept, here through a
// ws.Server. net/http takes the extended CONNECT requests of HTTP/2 only
// when the program starts with GODEBUG=http2xconnect=1 in its
// environment:
//
//	GODEBUG=http2xconnect=1 ./server
func ExampleServer_http2() {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, msg.Data)
		}
	}}
	hs := &http.Server{Addr: ":8443", Handler: s, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(hs.ListenAndServeTLS("cert.pem", "key.pem"))
}

// A Server's figures, published with expvar in one line: /debug/vars
// then serves them as JSON, under "ws", beside the program's other
// variables, and each request reads them afresh.
func ExampleServer_StatsVar() {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, msg.Data)
		}
	}}
	expvar.Publish("ws", s.StatsVar())

	mux := http.NewServeMux()
	mux.Handle("GET /ws", s)
	mux.Handle("GET /debug/vars", expvar.Handler())
	hs := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(hs.ListenAndServe())
}

// Stats counts what went through a connection: messages, their bytes as
// the application sees them and as they crossed the wire, pings, and the
// close codes of either side.
func ExampleConn_Stats() {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, msg.Data)
		}
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, ws.MessageText, []byte("hello"))
	c.Read(ctx)
	c.Close(ws.StatusNormalClosure, "")

	st := c.Stats()
	fmt.Println("messages out, in:", st.MessagesOut, st.MessagesIn)
	fmt.Println("bytes out, in:", st.BytesOut, st.BytesIn)
	fmt.Println("close frames sent, received:", st.CloseSent, st.CloseReceived)
	// Output:
	// messages out, in: 1 1
	// bytes out, in: 5 5
	// close frames sent, received: NormalClosure NormalClosure
}

// Compression is negotiated when both sides turn it on; each message over
// the threshold then goes out compressed.
func ExampleOptions_compression() {
	opts := ws.Options{Compression: &ws.CompressionOptions{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{Options: opts})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, msg)
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Options: opts})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ws.StatusNormalClosure, "")
	fmt.Println(c.Extensions())
	big := strings.Repeat(`{"hello":"world"},`, 1000)
	c.Write(ctx, ws.MessageText, []byte(big))
	_, msg, _ := c.Read(ctx)
	fmt.Println(len(msg) == len(big))
	// Output:
	// permessage-deflate
	// true
}
