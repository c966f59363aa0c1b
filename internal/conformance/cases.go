//go:build !js

package conformance

// A conformance suite in the categories of the Autobahn testsuite, run by
// a raw peer (peer.go) against the library's server and the library's
// client, each echoing every message, over HTTP/1.1 (TestConformance) and
// over HTTP/2 (RunHTTP2, http2.go). Every case cites
// the section of RFC 6455 or RFC 7692 it checks, and asserts what the RFC
// requires: the echo, the exact close code, or the connection failed at
// once, with nothing more sent by the raw peer. The library's own read
// must end with the matching *ws.ProtocolError or ws.CloseError.
//
// Data cases run twice per side: with an echo loop of Read and Write
// (mode "read") and one of Reader, Writer and io.Copy (mode "stream").
// Subtests are named side/id name/mode, for example
// "TestConformance/server/6.20.1_single_surrogate_U+D800_(invalid),_fragmented_at_1/read".
//
// go test -run 'TestConformanceCounts' -v prints the number of cases per
// category and side.

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-d6ba7b20/ws"
)

// confSide is a side of the library that a run takes the cases to.
type confSide struct {
	name string // of the subtest
	bit  int    // confServerSide or confClientSide
	run  func(t *testing.T, c *confCase, mode string)
}

// confRunAll runs the cases on each side, in subtests named side/id
// name/mode; a client case whose Dial must fail has no data, and runs
// once, in side/id name.
func confRunAll(t *testing.T, cases []*confCase, sides []confSide) {
	for _, side := range sides {
		t.Run(side.name, func(t *testing.T) {
			for _, c := range cases {
				if c.sides&side.bit == 0 {
					continue
				}
				t.Run(c.title(), func(t *testing.T) {
					if side.bit == confClientSide && c.dialFail {
						side.run(t, c, "dial") // no data: one run
						return
					}
					for _, mode := range confModes {
						t.Run(mode, func(t *testing.T) { side.run(t, c, mode) })
					}
				})
			}
		})
	}
}

var confCategories = []struct{ id, name string }{
	{"1", "framing"},
	{"2", "pings and pongs"},
	{"3", "reserved bits"},
	{"4", "opcodes"},
	{"5", "fragmentation"},
	{"6", "UTF-8 handling"},
	{"7", "close handling"},
	{"9", "limits and large messages"},
	{"10", "masking and misc"},
	{"12", "permessage-deflate data"},
	{"13", "permessage-deflate negotiation"},
	{"H", "opening handshake"},
}

// confCounts returns the number of cases per category and side; over
// names the transport in the title, when it is not HTTP/1.1.
func confCounts(cases []*confCase, over string) string {
	var b strings.Builder
	var ts, tc, runs int
	fmt.Fprintf(&b, "conformance cases%s per category (server / client):\n", over)
	for _, cat := range confCategories {
		var s, c int
		for _, k := range cases {
			if k.cat != cat.id {
				continue
			}
			if k.sides&confServerSide != 0 {
				s++
				runs += len(confModes)
			}
			if k.sides&confClientSide != 0 {
				c++
				if k.dialFail {
					runs++
				} else {
					runs += len(confModes)
				}
			}
		}
		ts, tc = ts+s, tc+c
		fmt.Fprintf(&b, "  %-3s %-32s %4d / %4d\n", cat.id, cat.name, s, c)
	}
	fmt.Fprintf(&b, "  total %34d / %4d cases, %d runs (data cases run with a Read/Write and a Reader/Writer echo)", ts, tc, runs)
	return b.String()
}

// confCases builds every table and checks that names are unique.
func confCases(t *testing.T) []*confCase {
	var all []*confCase
	for _, f := range []func() []*confCase{
		confFraming, confPings, confReservedBits, confOpcodes, confFragmentation,
		confUTF8Cases, confClose, confLimits, confMisc, confDeflateData,
		confNegotiationServer, confNegotiationClient, confHandshakeServer, confHandshakeClient,
	} {
		all = append(all, f()...)
	}
	seen := map[string]bool{}
	for _, c := range all {
		if c.sides == 0 || c.cat == "" || c.ref == "" {
			t.Fatalf("case %q lacks sides, category or reference", c.title())
		}
		for _, side := range []int{confServerSide, confClientSide} {
			if c.sides&side == 0 {
				continue
			}
			key := fmt.Sprint(side, c.title())
			if seen[key] {
				t.Fatalf("case %q twice", c.title())
			}
			seen[key] = true
		}
	}
	return all
}

// confNew returns a case for both sides.
func confNew(cat, id, name, ref string, build func(s *confScript)) *confCase {
	return &confCase{cat: cat, id: id, name: name, ref: ref, sides: confBothSides, build: build}
}

func confKind(op byte) string {
	if op == confOpText {
		return "text"
	}
	return "binary"
}

func confPayload(op byte, n int) []byte {
	if op == confOpText {
		return confText(n)
	}
	return confBin(n)
}

// ---------------------------------------------------------------------
// 1 Framing.

func confFraming() []*confCase {
	var cs []*confCase
	sizes := []int{0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 131072}
	for ti, op := range []byte{confOpText, confOpBin} {
		for si, n := range sizes {
			id := fmt.Sprintf("1.%d.%d", ti+1, si+1)
			ref := "RFC 6455 5.2, 5.6"
			base := fmt.Sprintf("%s message of %d bytes", confKind(op), n)
			chopName := "byte by byte"
			if n > 128 {
				chopName = "header byte by byte, payload in 997-byte writes"
			}
			cs = append(cs,
				confNew("1", id, base+", one write", ref, func(s *confScript) {
					s.echo(op, confPayload(op, n))
				}),
				confNew("1", id, base+", "+chopName, ref, func(s *confScript) {
					p := confPayload(op, n)
					f := s.fr(true, 0, op, p)
					if n <= 128 {
						s.sendChopped(1, 0, f)
					} else {
						s.sendSplit(f, 997)
					}
					s.expect(op, p)
				}),
				confNew("1", id, base+", then another message in the same write", ref, func(s *confScript) {
					p := confPayload(op, n)
					s.send(s.fr(true, 0, op, p), s.fr(true, 0, op, []byte("next")))
					s.expect(op, p)
					s.expect(op, []byte("next"))
				}),
			)
		}
	}
	cs = append(cs,
		confNew("1", "1.3.1", "binary message of every byte value, masked with varying keys", "RFC 6455 5.3, 5.6", func(s *confScript) {
			p := make([]byte, 256*4)
			for i := range p {
				p[i] = byte(i)
			}
			for i := 0; i < 4; i++ {
				s.echo(confOpBin, p[i:])
			}
		}),
		confNew("1", "1.3.2", "text message of 4-byte characters only", "RFC 6455 5.6", func(s *confScript) {
			s.echo(confOpText, bytes.Repeat([]byte("𝄞"), 1000))
		}),
		confNew("1", "1.4.1", "64-bit length with the most significant bit set", "RFC 6455 5.2, 7.4.1", func(s *confScript) {
			h := []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 5}
			if s.client {
				h[1] |= 0x80
				h = append(h, 1, 2, 3, 4)
			}
			s.send(append(h, 1, 2, 3, 4, 5))
			s.failWith(1002)
		}),
		confNew("1", "1.3.3", "100 messages in one write", "RFC 6455 5.2", func(s *confScript) {
			var frames [][]byte
			for i := 0; i < 100; i++ {
				frames = append(frames, s.fr(true, 0, confOpText, []byte(fmt.Sprintf("message %d", i))))
			}
			s.send(frames...)
			for i := 0; i < 100; i++ {
				s.expect(confOpText, []byte(fmt.Sprintf("message %d", i)))
			}
		}),
	)
	return cs
}

// ---------------------------------------------------------------------
// 2 Pings and pongs.

func confPings() []*confCase {
	c := func(id, name, ref string, build func(s *confScript)) *confCase {
		return confNew("2", id, name, ref, build)
	}
	const ref = "RFC 6455 5.5.2, 5.5.3"
	pingPong := func(p []byte) func(s *confScript) {
		return func(s *confScript) { s.ping(p); s.expectPong(p) }
	}
	tenPings := func(s *confScript) ([][]byte, [][]byte) {
		var frames, payloads [][]byte
		for i := 0; i < 10; i++ {
			p := []byte(fmt.Sprintf("payload-%d", i))
			payloads = append(payloads, p)
			frames = append(frames, s.fr(true, 0, confOpPing, p))
		}
		return frames, payloads
	}
	cs := []*confCase{
		c("2.1", "ping without payload", ref, pingPong(nil)),
		c("2.2", "ping with a text payload", ref, pingPong([]byte("Hello, world!"))),
		c("2.3", "ping with a binary payload", ref, pingPong([]byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"))),
		c("2.4", "ping with a 125-byte payload", ref, pingPong(bytes.Repeat([]byte{0xfe}, 125))),
		c("2.5", "ping with a 126-byte payload", "RFC 6455 5.5", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPing, bytes.Repeat([]byte{0xfe}, 126)))
			s.failWith(1002)
		}),
		c("2.6", "ping with a 125-byte payload, byte by byte", ref, func(s *confScript) {
			p := bytes.Repeat([]byte{0xfe}, 125)
			s.sendChopped(1, 0, s.fr(true, 0, confOpPing, p))
			s.expectPong(p)
		}),
		c("2.7", "unsolicited pong without payload", "RFC 6455 5.5.3", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPong, nil))
			s.echo(confOpText, []byte("after the pong"))
		}),
		c("2.8", "unsolicited pong with payload", "RFC 6455 5.5.3", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPong, []byte("unsolicited pong payload")))
			s.echo(confOpText, []byte("after the pong"))
		}),
		c("2.9", "unsolicited pong, then ping", "RFC 6455 5.5.3", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPong, []byte("unsolicited pong payload")))
			s.ping([]byte("ping payload"))
			s.expectPong([]byte("ping payload"))
		}),
		c("2.10", "10 pings in one write", ref, func(s *confScript) {
			frames, payloads := tenPings(s)
			s.send(frames...)
			s.expectPongs(payloads)
		}),
		c("2.11", "10 pings, byte by byte", ref, func(s *confScript) {
			frames, payloads := tenPings(s)
			s.sendChopped(1, 0, frames...)
			s.expectPongs(payloads)
		}),
		c("2.12", "ping with a payload that is not UTF-8", ref, pingPong([]byte("\xff\xfe\xed\xa0\x80\xc0\xaf"))),
		c("2.13", "ping, then close in the same write", "RFC 6455 5.5.1, 5.5.2", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPing, []byte("before close")), s.fr(true, 0, confOpClose, confClosePayload(1000, "")))
			s.expectPong([]byte("before close"))
			s.expectCloseAfterSent(1000, "")
		}),
		c("2.14", "text, ping, text in one write", ref, func(s *confScript) {
			s.send(s.fr(true, 0, confOpText, []byte("one")), s.fr(true, 0, confOpPing, []byte("p")), s.fr(true, 0, confOpText, []byte("two")))
			s.expect(confOpText, []byte("one"))
			s.expectPong([]byte("p"))
			s.expect(confOpText, []byte("two"))
		}),
		c("2.15", "pong with a 126-byte payload", "RFC 6455 5.5", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPong, bytes.Repeat([]byte{0xfe}, 126)))
			s.failWith(1002)
		}),
		c("2.16", "ping with a 16-bit length of 65535", "RFC 6455 5.5", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPing, make([]byte, 65535)))
			s.failWith(1002)
		}),
		c("2.17", "ping with a 64-bit length of 65536", "RFC 6455 5.5", func(s *confScript) {
			s.send(s.fr(true, 0, confOpPing, make([]byte, 65536)))
			s.failWith(1002)
		}),
		c("2.18", "ping after a 64 KiB message in the same write", ref, func(s *confScript) {
			p := confBin(65536)
			s.send(s.fr(true, 0, confOpBin, p), s.fr(true, 0, confOpPing, []byte("after")))
			s.expect(confOpBin, p)
			s.expectPong([]byte("after"))
		}),
	}
	for i, n := range []int{0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 100, 124, 125} {
		cs = append(cs, c(fmt.Sprintf("2.19.%d", i+1), fmt.Sprintf("ping with a %d-byte binary payload", n), ref, pingPong(confBin(n))))
	}
	return cs
}

