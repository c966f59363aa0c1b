package ws

import (
	"context"
	"testing"
)

// TestReadAppendAllocs reads messages into a buffer that has room for
// them: ReadAppend must not allocate.
func TestReadAppendAllocs(t *testing.T) {
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
