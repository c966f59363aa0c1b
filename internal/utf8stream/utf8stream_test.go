package utf8stream

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var cases = []string{
	"", "hello", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff",
	"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd",
	// invalid
	"\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xed\xa0\x80",
	"\xed\xbf\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
	"\xfe", "\xff", "\xc2", "\xe0\xa0", "\xf0\x90\x80", "\xc2\x41", "a\xe0\xa0\x41",
	"κόσμε\xed\xa0\x80edited", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64",
}

// prefixValid is the reference: is s the prefix of some valid UTF-8?
func prefixValid(s []byte) bool {
	for _, tail := range []string{"", "\x80", "\x80\x80", "\x80\x80\x80", "\xa0", "\xa0\x80", "\x90\x80\x80", "\x80\x80", "\x8f\x80\x80", "\x9f\x80"} {
		if utf8.Valid(append(append([]byte(nil), s...), tail...)) {
			return true
		}
	}
	return false
}

func check(t *testing.T, s []byte, pieces []int) {
	t.Helper()
	var v Validator
	off := 0
	for _, n := range pieces {
		ok := v.Write(s[off : off+n])
		off += n
		if want := prefixValid(s[:off]); ok != want {
			t.Fatalf("%q split %v: after %d bytes ok=%v, want %v", s, pieces, off, ok, want)
		}
	}
	if got, want := v.Complete(), utf8.Valid(s); got != want {
		t.Fatalf("%q split %v: Complete=%v, want %v", s, pieces, got, want)
	}
}

func TestEverySplit(t *testing.T) {
	for _, c := range cases {
		s := []byte(c)
		check(t, s, []int{len(s)})
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				check(t, s, []int{i, j - i, len(s) - j})
			}
		}
		ones := make([]int, len(s))
		for i := range ones {
			ones[i] = 1
		}
		check(t, s, ones)
	}
}

func TestRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("a\x80\xbf\xc2\xdf\xe0\xa0\xed\x9f\xef\xf0\x90\xf4\x8f\xf5\xff")
	for n := 0; n < 20000; n++ {
		s := make([]byte, r.IntN(12))
		for i := range s {
			if r.IntN(3) == 0 {
				s[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				s[i] = byte(r.Uint32())
			}
		}
		var pieces []int
		for rest := len(s); rest > 0; {
			k := 1 + r.IntN(rest)
			pieces = append(pieces, k)
			rest -= k
		}
		check(t, s, pieces)
	}
}

func FuzzValidator(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c), uint8(1))
	}
	f.Fuzz(func(t *testing.T, s []byte, step uint8) {
		n := int(step)%7 + 1
		var pieces []int
		for rest := len(s); rest > 0; rest -= min(n, rest) {
			pieces = append(pieces, min(n, rest))
		}
		check(t, s, pieces)
	})
}

func BenchmarkValidator(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		text := make([]byte, 0, size+4)
		for len(text) < size {
			text = append(text, "héllo wörld ☃ "...)
		}
		text = text[:size]
		for !utf8.Valid(text) {
			text = text[:len(text)-1]
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				var v Validator
				v.Write(text)
			}
		})
	}
}
