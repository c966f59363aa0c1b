package wstest

import (
	"math/rand/v2"
	"strconv"
)

var (
	jsonActions = []string{"click", "view", "purchase", "login", "logout", "scroll", "search", "share"}
	jsonTags    = []string{"mobile", "desktop", "beta", "eu", "us", "promo", "new", "returning", "t1", "t2"}
	jsonWords   = []string{"ok", "retry", "cached", "slow", "fast", "user", "session", "page", "item", "cart"}
)

// JSONStream returns n JSON-like messages of exactly size bytes each (size
// at least 64), all different: an object with a sequence number and an
// array of event records whose numbers, names, actions and tags vary, and
// a "note" of words that pads the message to its size. The same n, size
// and seed give the same messages: bench/'s compressed echo sends them,
// and the tests of the library's wire size count them.
func JSONStream(n, size int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([][]byte, n)
	buf := make([]byte, 0, 2*size)
	for i := range out {
		b := append(buf[:0], `{"seq":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"events":[`...)
		for k := 0; ; k++ {
			rec := jsonRecord(r)
			// Leave room for the closing `],"note":"..."}`, at least 16 bytes.
			if len(b)+len(rec)+1+16 > size {
				break
			}
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, rec...)
		}
		b = append(b, `],"note":"`...)
		for len(b) < size-2 {
			if b[len(b)-1] != '"' {
				b = append(b, ' ')
			}
			b = append(b, jsonWords[r.IntN(len(jsonWords))]...)
		}
		b = append(b[:size-2], `"}`...)
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// jsonRecord is one event record, like
// {"id":123,"user":"user-45","action":"click","amount":12.34,"tags":["t1","t2"],"ok":true}.
func jsonRecord(r *rand.Rand) []byte {
	b := []byte(`{"id":`)
	b = strconv.AppendInt(b, int64(r.IntN(1000000)), 10)
	b = append(b, `,"user":"user-`...)
	b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
	b = append(b, `","action":"`...)
	b = append(b, jsonActions[r.IntN(len(jsonActions))]...)
	b = append(b, `","amount":`...)
	b = strconv.AppendFloat(b, float64(r.IntN(100000))/100, 'f', 2, 64)
	b = append(b, `,"tags":[`...)
	for j := range r.IntN(4) {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, jsonTags[r.IntN(len(jsonTags))]...)
		b = append(b, '"')
	}
	b = append(b, `],"ok":`...)
	b = strconv.AppendBool(b, r.IntN(4) != 0)
	return append(b, '}')
}
