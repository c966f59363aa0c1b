package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"golang.org/x/net/nettest"
)

// TestNetConnNettest runs the net.Conn conformance suite of
// golang.org/x/net/nettest against NetConn: c1 is the client side of a
// WebSocket connection over loopback TCP, c2 the server side, both binary.
func TestNetConnNettest(t *testing.T) {
	nettest.TestConn(t, makeNetConnPipe)
}

// makeNetConnPipe starts a loopback HTTP server whose handler accepts one
// WebSocket connection and hands it over, dials it, and wraps both ends
// with NetConn. stop closes both connections, then the server, and returns
// only once nothing of the pipe runs any more.
func makeNetConnPipe() (c1, c2 net.Conn, stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())

	accepted := make(chan *ws.Conn, 1)
	acceptErr := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			acceptErr <- err
			return
		}
		accepted <- c
	}))
	// httptest listens on 127.0.0.1 unless -httptest.serve says otherwise;
	// make sure of it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()

	fail := func(err error) (net.Conn, net.Conn, func(), error) {
		cancel()
		srv.Close()
		return nil, nil, nil, err
	}

	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	client, _, err := ws.Dial(dctx, "ws://"+l.Addr().String()+"/", nil)
	if err != nil {
		return fail(err)
	}
	var server *ws.Conn
	select {
	case server = <-accepted:
	case err := <-acceptErr:
		client.CloseNow()
		return fail(fmt.Errorf("accept: %w", err))
	case <-dctx.Done():
		client.CloseNow()
		return fail(fmt.Errorf("waiting for the server side: %w", dctx.Err()))
	}

	c1 = ws.NetConn(ctx, client, ws.MessageBinary)
	c2 = ws.NetConn(ctx, server, ws.MessageBinary)
	stop = func() {
		// Close both ends at once, so each close handshake finds the
		// other side's close frame rather than waiting for it to time out.
		var wg sync.WaitGroup
		for _, c := range []net.Conn{c1, c2} {
			wg.Go(func() { c.Close() })
		}
		wg.Wait()
		cancel() // ends the adapters' context.AfterFuncs
		srv.Close()
	}
	return c1, c2, stop, nil
}
