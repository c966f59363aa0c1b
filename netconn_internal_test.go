//go:build !js

package ws

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestNetConnAllocs streams messages of 64 KiB and 1 MiB through a
// NetConn pair over loopback TCP, each way, moving the deadlines of
// both ends before each Write and Read and clearing them after: in the
// steady state neither end allocates.
func TestNetConnAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, dir := range []string{"write", "read"} {
			t.Run(fmt.Sprintf("%s/%s", dir, sizeName(size)), func(t *testing.T) {
				client, server := netConnPair(t, false)
				from, to := client, server
				if dir == "read" {
					from, to = server, client
				}
				msg := make([]byte, size)
				buf := make([]byte, size)
				start := make(chan struct{})
				written := make(chan error)
				go func() {
					for range start {
						from.SetWriteDeadline(time.Now().Add(time.Minute))
						_, err := from.Write(msg)
						from.SetDeadline(time.Time{})
						written <- err
					}
				}()
				defer close(start)
				var err error
				exchange := func() {
					start <- struct{}{}
					to.SetReadDeadline(time.Now().Add(time.Minute))
					_, rerr := io.ReadFull(to, buf)
					to.SetReadDeadline(time.Time{})
					if werr := <-written; err == nil {
						err = werr
					}
					if err == nil {
						err = rerr
					}
				}
				exchange() // the pools fill
				allocs := testing.AllocsPerRun(20, exchange)
				if err != nil {
					t.Fatal(err)
				}
				if allocs != 0 {
					t.Errorf("%v allocations per message", allocs)
				}
			})
		}
	}
}

// TestNetConnWrites counts the transport's writes per message of a
// NetConn whose Conn copies frames through a buffer: a client's, which
// masks them, or either side's on a transport without vectored writes
// (TLS, a pipe). A message of up to 64 KiB goes out in one write, and a
// larger one in pieces of 65 KiB.
func TestNetConnWrites(t *testing.T) {
	for _, client := range []bool{true, false} {
		for _, tc := range []struct{ size, writes int }{{1 << 10, 1}, {16 << 10, 1}, {64 << 10, 1}, {1 << 20, 16}} {
			lc := &loopConn{data: []byte{0}}
			nc := NetConn(context.Background(), newConn(lc, client, nil, nil), MessageBinary)
			if n, err := nc.Write(make([]byte, tc.size)); err != nil || n != tc.size {
				t.Fatalf("wrote %d bytes: %v", n, err)
			}
			if lc.writes != tc.writes {
				t.Errorf("client %v: a message of %s took %d writes, want %d", client, sizeName(tc.size), lc.writes, tc.writes)
			}
		}
	}
}
