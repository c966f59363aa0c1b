//go:build !js

package ws

import (
	"context"
	"testing"
	"unsafe"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// TestConnSize guards the size of a Conn, which every idle connection
// holds (bench/RESULTS-idle.md). A Conn holds pointers and is over 512
// bytes, so the allocator puts an 8-byte header in front of it: at 632
// bytes, with the counters of Stats, it fills the 640-byte size class;
// a field more takes it to the class of 704.
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the figure is for 64-bit platforms")
	}
	const header = 8
	if n := unsafe.Sizeof(Conn{}); n+header > 640 {
		t.Errorf("a Conn is %d bytes, over the 640 of its size class with the allocator's header", n)
	}
	// Reading and writing goroutines move their counters on cache lines
	// of their own. Objects of the 640-byte class start on a line.
	in, out := header+unsafe.Offsetof(Conn{}.in), header+unsafe.Offsetof(Conn{}.out)
	inEnd, outEnd := in+unsafe.Sizeof(inCounters{})-1, out+unsafe.Sizeof(outCounters{})-1
	if inEnd/64 >= out/64 && outEnd/64 >= in/64 {
		t.Errorf("the counters of reading (at %d) and writing (at %d) share a cache line", in, out)
	}
}

// TestEchoAllocs echoes messages, read with ReadAppend into a buffer with
// room and written back with Write, plain and compressed: counting them
// must not allocate, and the figures must come out exact.
func TestEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	ctx := context.Background()
	msg := wstest.JSON(1 << 10)
	for _, tc := range []struct {
		name    string
		payload []byte
		rsv     byte
	}{{"plain", msg, 0}, {"compressed", deflated(t, msg), frame.BitRsv1}} {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			for range 4 {
				data = wstest.AppendClientFrame(data, frame.Header{Fin: true, Rsv: tc.rsv, Opcode: frame.OpText}, tc.payload)
			}
			c := replayConn(t, data, tc.rsv != 0)
			defer c.CloseNow()
			buf := make([]byte, 0, len(msg))
			echo := func() {
				typ, b, err := c.ReadAppend(ctx, buf[:0])
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Write(ctx, typ, b); err != nil {
					t.Fatal(err)
				}
				buf = b
			}
			echo() // the pools fill
			allocs := testing.AllocsPerRun(20, echo)
			if allocs != 0 {
				t.Errorf("%v allocations per echo", allocs)
			}
			s := c.Stats()
			msgs := uint64(1 + 21) // AllocsPerRun runs echo once more than it counts
			wireIn := msgs * uint64(len(tc.payload))
			if s.MessagesIn != msgs || s.BytesIn != msgs*uint64(len(msg)) || s.WireBytesIn != wireIn {
				t.Errorf("in: %d messages, %d bytes, %d on the wire; want %d, %d, %d", s.MessagesIn, s.BytesIn, s.WireBytesIn, msgs, msgs*uint64(len(msg)), wireIn)
			}
			if s.MessagesOut != msgs || s.BytesOut != msgs*uint64(len(msg)) || (tc.rsv == 0) != (s.WireBytesOut == s.BytesOut) {
				t.Errorf("out: %d messages, %d bytes, %d on the wire", s.MessagesOut, s.BytesOut, s.WireBytesOut)
			}
		})
	}
}

// TestStatsAllocs reads the figures of a connection: Stats allocates
// nothing, so a Server's Stats costs no garbage per connection.
func TestStatsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	c := newConn(&loopConn{data: clientFrames(16, 1)}, false, nil, nil)
	c.setCause(CloseError{Code: StatusGoingAway})
	var s ConnStats
	if allocs := testing.AllocsPerRun(20, func() { s = c.Stats() }); allocs != 0 {
		t.Errorf("%v allocations per Stats", allocs)
	}
	if s.CloseReceived != StatusGoingAway {
		t.Errorf("close received %d", s.CloseReceived)
	}
}
