package deflatetest

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dynamicBlock is a final dynamic block whose literal/length code gives one
// bit to literal 0 and to end-of-block and, if over, to literal 1 too:
// three codes of one bit, an over-subscribed code. The distance code is a
// single code of one bit, which is allowed. The data is literal 0, then
// end-of-block.
func dynamicBlock(over bool) []byte {
	var w BitWriter
	w.Bits(1, 1)  // BFINAL
	w.Bits(2, 2)  // dynamic
	w.Bits(0, 5)  // 257 literal/length codes
	w.Bits(0, 5)  // 1 distance code
	w.Bits(14, 4) // 18 code length code lengths
	// The code length code: symbols 1 (code 0) and 18 (code 1), one bit
	// each.
	for _, s := range []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1} {
		if s == 1 || s == 18 {
			w.Bits(1, 3)
		} else {
			w.Bits(0, 3)
		}
	}
	one := func() { w.Bits(0, 1) }
	zeros := func(n int) { w.Bits(1, 1); w.Bits(n-11, 7) }
	one() // literal 0
	if over {
		one() // literal 1
		zeros(138)
		zeros(116)
	} else {
		zeros(138)
		zeros(117)
	}
	one()        // end-of-block
	one()        // distance 0
	w.Bits(0, 1) // literal 0
	w.Bits(1, 1) // end-of-block
	return w.B
}

func TestDynamicCodes(t *testing.T) {
	out, _, err := Inflate(nil, dynamicBlock(false))
	if err != nil || !bytes.Equal(out, []byte{0}) {
		t.Fatalf("a complete code: %q, %v; want one zero byte", out, err)
	}
	if _, _, err := Inflate(nil, dynamicBlock(true)); err == nil || !strings.Contains(err.Error(), "over-subscribed") {
		t.Fatalf("an over-subscribed code: %v, want an error", err)
	}
	// 287 literal/length codes, one more than DEFLATE has.
	var w BitWriter
	w.Bits(1, 1)
	w.Bits(2, 2)
	w.Bits(30, 5)
	w.Bits(0, 5)
	w.Bits(0, 4)
	if _, _, err := Inflate(nil, w.B); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("287 literal/length codes: %v, want an error", err)
	}
}

// TestStdlib checks the decoder against compress/flate's streams.
func TestStdlib(t *testing.T) {
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 200))
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		var b bytes.Buffer
		fw, err := flate.NewWriter(&b, level)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(text)
		fw.Close()
		out, _, err := Inflate(nil, b.Bytes())
		if err != nil || !bytes.Equal(out, text) {
			t.Fatalf("level %d: %d bytes, %v; want the text back", level, len(out), err)
		}
	}
}
