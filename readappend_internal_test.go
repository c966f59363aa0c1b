package ws

import (
	"context"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// TestReadAppendAllocs reads messages into a buffer that has room for
// them: ReadAppend must not allocate.
func TestReadAppendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	ctx := context.Background()
	for _, size := range benchSizes {
		c := newConn(&loopConn{data: clientFrames(size, 4)}, false, nil, nil)
		buf := make([]byte, 0, size)
		allocs := testing.AllocsPerRun(20, func() {
			var err error
			if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 || len(buf) != size {
			t.Errorf("%s: %v allocations per message, %d bytes read", sizeName(size), allocs, len(buf))
		}
	}
}

// TestReadAppendGrowth reads messages that end in an empty frame into a
// buffer with exactly their room, which must not allocate, and appends
// 2,000 small messages to one growing buffer, which must grow it by
// doubling, as append does, rather than once per message.
func TestReadAppendGrowth(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	ctx := context.Background()
	var data []byte
	for range 4 {
		data = wstest.AppendClientFrame(data, frame.Header{Opcode: frame.OpBinary}, make([]byte, 1<<10))
		data = wstest.AppendClientFrame(data, frame.Header{Fin: true, Opcode: frame.OpContinuation}, nil)
	}
	c := newConn(&loopConn{data: data}, false, nil, nil)
	buf := make([]byte, 0, 1<<10)
	allocs := testing.AllocsPerRun(20, func() {
		var err error
		if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || len(buf) != 1<<10 || cap(buf) != 1<<10 {
		t.Errorf("exact room: %v allocations per message, %d bytes in a buffer of %d", allocs, len(buf), cap(buf))
	}

	const n = 2000
	c = newConn(&loopConn{data: clientFrames(16, 4)}, false, nil, nil)
	var acc []byte
	allocs = testing.AllocsPerRun(1, func() {
		acc = nil
		for range n {
			var err error
			if _, acc, err = c.ReadAppend(ctx, acc); err != nil {
				t.Fatal(err)
			}
		}
	})
	if len(acc) != n*16 || allocs > 20 {
		t.Errorf("appending %d messages of 16 bytes: %d bytes, %v allocations", n, len(acc), allocs)
	}
}