// ---------------------------------------------------------------------
// 3 Reserved bits.

func confRSVName(rsv byte) string {
	var parts []string
	for i, b := range []byte{confRSV1, confRSV2, confRSV3} {
		if rsv&b != 0 {
			parts = append(parts, fmt.Sprintf("RSV%d", i+1))
		}
	}
	return strings.Join(parts, "+")
}

func confReservedBits() []*confCase {
	const ref = "RFC 6455 5.2"
	rsvs := []byte{confRSV1, confRSV2, confRSV3, confRSV1 | confRSV2, confRSV1 | confRSV3, confRSV2 | confRSV3, confRSV1 | confRSV2 | confRSV3}
	kinds := []struct {
		name   string
		frames func(s *confScript, rsv byte) [][]byte
	}{
		{"text", func(s *confScript, rsv byte) [][]byte { return [][]byte{s.fr(true, rsv, confOpText, []byte("Hello"))} }},
		{"binary", func(s *confScript, rsv byte) [][]byte { return [][]byte{s.fr(true, rsv, confOpBin, confBin(16))} }},
		{"ping", func(s *confScript, rsv byte) [][]byte { return [][]byte{s.fr(true, rsv, confOpPing, []byte("Hello"))} }},
		{"pong", func(s *confScript, rsv byte) [][]byte { return [][]byte{s.fr(true, rsv, confOpPong, []byte("Hello"))} }},
		{"close", func(s *confScript, rsv byte) [][]byte {
			return [][]byte{s.fr(true, rsv, confOpClose, confClosePayload(1000, ""))}
		}},
		{"continuation", func(s *confScript, rsv byte) [][]byte {
			return [][]byte{s.fr(false, 0, confOpText, []byte("frag")), s.fr(true, rsv, confOpCont, []byte("ment"))}
		}},
	}
	var cs []*confCase
	for ri, rsv := range rsvs {
		for ki, k := range kinds {
			for vi, after := range []bool{false, true} {
				name := fmt.Sprintf("%s on a %s frame", confRSVName(rsv), k.name)
				if after {
					name += ", after a valid message"
				}
				cs = append(cs, confNew("3", fmt.Sprintf("3.%d.%d", ri+1, ki*2+vi+1), name, ref, func(s *confScript) {
					if after {
						s.echo(confOpText, []byte("valid"))
					}
					s.send(k.frames(s, rsv)...)
					s.failWith(1002)
				}))
			}
		}
		cs = append(cs, confNew("3", fmt.Sprintf("3.%d.%d", ri+1, 2*len(kinds)+1),
			fmt.Sprintf("%s on a text frame after a message and a ping, byte by byte", confRSVName(rsv)), ref, func(s *confScript) {
				s.echo(confOpText, []byte("valid"))
				s.ping([]byte("ping"))
				s.expectPong([]byte("ping"))
				s.sendChopped(1, 0, s.fr(true, rsv, confOpText, []byte("Hello")))
				s.failWith(1002)
			}))
	}
	return cs
}

// ---------------------------------------------------------------------
// 4 Opcodes.

func confOpcodes() []*confCase {
	const ref = "RFC 6455 5.2"
	var cs []*confCase
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		group := 1
		kind := "non-control"
		if op >= 8 {
			group, kind = 2, "control"
		}
		id := fmt.Sprintf("4.%d.%d", group, op)
		cs = append(cs,
			confNew("4", id, fmt.Sprintf("reserved %s opcode %d, empty", kind, op), ref, func(s *confScript) {
				s.send(s.fr(true, 0, op, nil))
				s.failWith(1002)
			}),
			confNew("4", id, fmt.Sprintf("reserved %s opcode %d with payload, after a valid message", kind, op), ref, func(s *confScript) {
				s.echo(confOpText, []byte("valid"))
				s.send(s.fr(true, 0, op, []byte("reserved")))
				s.failWith(1002)
			}),
			confNew("4", id, fmt.Sprintf("reserved %s opcode %d with payload, after a message and a ping", kind, op), ref, func(s *confScript) {
				s.echo(confOpText, []byte("valid"))
				s.ping([]byte("ping"))
				s.expectPong([]byte("ping"))
				s.send(s.fr(true, 0, op, []byte("reserved")))
				s.failWith(1002)
			}),
			confNew("4", id, fmt.Sprintf("reserved %s opcode %d inside a fragmented message", kind, op), ref, func(s *confScript) {
				s.send(s.fr(false, 0, confOpText, []byte("frag")), s.fr(true, 0, op, []byte("reserved")))
				s.failWith(1002)
			}),
			confNew("4", id, fmt.Sprintf("reserved %s opcode %d without FIN, byte by byte", kind, op), ref, func(s *confScript) {
				s.sendChopped(1, 0, s.fr(false, 0, op, []byte("reserved")))
				s.failWith(1002)
			}),
		)
	}
	return cs
}

// ---------------------------------------------------------------------
// 5 Fragmentation.

