// Package utf8stream validates UTF-8 that arrives in pieces.
//
// A Validator accepts a code point split across any number of Write calls
// and reports an invalid sequence as soon as the byte that makes it invalid
// has been written, not when the text ends. This is what RFC 6455 section
// 8.1 asks of text messages that arrive in fragments.
package utf8stream

import "unicode/utf8"

// Validator is a streaming UTF-8 checker. The zero value is ready to use
// and expects the start of a text.
type Validator struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // allowed range of the next continuation byte
	bad    bool
}

// Reset prepares v for a new text.
func (v *Validator) Reset() { *v = Validator{} }

// Complete reports whether everything written so far is valid UTF-8 that
// does not end inside a code point.
func (v *Validator) Complete() bool { return !v.bad && v.need == 0 }

// Write checks p as the next bytes of the text. It returns false as soon as
// the text written so far cannot be the prefix of valid UTF-8; after that
// it keeps returning false until Reset.
func (v *Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	// Finish a code point left open by an earlier write.
	for v.need > 0 && len(p) > 0 {
		c := p[0]
		if c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		p = p[1:]
		v.need--
		v.lo, v.hi = 0x80, 0xBF
	}
	if len(p) == 0 {
		return true
	}
	// Find where the last, possibly incomplete, code point starts.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		c := p[i]
		if c < 0x80 {
			break
		}
		if c >= 0xC0 { // a leading byte
			if size := seqLen(c); size > len(p)-i {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		v.bad = true
		return false
	}
	// Check the open tail as a prefix and remember what it still needs.
	tail := p[cut:]
	if len(tail) == 0 {
		return true
	}
	lead := tail[0]
	size := seqLen(lead)
	if size == 0 {
		v.bad = true
		return false
	}
	v.lo, v.hi = secondRange(lead)
	v.need = uint8(size - 1)
	for _, c := range tail[1:] {
		if c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		v.need--
		v.lo, v.hi = 0x80, 0xBF
	}
	return true
}

// seqLen is the length of the sequence that lead starts, or 0 when lead
// cannot start one.
func seqLen(lead byte) int {
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		return 2
	case lead >= 0xE0 && lead <= 0xEF:
		return 3
	case lead >= 0xF0 && lead <= 0xF4:
		return 4
	}
	return 0
}

// secondRange is the range RFC 3629 section 4 allows for the byte after
// lead; it excludes overlong forms, surrogates and code points past
// U+10FFFF.
func secondRange(lead byte) (lo, hi byte) {
	switch lead {
	case 0xE0:
		return 0xA0, 0xBF
	case 0xED:
		return 0x80, 0x9F
	case 0xF0:
		return 0x90, 0xBF
	case 0xF4:
		return 0x80, 0x8F
	}
	return 0x80, 0xBF
}
