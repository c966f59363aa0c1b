//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// TestFramingRules sends each kind of bad input to a server and checks the
// close code the peer gets and the typed error the server's reader gets.
func TestFramingRules(t *testing.T) {
	long := make([]byte, 126)
	type tc struct {
		name string
		send func(p *rawPeer)
		code int
		err  error
	}
	var cases []tc
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		cases = append(cases, tc{fmt.Sprintf("opcode %#x (RFC 6455 5.2)", op), func(p *rawPeer) { p.sendFrame(true, 0, op, []byte("x")) }, 1002, ws.ErrUnknownOpcode})
	}
	for _, rsv := range []byte{frame.BitRsv1, frame.BitRsv2, frame.BitRsv3} {
		cases = append(cases, tc{fmt.Sprintf("rsv %#x without extension (5.2)", rsv), func(p *rawPeer) { p.sendFrame(true, rsv, frame.OpText, []byte("x")) }, 1002, ws.ErrReservedBits})
		cases = append(cases, tc{fmt.Sprintf("rsv %#x on ping (5.2)", rsv), func(p *rawPeer) { p.sendFrame(true, rsv, frame.OpPing, nil) }, 1002, ws.ErrReservedBits})
	}
	for _, op := range []byte{frame.OpPing, frame.OpPong, frame.OpClose} {
		cases = append(cases,
			tc{fmt.Sprintf("fragmented control %#x (5.5)", op), func(p *rawPeer) { p.sendFrame(false, 0, op, nil) }, 1002, ws.ErrFragmentedControl},
			tc{fmt.Sprintf("control %#x with 126 bytes (5.5)", op), func(p *rawPeer) { p.sendFrame(true, 0, op, long) }, 1002, ws.ErrControlTooLong},
		)
	}
	cases = append(cases,
		tc{"unmasked frame from client (5.1)", func(p *rawPeer) { p.client = false; p.sendFrame(true, 0, frame.OpText, []byte("hi")); p.client = true }, 1002, ws.ErrUnmaskedFrame},
		tc{"64-bit length with top bit (5.2)", func(p *rawPeer) {
			p.send([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})
		}, 1002, ws.ErrBadLength},
		tc{"16-bit length under 126 (5.2)", func(p *rawPeer) { p.send([]byte{0x82, 0xFE, 0, 5, 1, 2, 3, 4, 1, 2, 3, 4, 5}) }, 1002, ws.ErrBadLength},
		tc{"64-bit length under 65536 (5.2)", func(p *rawPeer) { p.send([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 1, 2, 3, 4, 5}) }, 1002, ws.ErrBadLength},
		tc{"continuation first (5.4)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpContinuation, []byte("x")) }, 1002, ws.ErrUnexpectedContinuation},
		tc{"continuation after whole message (5.4)", func(p *rawPeer) {
			p.sendFrame(true, 0, frame.OpText, []byte("a"))
			p.sendFrame(true, 0, frame.OpContinuation, []byte("b"))
		}, 1002, ws.ErrUnexpectedContinuation},
		tc{"text inside fragmented message (5.4)", func(p *rawPeer) {
			p.sendFrame(false, 0, frame.OpText, []byte("a"))
			p.sendFrame(true, 0, frame.OpText, []byte("b"))
		}, 1002, ws.ErrExpectedContinuation},
		tc{"binary inside fragmented message (5.4)", func(p *rawPeer) {
			p.sendFrame(false, 0, frame.OpBinary, []byte("a"))
			p.sendFrame(false, 0, frame.OpBinary, []byte("b"))
		}, 1002, ws.ErrExpectedContinuation},
		tc{"invalid UTF-8 (8.1)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpText, []byte("a\xffb")) }, 1007, ws.ErrInvalidUTF8},
		tc{"surrogate in UTF-8 (8.1)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpText, []byte("\xed\xa0\x80")) }, 1007, ws.ErrInvalidUTF8},
		tc{"UTF-8 ends inside a code point (8.1)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpText, []byte("ab\xe2\x82")) }, 1007, ws.ErrInvalidUTF8},
		tc{"UTF-8 fails fast in first fragment (8.1)", func(p *rawPeer) {
			// The rest of the message never comes: the error must not wait for it.
			p.sendFrame(false, 0, frame.OpText, []byte("κόσμε\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"))
		}, 1007, ws.ErrInvalidUTF8},
		tc{"UTF-8 split across fragments then invalid (8.1)", func(p *rawPeer) {
			p.sendFrame(false, 0, frame.OpText, []byte("a\xe2"))
			p.sendFrame(false, 0, frame.OpContinuation, []byte("\x82"))
			p.sendFrame(false, 0, frame.OpContinuation, []byte("\x41"))
		}, 1007, ws.ErrInvalidUTF8},
		tc{"close with 1-byte payload (5.5.1)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpClose, []byte{3}) }, 1002, ws.ErrBadClosePayload},
		tc{"close reason not UTF-8 (5.5.1)", func(p *rawPeer) { p.sendFrame(true, 0, frame.OpClose, closePayload(1000, "\xff")) }, 1007, ws.ErrInvalidUTF8},
	)
	for _, code := range []int{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, tc{fmt.Sprintf("close code %d (7.4)", code), func(p *rawPeer) {
			p.sendFrame(true, 0, frame.OpClose, closePayload(code, "x"))
		}, 1002, ws.ErrBadCloseCode})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, errs := recordServer(t, nil)
			p := dialRaw(t, url)
			c.send(p)
			p.expectClose(c.code)
			err := waitErr(t, errs)
			if !errors.Is(err, c.err) {
				t.Fatalf("server error %v, want %v", err, c.err)
			}
			var pe *ws.ProtocolError
			if !errors.As(err, &pe) || int(pe.Code) != c.code {
				t.Fatalf("server error %v has no ProtocolError with code %d", err, c.code)
			}
		})
	}
}

// TestLimits checks the read limit against frame headers and fragments.
func TestLimits(t *testing.T) {
	// fails runs send against a server with opts and checks that the
	// server fails the connection with 1009 and its reader with want.
	fails := func(t *testing.T, opts *ws.AcceptOptions, want error, send func(p *rawPeer)) {
		url, errs := recordServer(t, opts)
		p := dialRaw(t, url)
		send(p)
		p.expectClose(1009)
		if err := waitErr(t, errs); !errors.Is(err, want) {
			t.Fatal(err)
		}
	}
	limit1000 := &ws.AcceptOptions{Options: ws.Options{ReadLimit: 1000}}
	t.Run("frame over limit (10.4)", func(t *testing.T) {
		fails(t, limit1000, ws.ErrMessageTooBig, func(p *rawPeer) { p.sendFrame(true, 0, frame.OpBinary, make([]byte, 1001)) })
	})
	t.Run("fragments add up over limit", func(t *testing.T) {
		fails(t, limit1000, ws.ErrMessageTooBig, func(p *rawPeer) {
			p.sendFrame(false, 0, frame.OpBinary, make([]byte, 600))
			p.sendFrame(true, 0, frame.OpContinuation, make([]byte, 600))
		})
	})
	t.Run("exactly the limit passes", func(t *testing.T) {
		url, errs := recordServer(t, &ws.AcceptOptions{Options: ws.Options{ReadLimit: 1000}})
		p := dialRaw(t, url)
		p.sendFrame(false, 0, frame.OpBinary, make([]byte, 500))
		p.sendFrame(true, 0, frame.OpContinuation, make([]byte, 500))
		h, msg, err := p.readFrame()
		if err != nil || h.Opcode != frame.OpBinary || len(msg) != 1000 {
			t.Fatalf("echo: %v %v %d", h, err, len(msg))
		}
		p.sendFrame(true, 0, frame.OpClose, closePayload(1000, ""))
		p.expectClose(1000)
		if err := waitErr(t, errs); ws.CloseStatus(err) != 1000 {
			t.Fatal(err)
		}
	})
	t.Run("too many fragments", func(t *testing.T) {
		fails(t, &ws.AcceptOptions{Options: ws.Options{MaxFragments: 10}}, ws.ErrTooManyFragments, func(p *rawPeer) {
			p.sendFrame(false, 0, frame.OpBinary, nil)
			for i := 0; i < 10; i++ {
				p.sendFrame(false, 0, frame.OpContinuation, nil)
			}
		})
	})
	t.Run("empty fragments with the defaults", func(t *testing.T) {
		// Frames that carry bytes are bounded by the read limit; frames
		// without payload, by DefaultMaxEmptyFragments.
		fails(t, nil, ws.ErrTooManyFragments, func(p *rawPeer) {
			var b []byte
			b = append(b, p.frameBytes(false, 0, frame.OpBinary, []byte("x"))...)
			for i := 0; i < ws.DefaultMaxEmptyFragments; i++ {
				b = append(b, p.frameBytes(false, 0, frame.OpContinuation, nil)...)
			}
			b = append(b, p.frameBytes(true, 0, frame.OpContinuation, []byte("y"))...)
			p.send(b)
			if h, msg, err := p.readFrame(); err != nil || h.Opcode != frame.OpBinary || string(msg) != "xy" {
				t.Fatalf("echo: %v %v %q", h, err, msg)
			}
			b = p.frameBytes(false, 0, frame.OpBinary, nil)
			for i := 0; i < ws.DefaultMaxEmptyFragments; i++ {
				b = append(b, p.frameBytes(false, 0, frame.OpContinuation, nil)...)
			}
			p.send(b)
		})
	})
	// claim sends a header claiming 2^62 bytes and 100 of them to a
	// server with opts, ends the exchange with end, and checks that the
	// server's reader ends with an error that check accepts and that the
	// claim was not allocated.
	claim := func(t *testing.T, opts *ws.AcceptOptions, end func(p *rawPeer), check func(error) bool) {
		url, errs := recordServer(t, opts)
		p := dialRaw(t, url)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		hdr := []byte{0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		p.send(append(hdr, make([]byte, 100)...))
		end(p)
		err := waitErr(t, errs)
		runtime.ReadMemStats(&after)
		if !check(err) {
			t.Fatalf("got %v", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
			t.Fatalf("allocated %d bytes", grew)
		}
	}
	t.Run("header claiming 2^62 bytes allocates nothing", func(t *testing.T) {
		claim(t, nil, func(p *rawPeer) { p.expectClose(1009) },
			func(err error) bool { return errors.Is(err, ws.ErrMessageTooBig) })
	})
	t.Run("no limit: claimed length is not allocated up front", func(t *testing.T) {
		claim(t, &ws.AcceptOptions{Options: ws.Options{ReadLimit: -1}}, func(p *rawPeer) { p.nc.Close() },
			func(err error) bool { return err != nil })
	})
}

// TestControlFrames checks pings, pongs and close frames that follow the
// rules.
func TestControlFrames(t *testing.T) {
	t.Run("ping answered with same payload (5.5.2)", func(t *testing.T) {
		url, _ := recordServer(t, nil)
		p := dialRaw(t, url)
		for _, n := range []int{0, 1, 125} {
			payload := bytes.Repeat([]byte{'p'}, n)
			p.sendFrame(true, 0, frame.OpPing, payload)
			h, got, err := p.readFrame()
			if err != nil || h.Opcode != frame.OpPong || !bytes.Equal(got, payload) {
				t.Fatalf("pong: %+v %q %v", h, got, err)
			}
		}
	})
	t.Run("control frames between fragments (5.4)", func(t *testing.T) {
		url, _ := recordServer(t, nil)
		p := dialRaw(t, url)
		p.sendFrame(false, 0, frame.OpText, []byte("frag"))
		p.sendFrame(true, 0, frame.OpPing, []byte("in between"))
		p.sendFrame(false, 0, frame.OpContinuation, []byte("men"))
		p.sendFrame(true, 0, frame.OpPong, []byte("unsolicited"))
		p.sendFrame(true, 0, frame.OpContinuation, []byte("ted"))
		h, got, err := p.readFrame()
		if err != nil || h.Opcode != frame.OpPong || string(got) != "in between" {
			t.Fatalf("pong: %+v %q %v", h, got, err)
		}
		h, got, err = p.readFrame()
		if err != nil || h.Opcode != frame.OpText || string(got) != "fragmented" || !h.Fin {
			t.Fatalf("echo: %+v %q %v", h, got, err)
		}
	})
	t.Run("empty fragments", func(t *testing.T) {
		url, _ := recordServer(t, nil)
		p := dialRaw(t, url)
		p.sendFrame(false, 0, frame.OpText, nil)
		p.sendFrame(false, 0, frame.OpContinuation, nil)
		p.sendFrame(true, 0, frame.OpContinuation, nil)
		h, got, err := p.readFrame()
		if err != nil || h.Opcode != frame.OpText || len(got) != 0 {
			t.Fatalf("echo: %+v %q %v", h, got, err)
		}
	})
	valid := []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	for _, code := range valid {
		t.Run(fmt.Sprintf("close %d echoed (7.4)", code), func(t *testing.T) {
			url, errs := recordServer(t, nil)
			p := dialRaw(t, url)
			p.sendFrame(true, 0, frame.OpClose, closePayload(code, "reason ✓"))
			p.expectClose(code)
			err := waitErr(t, errs)
			var ce ws.CloseError
			if !errors.As(err, &ce) || int(ce.Code) != code || ce.Reason != "reason ✓" {
				t.Fatalf("server error %v", err)
			}
		})
	}
	t.Run("empty close echoed empty (5.5.1)", func(t *testing.T) {
		url, errs := recordServer(t, nil)
		p := dialRaw(t, url)
		p.sendFrame(true, 0, frame.OpClose, nil)
		p.expectClose(0)
		if err := waitErr(t, errs); ws.CloseStatus(err) != ws.StatusNoStatusReceived {
			t.Fatal(err)
		}
	})
	t.Run("close with 123-byte reason", func(t *testing.T) {
		url, errs := recordServer(t, nil)
		p := dialRaw(t, url)
		p.sendFrame(true, 0, frame.OpClose, closePayload(1000, string(bytes.Repeat([]byte{'r'}, 123))))
		p.expectClose(1000)
		if err := waitErr(t, errs); ws.CloseStatus(err) != 1000 {
			t.Fatal(err)
		}
	})
	t.Run("nothing after close frame is read", func(t *testing.T) {
		url, errs := recordServer(t, nil)
		p := dialRaw(t, url)
		p.sendFrame(true, 0, frame.OpText, []byte("before"))
		p.sendFrame(true, 0, frame.OpClose, closePayload(1000, ""))
		p.sendFrame(true, 0, frame.OpText, []byte("after"))
		h, got, err := p.readFrame()
		if err != nil || string(got) != "before" {
			t.Fatalf("echo: %+v %q %v", h, got, err)
		}
		p.expectClose(1000)
		if err := waitErr(t, errs); ws.CloseStatus(err) != 1000 {
			t.Fatal(err)
		}
	})
}

func TestClientRules(t *testing.T) {
	ctx := context.Background()
	t.Run("client masks every frame (5.3)", func(t *testing.T) {
		got := make(chan frame.Header, 4)
		url := rawServer(t, "", func(p *rawPeer) {
			for i := 0; i < 3; i++ {
				h, _, err := p.readFrame()
				if err != nil {
					return
				}
				got <- h
			}
			p.sendFrame(true, 0, frame.OpClose, closePayload(1000, ""))
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(ctx, ws.MessageText, []byte("one"))
		c.Write(ctx, ws.MessageBinary, make([]byte, 70000))
		c.Close(ws.StatusNormalClosure, "")
		keys := map[uint32]bool{}
		for i := 0; i < 3; i++ {
			h := <-got
			if !h.Masked {
				t.Fatalf("frame %d unmasked", i)
			}
			keys[h.Key] = true
		}
		if len(keys) < 2 {
			t.Fatal("masking keys repeat")
		}
	})
	t.Run("masked frame from server (5.1)", func(t *testing.T) {
		url := rawServer(t, "", func(p *rawPeer) {
			p.client = true // so it masks, which a server must not
			p.sendFrame(true, 0, frame.OpText, []byte("hi"))
			p.client = false
			p.expectCloseFromClient(t, 1002)
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if !errors.Is(err, ws.ErrMaskedFrame) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("server close echoed and reported", func(t *testing.T) {
		url := rawServer(t, "", func(p *rawPeer) {
			p.sendFrame(true, 0, frame.OpText, []byte("last words"))
			p.sendFrame(true, 0, frame.OpClose, closePayload(4321, "see you"))
			p.expectCloseFromClient(t, 4321)
		})
		c, _, err := ws.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err != nil || string(msg) != "last words" {
			t.Fatalf("%q %v", msg, err)
		}
		_, _, err = c.Read(ctx)
		var ce ws.CloseError
		if !errors.As(err, &ce) || ce.Code != 4321 || ce.Reason != "see you" {
			t.Fatalf("got %v", err)
		}
		_, _, err = c.Read(ctx)
		if !errors.Is(err, net.ErrClosed) || !errors.As(err, &ce) {
			t.Fatalf("read after close: %v", err)
		}
		if err := c.Write(ctx, ws.MessageText, nil); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
	})
	for _, c := range []struct {
		name, extra string
	}{
		{"subprotocol not offered", "Sec-WebSocket-Protocol: chat\r\n"},
		{"extension not offered", "Sec-WebSocket-Extensions: permessage-deflate\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := rawServer(t, c.extra, func(p *rawPeer) {})
			_, _, err := ws.Dial(ctx, url, nil)
			var he *ws.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