func confFragmentation() []*confCase {
	const ref = "RFC 6455 5.4"
	c := func(id, name, ref string, build func(s *confScript)) *confCase {
		return confNew("5", id, name, ref, build)
	}
	two := func(s *confScript) ([]byte, []byte) {
		return s.fr(false, 0, confOpText, []byte("fragment1")), s.fr(true, 0, confOpCont, []byte("fragment2"))
	}
	whole := []byte("fragment1fragment2")
	withPing := func(s *confScript) [][]byte {
		f1, f2 := two(s)
		return [][]byte{f1, s.fr(true, 0, confOpPing, []byte("between")), f2}
	}
	fivePings := func(chop int) func(s *confScript) {
		return func(s *confScript) {
			var frames [][]byte
			for i := 1; i <= 5; i++ {
				op := confOpCont
				if i == 1 {
					op = confOpText
				}
				frames = append(frames, s.fr(i == 5, 0, op, []byte(fmt.Sprintf("fragment%d", i))))
			}
			p1, p2 := []byte("pongme 1!"), []byte("pongme 2!")
			s.sendChopped(chop, 0, frames[0], frames[1], s.fr(true, 0, confOpPing, p1))
			s.expectPong(p1)
			s.sync()
			s.sendChopped(chop, 0, frames[2], frames[3], s.fr(true, 0, confOpPing, p2))
			s.expectPong(p2)
			s.sync()
			s.sendChopped(chop, 0, frames[4])
			s.expect(confOpText, []byte("fragment1fragment2fragment3fragment4fragment5"))
		}
	}
	cs := []*confCase{
		c("5.1", "ping in 2 fragments", "RFC 6455 5.4, 5.5", func(s *confScript) {
			s.send(s.fr(false, 0, confOpPing, []byte("fragment1")), s.fr(true, 0, confOpCont, []byte("fragment2")))
			s.failWith(1002)
		}),
		c("5.2", "pong in 2 fragments", "RFC 6455 5.4, 5.5", func(s *confScript) {
			s.send(s.fr(false, 0, confOpPong, []byte("fragment1")), s.fr(true, 0, confOpCont, []byte("fragment2")))
			s.failWith(1002)
		}),
		c("5.3", "close in 2 fragments", "RFC 6455 5.4, 5.5", func(s *confScript) {
			s.send(s.fr(false, 0, confOpClose, confClosePayload(1000, "frag")), s.fr(true, 0, confOpCont, []byte("ment")))
			s.failWith(1002)
		}),
		c("5.4", "text in 2 fragments", ref, func(s *confScript) {
			f1, f2 := two(s)
			s.send(f1, f2)
			s.expect(confOpText, whole)
		}),
		c("5.5", "text in 2 fragments, 10 ms apart", ref, func(s *confScript) {
			f1, f2 := two(s)
			s.send(f1)
			s.pause(10 * time.Millisecond)
			s.send(f2)
			s.expect(confOpText, whole)
		}),
		c("5.6", "text in 2 fragments, byte by byte", ref, func(s *confScript) {
			f1, f2 := two(s)
			s.sendChopped(1, 0, f1, f2)
			s.expect(confOpText, whole)
		}),
		c("5.7", "text in 2 fragments with a ping between", ref, func(s *confScript) {
			s.send(withPing(s)...)
			s.expectPong([]byte("between"))
			s.expect(confOpText, whole)
		}),
		c("5.8", "text in 2 fragments with a ping between, byte by byte", ref, func(s *confScript) {
			s.sendChopped(1, 0, withPing(s)...)
			s.expectPong([]byte("between"))
			s.expect(confOpText, whole)
		}),
		c("5.9", "text in 2 fragments with a ping between, frames 10 ms apart", ref, func(s *confScript) {
			for i, f := range withPing(s) {
				if i > 0 {
					s.pause(10 * time.Millisecond)
				}
				s.send(f)
			}
			s.expectPong([]byte("between"))
			s.expect(confOpText, whole)
		}),
		c("5.10", "continuation with FIN and nothing to continue", ref, func(s *confScript) {
			s.send(s.fr(true, 0, confOpCont, []byte("non-continuation payload")))
			s.failWith(1002)
		}),
		c("5.11", "continuation with FIN and nothing to continue, byte by byte", ref, func(s *confScript) {
			s.sendChopped(1, 0, s.fr(true, 0, confOpCont, []byte("non-continuation payload")))
			s.failWith(1002)
		}),
		c("5.12", "continuation without FIN and nothing to continue", ref, func(s *confScript) {
			s.send(s.fr(false, 0, confOpCont, []byte("non-continuation payload")))
			s.failWith(1002)
		}),
		c("5.13", "continuation without FIN and nothing to continue, byte by byte", ref, func(s *confScript) {
			s.sendChopped(1, 0, s.fr(false, 0, confOpCont, []byte("non-continuation payload")))
			s.failWith(1002)
		}),
		c("5.14", "text in 2 fragments, then a continuation with nothing to continue, then text", ref, func(s *confScript) {
			f1, f2 := two(s)
			s.send(f1, f2, s.fr(false, 0, confOpCont, []byte("fragment3")), s.fr(true, 0, confOpText, []byte("text")))
			s.expect(confOpText, whole)
			s.failWith(1002)
		}),
		c("5.15", "twice: a continuation without FIN and nothing to continue, then text in 2 fragments", ref, func(s *confScript) {
			var frames [][]byte
			for i := 0; i < 2; i++ {
				f1, f2 := two(s)
				frames = append(frames, s.fr(false, 0, confOpCont, []byte("fragment1")), f1, f2)
			}
			s.send(frames...)
			s.failWith(1002)
		}),
		c("5.16", "twice: a continuation with FIN and nothing to continue, then text in 2 fragments", ref, func(s *confScript) {
			var frames [][]byte
			for i := 0; i < 2; i++ {
				f1, f2 := two(s)
				frames = append(frames, s.fr(true, 0, confOpCont, []byte("fragment1")), f1, f2)
			}
			s.send(frames...)
			s.failWith(1002)
		}),
		c("5.17", "text in 2 fragments, both with the text opcode", ref, func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("fragment1")), s.fr(true, 0, confOpText, []byte("fragment2")))
			s.failWith(1002)
		}),
		c("5.18", "text started, then a whole binary message", ref, func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("fragment1")), s.fr(true, 0, confOpBin, []byte("binary")))
			s.failWith(1002)
		}),
		c("5.19", "binary started, then a whole binary message", ref, func(s *confScript) {
			s.send(s.fr(false, 0, confOpBin, []byte("fragment1")), s.fr(true, 0, confOpBin, []byte("binary")))
			s.failWith(1002)
		}),
		c("5.20", "text started, then another text message started", ref, func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("fragment1")), s.fr(false, 0, confOpText, []byte("fragment2")))
			s.failWith(1002)
		}),
		c("5.21", "text in 5 fragments, pings after the 2nd and 4th, each pong awaited", "RFC 6455 5.4, 5.5.2", fivePings(0)),
		c("5.22", "text in 5 fragments, pings after the 2nd and 4th, each pong awaited, byte by byte", "RFC 6455 5.4, 5.5.2", fivePings(1)),
		c("5.23", "text in 10 fragments, a ping after each but the last", "RFC 6455 5.4, 5.5.2", func(s *confScript) {
			var frames, pings [][]byte
			data := confText(200)
			for i := 0; i < 10; i++ {
				op := confOpCont
				if i == 0 {
					op = confOpText
				}
				frames = append(frames, s.fr(i == 9, 0, op, data[i*20:(i+1)*20]))
				if i < 9 {
					p := []byte(fmt.Sprintf("ping %d", i))
					pings = append(pings, p)
					frames = append(frames, s.fr(true, 0, confOpPing, p))
				}
			}
			s.send(frames...)
			s.expectPongs(pings)
			s.expect(confOpText, data)
		}),
		c("5.24", "binary in 2 fragments with an unsolicited pong between", "RFC 6455 5.4, 5.5.3", func(s *confScript) {
			s.send(s.fr(false, 0, confOpBin, confBin(10)), s.fr(true, 0, confOpPong, []byte("unsolicited")), s.fr(true, 0, confOpCont, confBin(20)[10:]))
			s.expect(confOpBin, confBin(20))
		}),
		c("5.25", "text in fragments of 125, 126, 65535 and 65536 bytes (every length encoding)", "RFC 6455 5.2, 5.4", func(s *confScript) {
			data := confText(125 + 126 + 65535 + 65536)
			s.send(s.fr(false, 0, confOpText, data[:125]), s.fr(false, 0, confOpCont, data[125:251]),
				s.fr(false, 0, confOpCont, data[251:251+65535]), s.fr(true, 0, confOpCont, data[251+65535:]))
			s.expect(confOpText, data)
		}),
		c("5.26", "text fragmented inside multi-byte characters with a ping between", "RFC 6455 5.4, 5.6", func(s *confScript) {
			data := []byte("κόσμε𝄞")
			s.send(s.fr(false, 0, confOpText, data[:1]), s.fr(true, 0, confOpPing, nil), s.fr(false, 0, confOpCont, data[1:12]), s.fr(true, 0, confOpCont, data[12:]))
			s.expectPong(nil)
			s.expect(confOpText, data)
		}),
	}
	for ti, op := range []byte{confOpText, confOpBin} {
		for ni, n := range []int{1, 2, 3, 4, 10, 100, 1000} {
			cs = append(cs, c(fmt.Sprintf("5.%d.%d", 27+ti, ni+1), fmt.Sprintf("%s in %d fragments", confKind(op), n), ref, func(s *confScript) {
				data := confPayload(op, 10*n+5)
				s.send(s.fragments(op, data, 10)...)
				s.expect(op, data)
			}))
		}
		empties := []struct {
			name string
			do   func(s *confScript) ([][]byte, []byte)
		}{
			{"empty first fragment", func(s *confScript) ([][]byte, []byte) {
				d := confPayload(op, 20)
				return [][]byte{s.fr(false, 0, op, nil), s.fr(true, 0, confOpCont, d)}, d
			}},
			{"empty last fragment", func(s *confScript) ([][]byte, []byte) {
				d := confPayload(op, 20)
				return [][]byte{s.fr(false, 0, op, d), s.fr(true, 0, confOpCont, nil)}, d
			}},
			{"empty middle fragments", func(s *confScript) ([][]byte, []byte) {
				d := confPayload(op, 20)
				return [][]byte{s.fr(false, 0, op, d[:10]), s.fr(false, 0, confOpCont, nil), s.fr(false, 0, confOpCont, nil), s.fr(true, 0, confOpCont, d[10:])}, d
			}},
			{"every fragment empty", func(s *confScript) ([][]byte, []byte) {
				return [][]byte{s.fr(false, 0, op, nil), s.fr(false, 0, confOpCont, nil), s.fr(true, 0, confOpCont, nil)}, []byte{}
			}},
		}
		for ei, e := range empties {
			cs = append(cs, c(fmt.Sprintf("5.%d.%d", 29+ti, ei+1), fmt.Sprintf("%s, %s", confKind(op), e.name), ref, func(s *confScript) {
				frames, d := e.do(s)
				s.send(frames...)
				s.expect(op, d)
			}))
		}
	}
	return cs
}

// ---------------------------------------------------------------------
// 6 UTF-8 handling.

type confSeq struct{ id, name, b string }

