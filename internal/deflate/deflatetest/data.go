package deflatetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// words is the vocabulary of TextData.
var words = strings.Fields(`the of and to in is that for it as was with be by on not he this are
or his from at which but have an they you were her she there been one all we their has would
when if so no will more other what up out who can into some could them time than only new
compression window message frame socket server client deflate history dictionary stream
buffer memory connection protocol extension parameter negotiation payload literal distance`)

// TextData returns n bytes of pseudo-English: compressible, with
// repetitions at every distance.
func TextData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		switch r.IntN(12) {
		case 0:
			b = append(b, ".\n"...)
		case 1:
			b = append(b, ", "...)
		default:
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// RandomData returns n incompressible bytes.
func RandomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// JSONMessage returns a JSON-like message of about 1 KiB: the keys repeat
// from message to message, the values vary.
func JSONMessage(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"update","seq":%d,"ts":%d,"user":{"id":%d,"name":"user%d","roles":["reader","writer"]},"items":[`,
		i, 1700000000000+int64(i)*37, r.IntN(1e6), r.IntN(1e4))
	for j := 0; b.Len() < 980; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"price":%d.%02d,"qty":%d,"sku":"SKU-%05d","ok":%t}`,
			r.IntN(1e5), r.IntN(1000), r.IntN(100), r.IntN(50), r.IntN(1e5), r.IntN(2) == 0)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
