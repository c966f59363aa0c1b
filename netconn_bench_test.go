//go:build !js

package ws

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			tb.Error(err)
		}
		accepted <- s
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	server = <-accepted
	if err != nil || server == nil {
		tb.Fatal(err)
	}
	return client, server
}

// netConnPair returns the two ends of a loopback TCP connection as they
// are, or as the NetConns of a client and a server Conn over it. The
// connection closes at the end of the test, at once.
func netConnPair(tb testing.TB, raw bool) (client, server net.Conn) {
	cn, sn := tcpPair(tb)
	tb.Cleanup(func() {
		cn.Close()
		sn.Close()
	})
	if raw {
		return cn, sn
	}
	ctx := context.Background()
	return NetConn(ctx, newConn(cn, true, nil, nil), MessageBinary),
		NetConn(ctx, newConn(sn, false, nil, nil), MessageBinary)
}

// zeroSource reads n bytes, leaving what p held, then io.EOF: a source
// that costs nothing, so that a copy measures its destination.
type zeroSource struct{ n int64 }

func (s *zeroSource) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), s.n))
	s.n -= int64(k)
	return k, nil
}

// discard is io.Discard without its ReadFrom, so that a copy into it
// reads through the copy's own buffer.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// deadlined sets a deadline of its net.Conn a minute ahead before each
// Read or Write, as a server does that bounds each exchange.
type deadlined struct{ c net.Conn }

func (d deadlined) Read(p []byte) (int, error) {
	d.c.SetReadDeadline(time.Now().Add(time.Minute))
	return d.c.Read(p)
}

func (d deadlined) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(time.Minute))
	return d.c.Write(p)
}

// BenchmarkNetConn copies a stream with io.Copy through a NetConn pair
// over loopback TCP (via=netconn) and, beside it, through the loopback
// TCP pair alone (via=tcp), in chunks of 64 KiB or 1 MiB: each Write
// sends one message. In dir=write the benchmark's goroutine writes into
// the client's end and a goroutine of its own reads the server's; in
// dir=read the server writes and the benchmark reads the client's end.
// With deadline=each, every Read and Write first moves its deadline.
// Both copies run with a buffer of the chunk's size and see plain
// io.Reader and io.Writer, so neither side's ReadFrom or WriteTo
// changes the chunks. Compare the two transports with
// `benchstat -col /via`.
func BenchmarkNetConn(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, dir := range []string{"write", "read"} {
			for _, dl := range []string{"none", "each"} {
				for _, via := range []string{"tcp", "netconn"} {
					name := fmt.Sprintf("dir=%s/size=%s/deadline=%s/via=%s", dir, sizeName(size), dl, via)
					b.Run(name, func(b *testing.B) {
						benchmarkCopy(b, size, dir == "read", dl == "each", via == "tcp")
					})
				}
			}
		}
	}
}

func benchmarkCopy(b *testing.B, size int, read, deadlines, raw bool) {
	client, server := netConnPair(b, raw)
	from, to := client, server
	if read {
		from, to = server, client
	}
	var w io.Writer = writerOnly{from}
	var r io.Reader = readerOnly{to}
	if deadlines {
		w, r = deadlined{from}, deadlined{to}
	}
	total := int64(b.N) * int64(size)
	copyOut := func() error {
		_, err := io.CopyBuffer(w, &zeroSource{n: total}, make([]byte, size))
		return err
	}
	copyIn := func() error {
		n, err := io.CopyBuffer(discard{}, io.LimitReader(r, total), make([]byte, size))
		if err == nil && n != total {
			err = fmt.Errorf("read %d bytes of %d", n, total)
		}
		return err
	}
	mine, theirs := copyOut, copyIn
	if read {
		mine, theirs = copyIn, copyOut
	}
	done := make(chan error, 1)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	go func() { done <- theirs() }()
	err := mine()
	if err2 := <-done; err == nil {
		err = err2
	}
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
}