func confUTF8Seqs() []confSeq {
	seqs := []confSeq{
		{"6.2.1", "Hello-µ@ßöäüàá-UTF-8!!", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"},
		{"6.3.1", "κόσμε with a surrogate U+D800 before 'edited'", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"},
		{"6.5.1", "κόσμε", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},
		{"6.7.1", "first 1-byte U+0000", "\x00"},
		{"6.7.2", "first 2-byte U+0080", "\xc2\x80"},
		{"6.7.3", "first 3-byte U+0800", "\xe0\xa0\x80"},
		{"6.7.4", "first 4-byte U+10000", "\xf0\x90\x80\x80"},
		{"6.8.1", "5-byte sequence", "\xf8\x88\x80\x80\x80"},
		{"6.8.2", "6-byte sequence", "\xfc\x84\x80\x80\x80\x80"},
		{"6.9.1", "last 1-byte U+007F", "\x7f"},
		{"6.9.2", "last 2-byte U+07FF", "\xdf\xbf"},
		{"6.9.3", "last 3-byte U+FFFF", "\xef\xbf\xbf"},
		{"6.9.4", "last code point U+10FFFF", "\xf4\x8f\xbf\xbf"},
		{"6.10.1", "4-byte U+1FFFFF beyond U+10FFFF", "\xf7\xbf\xbf\xbf"},
		{"6.10.2", "last 5-byte sequence", "\xfb\xbf\xbf\xbf\xbf"},
		{"6.10.3", "last 6-byte sequence", "\xfd\xbf\xbf\xbf\xbf\xbf"},
		{"6.11.1", "U+D7FF before the surrogates", "\xed\x9f\xbf"},
		{"6.11.2", "U+E000 after the surrogates", "\xee\x80\x80"},
		{"6.11.3", "U+FFFD", "\xef\xbf\xbd"},
		{"6.11.4", "U+10FFFF", "\xf4\x8f\xbf\xbf"},
		{"6.11.5", "U+110000 beyond U+10FFFF", "\xf4\x90\x80\x80"},
		{"6.12.1", "continuation byte 0x80", "\x80"},
		{"6.12.2", "continuation byte 0xBF", "\xbf"},
		{"6.12.3", "2 continuation bytes", "\x80\xbf"},
		{"6.12.4", "3 continuation bytes", "\x80\xbf\x80"},
		{"6.12.5", "4 continuation bytes", "\x80\xbf\x80\xbf"},
		{"6.12.6", "5 continuation bytes", "\x80\xbf\x80\xbf\x80"},
		{"6.12.7", "6 continuation bytes", "\x80\xbf\x80\xbf\x80\xbf"},
		{"6.14.1", "2-byte sequence without its last byte (0xC0)", "\xc0"},
		{"6.14.2", "3-byte sequence without its last byte (0xE0 0x80)", "\xe0\x80"},
		{"6.14.3", "4-byte sequence without its last byte (0xF0 0x80 0x80)", "\xf0\x80\x80"},
		{"6.14.4", "5-byte sequence without its last byte", "\xf8\x80\x80\x80"},
		{"6.14.5", "6-byte sequence without its last byte", "\xfc\x80\x80\x80\x80"},
		{"6.14.6", "2-byte sequence without its last byte (0xDF)", "\xdf"},
		{"6.14.7", "3-byte sequence without its last byte (0xEF 0xBF)", "\xef\xbf"},
		{"6.14.8", "4-byte sequence without its last byte (0xF7 0xBF 0xBF)", "\xf7\xbf\xbf"},
		{"6.14.9", "truncated 2-byte κ", "\xce"},
		{"6.14.10", "truncated 3-byte €", "\xe2\x82"},
		{"6.14.11", "truncated 4-byte U+1D11E", "\xf0\x9d\x84"},
		{"6.14.12", "text ending in a truncated 4-byte character", "Hello \xf0\x9d\x84"},
		{"6.15.1", "the sequences of 6.14 concatenated", "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"},
		{"6.16.1", "impossible byte 0xFE", "\xfe"},
		{"6.16.2", "impossible byte 0xFF", "\xff"},
		{"6.16.3", "impossible bytes 0xFE 0xFE 0xFF 0xFF", "\xfe\xfe\xff\xff"},
		{"6.17.1", "overlong '/' in 2 bytes", "\xc0\xaf"},
		{"6.17.2", "overlong '/' in 3 bytes", "\xe0\x80\xaf"},
		{"6.17.3", "overlong '/' in 4 bytes", "\xf0\x80\x80\xaf"},
		{"6.17.4", "overlong '/' in 5 bytes", "\xf8\x80\x80\x80\xaf"},
		{"6.17.5", "overlong '/' in 6 bytes", "\xfc\x80\x80\x80\x80\xaf"},
		{"6.18.1", "maximum overlong 2-byte U+007F", "\xc1\xbf"},
		{"6.18.2", "maximum overlong 3-byte U+07FF", "\xe0\x9f\xbf"},
		{"6.18.3", "maximum overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf"},
		{"6.18.4", "maximum overlong 5-byte", "\xf8\x87\xbf\xbf\xbf"},
		{"6.18.5", "maximum overlong 6-byte", "\xfc\x83\xbf\xbf\xbf\xbf"},
		{"6.19.1", "overlong NUL in 2 bytes", "\xc0\x80"},
		{"6.19.2", "overlong NUL in 3 bytes", "\xe0\x80\x80"},
		{"6.19.3", "overlong NUL in 4 bytes", "\xf0\x80\x80\x80"},
		{"6.19.4", "overlong NUL in 5 bytes", "\xf8\x80\x80\x80\x80"},
		{"6.19.5", "overlong NUL in 6 bytes", "\xfc\x80\x80\x80\x80\x80"},
		{"6.20.1", "single surrogate U+D800", "\xed\xa0\x80"},
		{"6.20.2", "single surrogate U+DB7F", "\xed\xad\xbf"},
		{"6.20.3", "single surrogate U+DB80", "\xed\xae\x80"},
		{"6.20.4", "single surrogate U+DBFF", "\xed\xaf\xbf"},
		{"6.20.5", "single surrogate U+DC00", "\xed\xb0\x80"},
		{"6.20.6", "single surrogate U+DF80", "\xed\xbe\x80"},
		{"6.20.7", "single surrogate U+DFFF", "\xed\xbf\xbf"},
		{"6.21.1", "surrogate pair U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80"},
		{"6.21.2", "surrogate pair U+D800 U+DFFF", "\xed\xa0\x80\xed\xbf\xbf"},
		{"6.21.3", "surrogate pair U+DB7F U+DC00", "\xed\xad\xbf\xed\xb0\x80"},
		{"6.21.4", "surrogate pair U+DB7F U+DFFF", "\xed\xad\xbf\xed\xbf\xbf"},
		{"6.21.5", "surrogate pair U+DB80 U+DC00", "\xed\xae\x80\xed\xb0\x80"},
		{"6.21.6", "surrogate pair U+DB80 U+DFFF", "\xed\xae\x80\xed\xbf\xbf"},
		{"6.21.7", "surrogate pair U+DBFF U+DC00", "\xed\xaf\xbf\xed\xb0\x80"},
		{"6.21.8", "surrogate pair U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf"},
		{"6.23.1", "U+FFFD twice", "\xef\xbf\xbd\xef\xbf\xbd"},
		{"6.23.2", "text with U+FFFD inside", "a\xef\xbf\xbdb"},
		{"6.23.3", "U+0000 inside text", "a\x00b"},
		{"6.24.1", "200 valid bytes, then 0xFF", strings.Repeat("x", 200) + "\xff"},
		{"6.24.2", "a surrogate after 100 valid characters", strings.Repeat("κ", 100) + "\xed\xa0\x80"},
	}
	// 6.6: every prefix of κόσμε.
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	for i := 1; i <= len(kosme); i++ {
		seqs = append(seqs, confSeq{fmt.Sprintf("6.6.%d", i), fmt.Sprintf("the first %d bytes of κόσμε", i), kosme[:i]})
	}
	// 6.12.8: every continuation byte.
	var b strings.Builder
	for c := 0x80; c <= 0xBF; c++ {
		b.WriteByte(byte(c))
	}
	seqs = append(seqs, confSeq{"6.12.8", "all 64 continuation bytes", b.String()})
	// 6.13: lonely start bytes, each followed by a space.
	for i, r := range [][2]int{{0xC0, 0xDF}, {0xE0, 0xEF}, {0xF0, 0xF7}, {0xF8, 0xFB}, {0xFC, 0xFD}} {
		var b strings.Builder
		for c := r[0]; c <= r[1]; c++ {
			b.WriteByte(byte(c))
			b.WriteByte(' ')
		}
		seqs = append(seqs, confSeq{fmt.Sprintf("6.13.%d", i+1), fmt.Sprintf("lonely start bytes %#X to %#X, each followed by a space", r[0], r[1]), b.String()})
	}
	// 6.22: noncharacters are valid UTF-8.
	n := 0
	for plane := 0; plane <= 16; plane++ {
		for _, low := range []rune{0xFFFE, 0xFFFF} {
			n++
			r := rune(plane)<<16 | low
			seqs = append(seqs, confSeq{fmt.Sprintf("6.22.%d", n), fmt.Sprintf("noncharacter U+%04X", r), string(r)})
		}
	}
	for _, r := range []rune{0xFDD0, 0xFDEF} {
		n++
		seqs = append(seqs, confSeq{fmt.Sprintf("6.22.%d", n), fmt.Sprintf("noncharacter U+%04X", r), string(r)})
	}
	return seqs
}

func confUTF8Cases() []*confCase {
	const ref = "RFC 6455 5.6, 8.1"
	c := func(id, name string, build func(s *confScript)) *confCase { return confNew("6", id, name, ref, build) }
	kosme := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
	cs := []*confCase{
		c("6.1.1", "empty text message", func(s *confScript) { s.echo(confOpText, []byte{}) }),
		c("6.1.2", "empty text message in 3 empty fragments", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, nil), s.fr(false, 0, confOpCont, nil), s.fr(true, 0, confOpCont, nil))
			s.expect(confOpText, []byte{})
		}),
		c("6.1.3", "text in 3 fragments, the first and last empty", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, nil), s.fr(false, 0, confOpCont, []byte("middle")), s.fr(true, 0, confOpCont, nil))
			s.expect(confOpText, []byte("middle"))
		}),
		// 6.4: fail fast. The raw peer never sends what follows the invalid
		// byte, so the library must fail the connection on that byte.
		c("6.4.1", "invalid code point in the 2nd of 3 fragments, the 3rd never sent (fail fast)", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, kosme))
			s.pause(20 * time.Millisecond)
			s.send(s.fr(false, 0, confOpCont, []byte("\xf4\x90\x80\x80")))
			s.failWith(1007)
		}),
		c("6.4.2", "invalid byte starting the 2nd of 3 fragments, the 3rd never sent (fail fast)", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, append(bytes.Clone(kosme), 0xf4)))
			s.pause(20 * time.Millisecond)
			s.send(s.fr(false, 0, confOpCont, []byte("\x90")))
			s.failWith(1007)
		}),
		c("6.4.3", "invalid code point in one frame whose rest is never sent (fail fast)", func(s *confScript) {
			f := s.fr(true, 0, confOpText, append(append(bytes.Clone(kosme), "\xf4\x90\x80\x80"...), "edited"...))
			h := confHeaderLen(f)
			s.send(f[:h+len(kosme)])
			s.pause(20 * time.Millisecond)
			s.send(f[h+len(kosme) : h+len(kosme)+4])
			s.failWith(1007)
		}),
		c("6.4.4", "invalid byte in one frame whose rest is never sent, byte by byte (fail fast)", func(s *confScript) {
			f := s.fr(true, 0, confOpText, append(append(bytes.Clone(kosme), "\xf4\x90\x80\x80"...), "edited"...))
			h := confHeaderLen(f)
			s.sendChopped(1, 0, f[:h+len(kosme)+2])
			s.failWith(1007)
		}),
		c("6.4.5", "0xFF at byte 10 of the first fragment of a 1 MiB message (fail fast)", func(s *confScript) {
			p := confText(1 << 20)
			p[10] = 0xff
			s.send(s.fr(false, 0, confOpText, p[:64<<10]))
			s.failWith(1007)
		}),
		c("6.4.6", "0xFF at byte 10 of a 1 MiB frame of which only 1 KiB is sent (fail fast)", func(s *confScript) {
			p := confText(1 << 20)
			p[10] = 0xff
			f := s.fr(true, 0, confOpText, p)
			s.send(f[:confHeaderLen(f)+1024])
			s.failWith(1007)
		}),
		c("6.25.1", "κ split by an empty fragment", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("\xce")), s.fr(false, 0, confOpCont, nil), s.fr(true, 0, confOpCont, []byte("\xba")))
			s.expect(confOpText, []byte("κ"))
		}),
		c("6.25.2", "a 4-byte character split by empty fragments and a ping", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("\xf0\x9d")), s.fr(false, 0, confOpCont, nil), s.fr(true, 0, confOpPing, []byte("p")),
				s.fr(false, 0, confOpCont, []byte("\x84")), s.fr(true, 0, confOpCont, []byte("\x9e")))
			s.expectPong([]byte("p"))
			s.expect(confOpText, []byte("𝄞"))
		}),
		c("6.25.3", "a character cut by an empty final fragment", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("\xce")), s.fr(true, 0, confOpCont, nil))
			s.failWith(1007)
		}),
		c("6.25.4", "a character cut at the end of a message, then a new message completing it", func(s *confScript) {
			s.send(s.fr(true, 0, confOpText, []byte("ok \xe2\x82")), s.fr(true, 0, confOpText, []byte("\xac")))
			s.failWith(1007)
		}),
		c("6.4.7", "valid 1-byte fragments of κόσμε, then an invalid one (fail fast)", func(s *confScript) {
			var frames [][]byte
			for i, b := range append(bytes.Clone(kosme), 0xff) {
				op := confOpCont
				if i == 0 {
					op = confOpText
				}
				frames = append(frames, s.fr(false, 0, op, []byte{b}))
			}
			s.send(frames...)
			s.failWith(1007)
		}),
	}
	for _, q := range confUTF8Seqs() {
		b := []byte(q.b)
		bad, valid := confUTF8(b)
		if valid != utf8.Valid(b) {
			panic(fmt.Sprintf("%s: the reference validator says %v, unicode/utf8 says %v", q.id, valid, utf8.Valid(b)))
		}
		verdict := "invalid"
		if valid {
			verdict = "valid"
		}
		name := q.name + " (" + verdict + ")"
		end := func(s *confScript) {
			if valid {
				s.expect(confOpText, b)
			} else {
				s.failWith(1007)
			}
		}
		cs = append(cs, c(q.id, name+", whole", func(s *confScript) {
			s.msg(confOpText, b)
			end(s)
		}))
		var cuts []int
		if len(b) <= 16 {
			for i := 1; i < len(b); i++ {
				cuts = append(cuts, i)
			}
		} else {
			cuts = []int{1, 2, 3, len(b) / 2, len(b) - 2, len(b) - 1}
		}
		for _, i := range cuts {
			if !valid && bad >= 0 && bad < i {
				// The first fragment already holds the invalid byte: send it
				// alone and expect the close at once.
				cs = append(cs, c(q.id, fmt.Sprintf("%s, fragmented at %d, fail fast", name, i), func(s *confScript) {
					s.send(s.fr(false, 0, confOpText, b[:i]))
					s.failWith(1007)
				}))
				continue
			}
			cs = append(cs, c(q.id, fmt.Sprintf("%s, fragmented at %d", name, i), func(s *confScript) {
				s.send(s.fr(false, 0, confOpText, b[:i]), s.fr(true, 0, confOpCont, b[i:]))
				end(s)
			}))
		}
		if len(b) > 2 {
			n := len(b)
			suffix := ""
			if !valid && bad >= 0 {
				n, suffix = bad+1, ", fail fast"
			}
			cs = append(cs, c(q.id, fmt.Sprintf("%s, in 1-byte fragments%s", name, suffix), func(s *confScript) {
				var frames [][]byte
				for i := 0; i < n; i++ {
					op := confOpCont
					if i == 0 {
						op = confOpText
					}
					frames = append(frames, s.fr(i == len(b)-1, 0, op, b[i:i+1]))
				}
				s.send(frames...)
				end(s)
			}))
		}
	}
	return cs
}

