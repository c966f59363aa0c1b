// Package handshake holds the pure parts of the RFC 6455 section 4
// opening handshake: the accept key, header token lists and the
// Sec-WebSocket-Extensions grammar of RFC 6455 section 9.1.
package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
)

// GUID is the fixed string of RFC 6455 section 1.3.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// The handshake's header names as http.Header stores them, in the
// canonical form of textproto.CanonicalMIMEHeaderKey. Header.Get and
// Values accept any spelling, but canonicalise one that is not canonical
// already, "Sec-WebSocket-Key" say, into a new string on every call.
const (
	HeaderKey        = "Sec-Websocket-Key"
	HeaderVersion    = "Sec-Websocket-Version"
	HeaderProtocol   = "Sec-Websocket-Protocol"
	HeaderExtensions = "Sec-Websocket-Extensions"
	HeaderAccept     = "Sec-Websocket-Accept"
	HeaderOrigin8    = "Sec-Websocket-Origin" // the Origin of version 8
)

// AcceptKeyLen is the length of a Sec-WebSocket-Accept value: a SHA-1
// digest of 20 bytes in padded base64.
const AcceptKeyLen = (sha1.Size + 2) / 3 * 4

// AcceptKey returns the Sec-WebSocket-Accept value for a
// Sec-WebSocket-Key.
func AcceptKey(key string) string {
	var buf [AcceptKeyLen]byte
	return string(AppendAcceptKey(buf[:0], key))
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for a
// Sec-WebSocket-Key to dst. A key of 24 bytes, the length section 4.1
// requires, costs no allocation beyond dst's growth.
func AppendAcceptKey(dst []byte, key string) []byte {
	var in [24 + len(GUID)]byte // a longer key makes append allocate
	sum := sha1.Sum(append(append(in[:0], key...), GUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// ValidKey reports whether key is the base64 form of 16 bytes, as
// section 4.1 requires of Sec-WebSocket-Key.
func ValidKey(key string) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	return err == nil && n == 16
}

// HasToken reports whether any of the header's values, read as a comma
// separated list, holds token, compared without regard to case.
func HasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Tokens returns the comma separated tokens of every value of the header,
// trimmed, empty ones left out.
func Tokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// Param is one extension parameter. Value is empty when the parameter
// has none; HasValue tells an empty quoted value from no value.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// Extension is one element of a Sec-WebSocket-Extensions list.
type Extension struct {
	Name   string
	Params []Param
}

// ParseExtensions parses every value of Sec-WebSocket-Extensions in h. ok
// is false when a value does not follow the grammar of section 9.1.
func ParseExtensions(h http.Header) (exts []Extension, ok bool) {
	for _, v := range h.Values(HeaderExtensions) {
		p := parser{s: v}
		for {
			p.space()
			if p.done() {
				break
			}
			name := p.token()
			if name == "" {
				return nil, false
			}
			ext := Extension{Name: name}
			for {
				p.space()
				if !p.eat(';') {
					break
				}
				p.space()
				pn := p.token()
				if pn == "" {
					return nil, false
				}
				prm := Param{Name: pn}
				p.space()
				if p.eat('=') {
					p.space()
					val, ok := p.value()
					if !ok {
						return nil, false
					}
					prm.Value, prm.HasValue = val, true
				}
				ext.Params = append(ext.Params, prm)
			}
			exts = append(exts, ext)
			p.space()
			if p.done() {
				break
			}
			if !p.eat(',') {
				return nil, false
			}
		}
	}
	return exts, true
}

type parser struct {
	s string
	i int
}

func (p *parser) done() bool { return p.i >= len(p.s) }

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted string whose content is a token, as
// section 9.1 requires of extension parameter values.
func (p *parser) value() (string, bool) {
	if !p.eat('"') {
		t := p.token()
		return t, t != ""
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			t := b.String()
			return t, t != "" && strings.IndexFunc(t, func(r rune) bool { return r > 0x7f || !isTokenChar(byte(r)) }) < 0
		case c == '\\':
			if p.i >= len(p.s) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// isTokenChar reports whether c may appear in an RFC 2616 token.
func isTokenChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\\\"/[]?={}", rune(c))
}

// IsToken reports whether s is a non-empty RFC 2616 token, as a
// subprotocol name must be (RFC 6455 section 4.1).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}