// ---------------------------------------------------------------------
// 7 Close handling.

func confClose() []*confCase {
	c := func(id, name, ref string, build func(s *confScript)) *confCase {
		return confNew("7", id, name, ref, build)
	}
	closeFrame := func(s *confScript, code int, reason string) []byte {
		return s.fr(true, 0, confOpClose, confClosePayload(code, reason))
	}
	cs := []*confCase{
		c("7.1.1", "text message, then close", "RFC 6455 5.5.1, 7.1.2", func(s *confScript) {
			s.echo(confOpText, []byte("Hello World!"))
			s.closeWith(1000, "")
		}),
		c("7.1.2", "close twice in one write", "RFC 6455 5.5.1", func(s *confScript) {
			s.send(closeFrame(s, 1000, ""), closeFrame(s, 1000, ""))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.3", "ping after close: no pong", "RFC 6455 5.5.1", func(s *confScript) {
			s.send(closeFrame(s, 1000, ""), s.fr(true, 0, confOpPing, []byte("after close")))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.4", "text after close: no echo", "RFC 6455 5.5.1", func(s *confScript) {
			s.send(closeFrame(s, 1000, ""), s.fr(true, 0, confOpText, []byte("after close")))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.5", "close between the fragments of a message: no echo", "RFC 6455 5.4, 5.5.1", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("fragment1")), closeFrame(s, 1000, ""), s.fr(true, 0, confOpCont, []byte("fragment2")))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.6", "256 KiB message, ping and close in one write", "RFC 6455 5.5.1, 5.5.2", func(s *confScript) {
			p := confText(256 << 10)
			s.send(s.fr(true, 0, confOpText, p), s.fr(true, 0, confOpPing, []byte("ping")), closeFrame(s, 1000, ""))
			s.expect(confOpText, p)
			s.expectPong([]byte("ping"))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.7", "close with a reason, byte by byte", "RFC 6455 5.5.1", func(s *confScript) {
			s.sendChopped(1, 0, closeFrame(s, 1000, "byte by byte"))
			s.expectCloseAfterSent(1000, "byte by byte")
		}),
		c("7.1.8", "close while a text message stops inside a character: the close is echoed", "RFC 6455 5.4, 5.5.1", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("ok \xce")), closeFrame(s, 1000, ""))
			s.expectCloseAfterSent(1000, "")
		}),
		c("7.1.9", "close while a text message is 1 byte into a 4-byte character, byte by byte", "RFC 6455 5.4, 5.5.1", func(s *confScript) {
			s.sendChopped(1, 0, s.fr(false, 0, confOpText, []byte("\xf0")), closeFrame(s, 4000, "bye"))
			s.expectCloseAfterSent(4000, "bye")
		}),
		c("7.3.1", "close without payload", "RFC 6455 5.5.1, 7.1.5", func(s *confScript) {
			s.closeWith(-1, "", 0, 1000)
		}),
		c("7.3.2", "close with a 1-byte payload", "RFC 6455 5.5.1", func(s *confScript) {
			s.send(s.fr(true, 0, confOpClose, []byte{0x03}))
			s.failWith(1002)
		}),
		c("7.3.3", "close 1000 without reason", "RFC 6455 5.5.1", func(s *confScript) { s.closeWith(1000, "") }),
		c("7.3.4", "close 1000 with a reason", "RFC 6455 5.5.1", func(s *confScript) { s.closeWith(1000, "Hello World!") }),
		c("7.3.5", "close 1000 with a 123-byte reason", "RFC 6455 5.5, 5.5.1", func(s *confScript) {
			s.closeWith(1000, strings.Repeat("*", 123))
		}),
		c("7.3.6", "close 1000 with a 124-byte reason (126-byte payload)", "RFC 6455 5.5", func(s *confScript) {
			s.send(closeFrame(s, 1000, strings.Repeat("*", 124)))
			s.failWith(1002)
		}),
		c("7.3.7", "close 1000 with a multi-byte UTF-8 reason", "RFC 6455 5.5.1", func(s *confScript) {
			s.closeWith(1000, "κόσμε 𝄞")
		}),
		c("7.3.8", "close 1000 with a 123-byte reason of 2-byte characters", "RFC 6455 5.5, 5.5.1", func(s *confScript) {
			s.closeWith(1000, strings.Repeat("é", 61)+"x")
		}),
	}
	for i, r := range []struct{ name, reason string }{
		{"0xFF", "\xff"},
		{"κόσμε with a surrogate", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"},
		{"a truncated character", "ok \xce"},
		{"an overlong '/'", "\xc0\xaf"},
		{"a code point beyond U+10FFFF", "\xf4\x90\x80\x80"},
		{"a lone surrogate U+DFFF", "\xed\xbf\xbf"},
	} {
		cs = append(cs, c(fmt.Sprintf("7.5.%d", i+1), "close reason not UTF-8: "+r.name, "RFC 6455 5.5.1, 8.1", func(s *confScript) {
			s.send(closeFrame(s, 1000, r.reason))
			s.failWith(1007)
		}))
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cs = append(cs, c(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("close with valid code %d, echoed", code), "RFC 6455 5.5.1, 7.4", func(s *confScript) {
			s.closeWith(code, "")
		}))
	}
	for i, code := range []int{1001, 3000, 4999} {
		cs = append(cs, c(fmt.Sprintf("7.8.%d", i+1), fmt.Sprintf("close with valid code %d and a reason", code), "RFC 6455 5.5.1, 7.4", func(s *confScript) {
			s.closeWith(code, fmt.Sprintf("code %d", code))
		}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cs = append(cs, c(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("close with invalid code %d", code), "RFC 6455 7.4", func(s *confScript) {
			s.send(closeFrame(s, code, ""))
			s.failWith(1002)
		}))
	}
	return cs
}

// ---------------------------------------------------------------------
// 9 Limits and large messages.

func confLimits() []*confCase {
	const ref = "RFC 6455 5.4, 5.6"
	const limRef = "RFC 6455 7.4.1, 10.4"
	withOpts := func(c *confCase, o ws.Options) *confCase { c.opts = o; return c }
	var cs []*confCase
	for ti, op := range []byte{confOpText, confOpBin} {
		for i, n := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20} {
			cs = append(cs, confNew("9", fmt.Sprintf("9.%d.%d", ti+1, i+1), fmt.Sprintf("%s message of %s", confKind(op), confSize(n)), ref, func(s *confScript) {
				s.echo(op, confShared(op, n))
			}))
		}
		k := 0
		for _, n := range []int{64 << 10, 1 << 20, 4 << 20, 16 << 20} {
			for _, f := range []int{64, 4 << 10, 64 << 10} {
				if f >= n {
					continue
				}
				k++
				c := confNew("9", fmt.Sprintf("9.%d.%d", ti+3, k), fmt.Sprintf("%s message of %s in %s fragments", confKind(op), confSize(n), confSize(f)), ref, func(s *confScript) {
					p := confShared(op, n)
					s.send(s.fragments(op, p, f)...)
					s.expect(op, p)
				})
				c.http1Only = n >= 4<<20
				cs = append(cs, c)
			}
		}
		for i, chop := range []int{64, 4 << 10} {
			cs = append(cs, confNew("9", fmt.Sprintf("9.%d.%d", ti+5, i+1), fmt.Sprintf("%s message of 1 MiB in writes of %s", confKind(op), confSize(chop)), ref, func(s *confScript) {
				p := confShared(op, 1<<20)
				s.sendChopped(chop, 0, s.fr(true, 0, op, p))
				s.expect(op, p)
			}))
		}
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			cs = append(cs, confNew("9", fmt.Sprintf("9.%d.%d", ti+7, i+1), fmt.Sprintf("1000 %s messages of %d bytes in one write", confKind(op), n), ref, func(s *confScript) {
				var frames, payloads [][]byte
				for j := 0; j < 1000; j++ {
					p := confPayload(op, n)
					if n > 0 {
						p[0] = byte('A' + j%26)
					}
					payloads = append(payloads, p)
					frames = append(frames, s.fr(true, 0, op, p))
				}
				s.send(frames...)
				for _, p := range payloads {
					s.expect(op, p)
				}
			}))
		}
	}
	lim := ws.Options{ReadLimit: 64 << 10}
	const L = 64 << 10
	limit := func(id, name string, build func(s *confScript)) *confCase {
		return withOpts(confNew("9", id, name+" (read limit 64 KiB)", limRef, build), lim)
	}
	cs = append(cs,
		limit("9.9.1", "binary message of exactly the read limit", func(s *confScript) { s.echo(confOpBin, confBin(L)) }),
		limit("9.9.2", "binary message of the read limit + 1", func(s *confScript) {
			s.msg(confOpBin, confBin(L+1))
			s.failWith(1009)
		}),
		limit("9.9.3", "text message of the read limit + 1", func(s *confScript) {
			s.msg(confOpText, confText(L+1))
			s.failWith(1009)
		}),
		limit("9.9.4", "the read limit + 1 in 2 fragments", func(s *confScript) {
			s.send(s.fragments(confOpBin, confBin(L+1), L/2+1)...)
			s.failWith(1009)
		}),
		limit("9.9.5", "the read limit + 1 in 64-byte fragments", func(s *confScript) {
			s.send(s.fragments(confOpBin, confBin(L+1), 64)...)
			s.failWith(1009)
		}),
		limit("9.9.6", "the read limit in 64-byte fragments", func(s *confScript) {
			p := confBin(L)
			s.send(s.fragments(confOpBin, p, 64)...)
			s.expect(confOpBin, p)
		}),
		limit("9.9.7", "a header claiming the read limit + 1, payload never sent", func(s *confScript) {
			f := s.fr(true, 0, confOpBin, make([]byte, L+1))
			s.send(f[:confHeaderLen(f)])
			s.failWith(1009)
		}),
		limit("9.9.8", "a 64-bit header claiming 2^62 bytes, payload never sent", func(s *confScript) {
			h := []byte{0x82, 0x7F, 0x40, 0, 0, 0, 0, 0, 0, 0}
			if s.client {
				h[1] |= 0x80
				h = append(h, 1, 2, 3, 4)
			}
			s.send(h)
			s.failWith(1009)
		}),
		limit("9.9.9", "the read limit in 2 fragments with pings between", func(s *confScript) {
			p := confBin(L)
			fr := s.fragments(confOpBin, p, L/2)
			s.send(fr[0], s.fr(true, 0, confOpPing, []byte("1")), fr[1], s.fr(true, 0, confOpPing, []byte("2")))
			s.expectPong([]byte("1"))
			s.expect(confOpBin, p)
			s.expectPong([]byte("2"))
		}),
	)
	frag := ws.Options{MaxFragments: 16}
	cs = append(cs,
		withOpts(confNew("9", "9.10.1", "16 fragments with the fragment limit 16", "RFC 6455 10.4 (the library's MaxFragments)", func(s *confScript) {
			p := confBin(160)
			s.send(s.fragments(confOpBin, p, 10)...)
			s.expect(confOpBin, p)
		}), frag),
		withOpts(confNew("9", "9.10.2", "17 fragments with the fragment limit 16", "RFC 6455 10.4 (the library's MaxFragments)", func(s *confScript) {
			s.send(s.fragments(confOpBin, confBin(170), 10)...)
			s.failWith(1009)
		}), frag),
	)
	return cs
}

// ---------------------------------------------------------------------
// 10 Masking and misc.

func confMisc() []*confCase {
	server := func(c *confCase) *confCase { c.sides = confServerSide; return c }
	client := func(c *confCase) *confCase { c.sides = confClientSide; return c }
	cs := []*confCase{
		confNew("10", "10.1.1", "text message of 64 KiB in 1300-byte fragments", "RFC 6455 5.4", func(s *confScript) {
			p := confText(64 << 10)
			s.send(s.fragments(confOpText, p, 1300)...)
			s.expect(confOpText, p)
		}),
		confNew("10", "10.1.2", "binary message of 64 KiB in 1300-byte fragments", "RFC 6455 5.4", func(s *confScript) {
			p := confBin(64 << 10)
			s.send(s.fragments(confOpBin, p, 1300)...)
			s.expect(confOpBin, p)
		}),
		server(confNew("10", "10.2.1", "unmasked text frame from the client", "RFC 6455 5.1, 5.3", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpText, []byte("Hello")))
			s.failWith(1002)
		})),
		server(confNew("10", "10.2.2", "unmasked ping from the client", "RFC 6455 5.1, 5.3", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpPing, []byte("Hello")))
			s.failWith(1002)
		})),
		server(confNew("10", "10.2.3", "unmasked close from the client", "RFC 6455 5.1, 5.3", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpClose, confClosePayload(1000, "")))
			s.failWith(1002)
		})),
		server(confNew("10", "10.2.4", "unmasked continuation after a masked first fragment", "RFC 6455 5.1, 5.3", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("masked")), s.frWrongMask(true, 0, confOpCont, []byte("unmasked")))
			s.failWith(1002)
		})),
		server(confNew("10", "10.2.5", "unmasked text frame after a valid message", "RFC 6455 5.1, 5.3", func(s *confScript) {
			s.echo(confOpText, []byte("valid"))
			s.send(s.frWrongMask(true, 0, confOpText, []byte("Hello")))
			s.failWith(1002)
		})),
		server(confNew("10", "10.2.6", "masking key 0", "RFC 6455 5.3", func(s *confScript) {
			p := []byte("masked with a zero key")
			s.send(confEncode(true, 0, confOpText, p, true, 0))
			s.expect(confOpText, p)
		})),
		client(confNew("10", "10.3.1", "masked text frame from the server", "RFC 6455 5.1", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpText, []byte("Hello")))
			s.failWith(1002)
		})),
		client(confNew("10", "10.3.2", "masked ping from the server", "RFC 6455 5.1", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpPing, []byte("Hello")))
			s.failWith(1002)
		})),
		client(confNew("10", "10.3.3", "masked close from the server", "RFC 6455 5.1", func(s *confScript) {
			s.send(s.frWrongMask(true, 0, confOpClose, confClosePayload(1000, "")))
			s.failWith(1002)
		})),
		client(confNew("10", "10.3.4", "masked continuation after an unmasked first fragment", "RFC 6455 5.1", func(s *confScript) {
			s.send(s.fr(false, 0, confOpText, []byte("unmasked")), s.frWrongMask(true, 0, confOpCont, []byte("masked")))
			s.failWith(1002)
		})),
		client(confNew("10", "10.3.5", "masked text frame after a valid message", "RFC 6455 5.1", func(s *confScript) {
			s.echo(confOpText, []byte("valid"))
			s.send(s.frWrongMask(true, 0, confOpText, []byte("Hello")))
			s.failWith(1002)
		})),
		client(confNew("10", "10.4.1", "the client masks every frame, with a fresh key each", "RFC 6455 5.3", func(s *confScript) {
			for i := 0; i < 64; i++ {
				s.echo(confOpText, []byte(fmt.Sprintf("message %d", i)))
			}
			s.ping([]byte("ping"))
			s.expectPong([]byte("ping"))
			s.checkKeys = func(keys []uint32) error {
				seen := map[uint32]bool{}
				for _, k := range keys {
					seen[k] = true
				}
				// 66 frames; random 32-bit keys repeat with a chance of 1e-6.
				if len(keys) < 66 || len(seen) < len(keys)-1 {
					return fmt.Errorf("%d distinct masking keys in %d frames (RFC 6455 5.3: a fresh unpredictable key per frame)", len(seen), len(keys))
				}
				return nil
			}
		})),
	}
	return cs
}

// ---------------------------------------------------------------------
// 12 permessage-deflate data.

// confPMDCase sets a case up for permessage-deflate with windows of bits
// both ways, with or without context takeover: the raw client's offer,
// the raw server's response, and the library's options on each side.
func confPMDCase(c *confCase, bits int, takeover bool) *confCase {
	params := fmt.Sprintf("; server_max_window_bits=%d; client_max_window_bits=%d", bits, bits)
	copts := &ws.CompressionOptions{ServerMaxWindowBits: bits, ClientMaxWindowBits: bits, Threshold: -1}
	if !takeover {
		params = "; server_no_context_takeover; client_no_context_takeover" + params
		copts.ServerNoContextTakeover, copts.ClientNoContextTakeover = true, true
	}
	c.pmdOffer = "permessage-deflate" + params
	c.respLines = []string{"Sec-WebSocket-Extensions: permessage-deflate" + params}
	c.opts = ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}}
	c.copts = &ws.Options{Compression: copts}
	return c
}

// confPMDDefault sets a case up for permessage-deflate as the library
// offers and accepts it by default, compressing every message.
func confPMDDefault(c *confCase) *confCase {
	c.pmdOffer = "permessage-deflate; client_max_window_bits"
	c.respLines = []string{"Sec-WebSocket-Extensions: permessage-deflate"}
	c.opts = ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}}
	return c
}

func confDeflateData() []*confCase {
	var cs []*confCase
	const ref = "RFC 7692 7.1.1, 7.1.2, 7.2"
	k := 0
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{true, false} {
			k++
			tk := "context takeover"
			if !takeover {
				tk = "no context takeover"
			}
			cs = append(cs,
				confPMDCase(confNew("12", fmt.Sprintf("12.1.%d", k), fmt.Sprintf("window 2^%d, %s, compressible text of 16 B to 128 KiB", bits, tk), ref, func(s *confScript) {
					for i, n := range []int{16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072} {
						p := confJSON(n, i+1)
						s.send(s.compressed(confOpText, p, 0)...)
						s.expect(confOpText, p)
					}
				}), bits, takeover),
				confPMDCase(confNew("12", fmt.Sprintf("12.2.%d", k), fmt.Sprintf("window 2^%d, %s, incompressible binary", bits, tk), ref, func(s *confScript) {
					for i, n := range []int{16, 1000, 40000, 70000} {
						p := confRandom(n, uint64(i))
						s.send(s.compressed(confOpBin, p, 0)...)
						s.expect(confOpBin, p)
					}
				}), bits, takeover),
				confPMDCase(confNew("12", fmt.Sprintf("12.3.%d", k), fmt.Sprintf("window 2^%d, %s, repeated text in 64-byte fragments", bits, tk), ref+", 6.1", func(s *confScript) {
					for i := 0; i < 3; i++ {
						p := confJSON(20000, 5)
						s.send(s.compressed(confOpText, p, 64)...)
						s.expect(confOpText, p)
					}
				}), bits, takeover),
			)
		}
	}
	hello := []byte("Hello")
	raw := func(s *confScript, fin bool, rsv, op byte, hexes ...byte) []byte { return s.fr(fin, rsv, op, hexes) }
	v := func(id, name, ref string, build func(s *confScript)) *confCase {
		return confPMDDefault(confNew("12", id, name, ref, build))
	}
	cs = append(cs,
		v("12.4.1", "the RFC's 'Hello' in one compressed block", "RFC 7692 7.2.3.1", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.2", "the RFC's 'Hello' in 2 fragments", "RFC 7692 6.1, 7.2.3.1", func(s *confScript) {
			s.send(raw(s, false, confRSV1, confOpText, 0xf2, 0x48, 0xcd), raw(s, true, 0, confOpCont, 0xc9, 0xc9, 0x07, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.3", "the RFC's two messages sharing the LZ77 window", "RFC 7692 7.2.3.2", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))
			s.expect(confOpText, hello)
			s.send(raw(s, true, confRSV1, confOpText, 0xf2, 0x00, 0x11, 0x00, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.4", "the RFC's 'Hello' in a DEFLATE block with no compression", "RFC 7692 7.2.3.3", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.5", "the RFC's 'Hello' in a DEFLATE block with BFINAL set", "RFC 7692 7.2.3.4", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.6", "the RFC's 'Hello' in two DEFLATE blocks", "RFC 7692 7.2.3.5", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.7", "'Hello', then an empty final fragment 0x00", "RFC 7692 7.2.3.6", func(s *confScript) {
			s.send(raw(s, false, confRSV1, confOpText, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff), raw(s, true, 0, confOpCont, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.8", "the RFC's BFINAL 'Hello', then a message referring back to it", "RFC 7692 7.2.3.2, 7.2.3.4", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00))
			s.expect(confOpText, hello)
			s.send(raw(s, true, confRSV1, confOpText, 0xf2, 0x00, 0x11, 0x00, 0x00))
			s.expect(confOpText, hello)
		}),
		v("12.4.9", "an empty compressed message (payload 0x00)", "RFC 7692 7.2.3.6", func(s *confScript) {
			s.send(raw(s, true, confRSV1, confOpText, 0x00))
			s.expect(confOpText, []byte{})
		}),
		v("12.5.1", "an uncompressed message with permessage-deflate on", "RFC 7692 6", func(s *confScript) {
			s.echo(confOpText, []byte("not compressed"))
			p := confJSON(5000, 3)
			s.send(s.compressed(confOpText, p, 0)...)
			s.expect(confOpText, p)
			s.echo(confOpBin, confBin(3000))
		}),
		v("12.5.2", "a compressed message with a ping between its fragments", "RFC 7692 6.1, RFC 6455 5.4", func(s *confScript) {
			p := confJSON(5000, 4)
			fr := s.compressed(confOpText, p, 100)
			s.send(fr[0], s.fr(true, 0, confOpPing, []byte("between")))
			s.send(fr[1:]...)
			s.expectPong([]byte("between"))
			s.expect(confOpText, p)
		}),
		v("12.5.3", "RSV1 on a continuation frame", "RFC 7692 6.1, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(false, confRSV1, confOpText, s.pmd.deflate([]byte("abc"))), s.fr(true, confRSV1, confOpCont, nil))
			s.failWith(1002)
		}),
		v("12.5.4", "RSV1 on a ping", "RFC 7692 6.1, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(true, confRSV1, confOpPing, []byte("Hello")))
			s.failWith(1002)
		}),
		v("12.5.5", "RSV1 on a pong", "RFC 7692 6.1, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(true, confRSV1, confOpPong, []byte("Hello")))
			s.failWith(1002)
		}),
		v("12.5.6", "RSV1 on a close", "RFC 7692 6.1, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(true, confRSV1, confOpClose, confClosePayload(1000, "")))
			s.failWith(1002)
		}),
		v("12.5.7", "RSV2 on a compressed text frame", "RFC 7692 6, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(true, confRSV1|confRSV2, confOpText, s.pmd.deflate([]byte("Hello"))))
			s.failWith(1002)
		}),
		v("12.5.8", "RSV3 on a text frame", "RFC 7692 6, RFC 6455 5.2", func(s *confScript) {
			s.send(s.fr(true, confRSV3, confOpText, []byte("Hello")))
			s.failWith(1002)
		}),
		v("12.5.9", "a compressed payload that is not DEFLATE (BTYPE 11)", "RFC 7692 7.2.2, RFC 6455 7.4.1", func(s *confScript) {
			s.send(s.fr(true, confRSV1, confOpBin, []byte{0xff, 0xff, 0xff, 0xff, 0x00}))
			s.failWith(1007)
		}),
		v("12.5.10", "compressed text that inflates to invalid UTF-8", "RFC 6455 8.1, RFC 7692 7.2.2", func(s *confScript) {
			s.send(s.compressed(confOpText, []byte("κόσμε\xed\xa0\x80edited"), 0)...)
			s.failWith(1007)
		}),
		v("12.5.11", "compressed text, invalid UTF-8 in the first flushed fragment, the rest never sent (fail fast)", "RFC 6455 8.1, RFC 7692 7.2.2", func(s *confScript) {
			fr := s.compressedParts(confOpText, []byte("κόσμε\xf4\x90\x80\x80"), []byte("edited"))
			s.send(fr[0])
			s.failWith(1007)
		}),
		v("12.5.12", "compressed message of 1 MiB in 64 KiB fragments", "RFC 7692 6.1, 7.2", func(s *confScript) {
			p := confJSON(1<<20, 9)
			s.send(s.compressed(confOpText, p, 64<<10)...)
			s.expect(confOpText, p)
		}),
		v("12.5.16", "close between the fragments of a compressed message", "RFC 7692 6.1, RFC 6455 5.5.1", func(s *confScript) {
			fr := s.compressed(confOpText, confJSON(5000, 6), 64)
			s.send(fr[0], s.fr(true, 0, confOpClose, confClosePayload(1000, "")))
			s.expectCloseAfterSent(1000, "")
		}),
		v("12.5.17", "compressed binary in 1-byte fragments", "RFC 7692 6.1", func(s *confScript) {
			p := confJSON(300, 8)
			s.send(s.compressed(confOpBin, p, 1)...)
			s.expect(confOpBin, p)
		}),
		v("12.5.13", "compressed message of 4 MiB of zeros in one frame", "RFC 7692 7.2", func(s *confScript) {
			p := make([]byte, 4<<20)
			s.send(s.compressed(confOpBin, p, 0)...)
			s.expect(confOpBin, p)
		}),
	)
	over := confPMDDefault(confNew("12", "12.5.14", "compressed message inflating past the read limit (64 KiB)", "RFC 6455 7.4.1, 10.4, RFC 7692 8.2", func(s *confScript) {
		s.send(s.compressed(confOpBin, make([]byte, 1<<20), 0)...)
		s.failWith(1009)
	}))
	over.opts.ReadLimit = 64 << 10
	mixed := confPMDDefault(confNew("12", "12.5.15", "compressed and uncompressed messages mixed under context takeover", "RFC 7692 6, 7.2.1", func(s *confScript) {
		for i, n := range []int{100, 5000, 300, 6000, 50, 7000} {
			p := confJSON(n, 2) // similar messages tempt the compressor to refer back
			if i%2 == 0 {
				s.echo(confOpText, p)
				continue
			}
			s.send(s.compressed(confOpText, p, 0)...)
			s.expect(confOpText, p)
		}
	}))
	mixed.opts.Compression.Threshold = 0 // the library's default: small messages go out uncompressed
	mixed.copts = &ws.Options{Compression: &ws.CompressionOptions{}}
	return append(cs, over, mixed)
}

// confNegExchange checks that what the handshake agreed works: compressed
// messages when permessage-deflate was accepted, and RSV1 refused when it
// was declined.
func confNegExchange(s *confScript) {
	if s.pmd == nil {
		s.echo(confOpText, []byte("uncompressed"))
		s.send(s.fr(true, confRSV1, confOpText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}))
		s.failWith(1002)
		return
	}
	for _, p := range [][]byte{[]byte("Hello"), confJSON(3000, 1), confJSON(3000, 1), confRandom(2000, 7)} {
		op := confOpText
		if !utf8.Valid(p) {
			op = confOpBin
		}
		s.send(s.compressed(op, p, 0)...)
		s.expect(op, p)
	}
}

// ---------------------------------------------------------------------
// 13 permessage-deflate negotiation, server side.

func confNegotiationServer() []*confCase {
	on := ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}}
	n := func(id, name, ref string, accept int, check func(confPD) error, offers ...string) *confCase {
		return &confCase{cat: "13", id: id, name: name, ref: ref, sides: confServerSide, opts: on,
			neg: &confNeg{offers: offers, accept: accept, check: check}, build: confNegExchange}
	}
	const acc = "RFC 7692 5, 7.1"
	const dec = "RFC 7692 7: the server MUST decline"
	cs := []*confCase{
		n("13.1.1", "offer without parameters", acc, 0, nil, "permessage-deflate"),
		n("13.1.2", "offer with client_max_window_bits without a value", acc+".2.2", 0, nil, "permessage-deflate; client_max_window_bits"),
		n("13.1.3", "offer with server_no_context_takeover", acc+".1.1", 0, nil, "permessage-deflate; server_no_context_takeover"),
		n("13.1.4", "offer with client_no_context_takeover", acc+".1.2", 0, nil, "permessage-deflate; client_no_context_takeover"),
		n("13.1.5", "offer with both takeover flags", acc+".1", 0, nil, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
		n("13.1.6", "offer with every parameter", acc, 0, nil, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"),
		n("13.1.7", "offer with a quoted window value", acc+".2.1, RFC 6455 9.1", 0, nil, `permessage-deflate; server_max_window_bits="10"`),
		n("13.1.8", "offer with whitespace around ; and =", acc+", RFC 6455 9.1", 0, nil, "permessage-deflate ;  server_max_window_bits = 10 ; client_max_window_bits"),
	}
	for b := 8; b <= 15; b++ {
		cs = append(cs,
			n(fmt.Sprintf("13.2.%d", b-7), fmt.Sprintf("offer with server_max_window_bits=%d", b), acc+".2.1", 0, nil, fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", b)),
			n(fmt.Sprintf("13.3.%d", b-7), fmt.Sprintf("offer with client_max_window_bits=%d", b), acc+".2.2", 0, nil, fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", b)),
		)
	}
	for i, o := range []struct{ name, offer string }{
		{"an unknown parameter", "permessage-deflate; foo"},
		{"an unknown parameter with a value", "permessage-deflate; foo=bar"},
		{"server_max_window_bits=7", "permessage-deflate; server_max_window_bits=7"},
		{"server_max_window_bits=16", "permessage-deflate; server_max_window_bits=16"},
		{"server_max_window_bits=0", "permessage-deflate; server_max_window_bits=0"},
		{"server_max_window_bits=08 (leading zero)", "permessage-deflate; server_max_window_bits=08"},
		{"server_max_window_bits=abc", "permessage-deflate; server_max_window_bits=abc"},
		{"server_max_window_bits without a value", "permessage-deflate; server_max_window_bits"},
		{"client_max_window_bits=7", "permessage-deflate; client_max_window_bits=7"},
		{"client_max_window_bits=16", "permessage-deflate; client_max_window_bits=16"},
		{"client_max_window_bits=010", "permessage-deflate; client_max_window_bits=010"},
		{"server_no_context_takeover with a value", "permessage-deflate; server_no_context_takeover=1"},
		{"client_no_context_takeover with a value", "permessage-deflate; client_no_context_takeover=x"},
		{"server_no_context_takeover twice", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
		{"server_max_window_bits twice", "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"},
		{"client_max_window_bits twice", "permessage-deflate; client_max_window_bits; client_max_window_bits=10"},
		{"a quoted window value that is not a token", `permessage-deflate; server_max_window_bits="1 0"`},
	} {
		cs = append(cs, n(fmt.Sprintf("13.4.%d", i+1), "offer with "+o.name+", declined", dec, -1, nil, o.offer))
	}
	cs = append(cs,
		n("13.4.18", "only another extension offered", "RFC 6455 9.1", -1, nil, "x-webkit-deflate-frame"),
		n("13.5.1", "an invalid offer, then a valid one", acc+": the first acceptable offer", 1, nil, "permessage-deflate; foo, permessage-deflate; server_max_window_bits=10"),
		n("13.5.2", "a valid offer with a window, then a plain one", acc+": the first acceptable offer", 0, nil, "permessage-deflate; server_max_window_bits=10, permessage-deflate"),
		n("13.5.3", "a valid offer with server_no_context_takeover, then a plain one", acc+": the first acceptable offer", 0, nil, "permessage-deflate; server_no_context_takeover, permessage-deflate"),
		n("13.5.4", "another extension, then permessage-deflate", acc+", RFC 6455 9.1", 1, nil, "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"),
		n("13.5.5", "two invalid offers, then a valid one", acc+": the first acceptable offer", 2, nil, "permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=16, permessage-deflate; server_no_context_takeover"),
		n("13.5.6", "an invalid offer and a valid one on separate header lines", acc+", RFC 6455 9.1", 1, nil, "permessage-deflate; foo", "permessage-deflate; client_no_context_takeover"),
		n("13.5.7", "client_max_window_bits=8, then client_max_window_bits=15", acc+".2.2: the first acceptable offer", 0, nil, "permessage-deflate; client_max_window_bits=8, permessage-deflate; client_max_window_bits=15"),
		n("13.5.8", "every offer invalid", dec, -1, nil, "permessage-deflate; foo, permessage-deflate; server_max_window_bits=20"),
	)
	off := n("13.6.1", "compression disabled on the server: a valid offer declined", "RFC 7692 5", -1, nil, "permessage-deflate")
	off.opts = ws.Options{}
	noCtx := n("13.6.2", "server with no context takeover (library option): announced", acc+".1.1", 0, func(p confPD) error {
		if !p.snct {
			return fmt.Errorf("no server_no_context_takeover, which the server's configuration asks for")
		}
		return nil
	}, "permessage-deflate")
	noCtx.opts.Compression = &ws.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	small := n("13.6.3", "server window 2^10 (library option), not asked for: announced and kept to", acc+".2.1", 0, func(p confPD) error {
		if p.smwb != 10 {
			return fmt.Errorf("server_max_window_bits %d, want the configured 10 (the raw peer inflates with a 2^10 window)", p.smwb)
		}
		return nil
	}, "permessage-deflate")
	small.opts.Compression = &ws.CompressionOptions{ServerMaxWindowBits: 10}
	peer := n("13.6.4", "peer window 2^10 (library option), client_max_window_bits offered", acc+".2.2", 0, func(p confPD) error {
		if p.cmwb != 10 {
			return fmt.Errorf("client_max_window_bits %d, want the configured 10", p.cmwb)
		}
		return nil
	}, "permessage-deflate; client_max_window_bits")
	peer.opts.Compression = &ws.CompressionOptions{ClientMaxWindowBits: 10}
	peerNo := n("13.6.5", "peer window 2^10 (library option), client_max_window_bits not offered: not in the response", acc+".2.2", 0, nil, "permessage-deflate")
	peerNo.opts.Compression = &ws.CompressionOptions{ClientMaxWindowBits: 10}
	smaller := n("13.6.6", "server window 2^9 (library option), 2^12 offered", acc+".2.1", 0, func(p confPD) error {
		if p.smwb != 9 {
			return fmt.Errorf("server_max_window_bits %d, want the configured 9", p.smwb)
		}
		return nil
	}, "permessage-deflate; server_max_window_bits=12")
	smaller.opts.Compression = &ws.CompressionOptions{ServerMaxWindowBits: 9}
	return append(cs, off, noCtx, small, peer, peerNo, smaller)
}

// ---------------------------------------------------------------------
// H Opening handshake, server side.

func confHandshakeServer() []*confCase {
	h := func(id, name string, headers []string, check func(resp *http.Response) error) *confCase {
		return &confCase{cat: "H", id: id, name: name, ref: "RFC 6455 4.2.1, 4.2.2", sides: confServerSide, reqHeaders: headers, checkResp: check}
	}
	compress := h("H.1.4", "no extension offered to a server with compression on: none in the response", nil, nil)
	compress.opts = ws.Options{Compression: &ws.CompressionOptions{}}
	return []*confCase{
		compress,
		h("H.1.1", "Upgrade: WebSocket and Connection: keep-alive, Upgrade", []string{"Upgrade: WebSocket", "Connection: keep-alive, Upgrade"}, nil),
		h("H.1.2", "Connection: upgrade in lower case", []string{"Connection: upgrade"}, nil),
		h("H.1.3", "subprotocol offered to a server with none: none chosen", []string{"Sec-WebSocket-Protocol: chat, superchat"}, func(r *http.Response) error {
			if v := r.Header.Values("Sec-WebSocket-Protocol"); len(v) > 0 {
				return fmt.Errorf("Sec-WebSocket-Protocol %q from a server with no subprotocols (RFC 6455 4.2.2)", v)
			}
			return nil
		}),
	}
}
