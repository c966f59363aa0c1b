//go:build !js

package conformance

// The machinery of the conformance suite (the tables of cases.go and
// client.go): a raw WebSocket peer that runs a script of frames to send
// and events to expect, against the library's server (the raw peer is a
// client) or the library's client (the raw peer is a server), with the
// library side echoing every message. This file runs a case over TCP with
// HTTP/1.1's upgrade; http2.go runs it on a stream of an HTTP/2
// connection.
//
// The raw peer is written from RFC 6455 and RFC 7692 alone: it encodes and
// parses frames itself, checks every frame the library sends against the
// RFC's rules for senders, validates UTF-8 with its own table (Unicode
// table 3-7), parses Sec-WebSocket-Extensions itself, compresses with
// github.com/klauspost/compress/flate and inflates with the standard
// library's compress/flate, and checks match distances with
// internal/deflate/deflatetest, a plain RFC 1951 decoder for tests that
// shares no code with the library. Nothing else of the library's internal
// packages is used, so a bug there cannot hide itself.

import (
	"bufio"
	"bytes"
	stdflate "compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	kflate "github.com/klauspost/compress/flate"
	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
)

// Opcodes and bits of RFC 6455 section 5.2.
const (
	confOpCont  byte = 0x0
	confOpText  byte = 0x1
	confOpBin   byte = 0x2
	confOpClose byte = 0x8
	confOpPing  byte = 0x9
	confOpPong  byte = 0xA

	confRSV1 byte = 0x40
	confRSV2 byte = 0x20
	confRSV3 byte = 0x10
)

// Timeouts of the raw peer. Every read it makes has a deadline.
const (
	// confReadTimeout bounds the wait for each expected event (a message
	// can be 16 MiB under the race detector).
	confReadTimeout = 20 * time.Second
	// confCloseTimeout bounds the wait for the close frame that ends a
	// case, and then for the end of the TCP connection (over HTTP/2, of
	// the stream). A library that waits for more input before failing
	// the connection runs into it, since the raw peer sends nothing more.
	confCloseTimeout = 5 * time.Second
)

// Which side of the library a case runs against.
const (
	confServerSide = 1 << iota // the library is the server; the raw peer a client
	confClientSide             // the library is the client; the raw peer a server
	confBothSides  = confServerSide | confClientSide
)

// confModes are the two echo loops every data case runs with: whole
// messages with Read and Write, and streams with Reader, Writer and
// io.Copy.
var confModes = []string{"read", "stream"}

// confCase is one conformance case of the tables.
type confCase struct {
	cat   string // Autobahn category: "1" to "13", "H" for the handshake
	id    string // "6.20.1"
	name  string // "single surrogate U+D800 (invalid), fragmented at 1"
	ref   string // the RFC section the case checks
	sides int

	opts  ws.Options  // options of Accept and Dial
	copts *ws.Options // options of Dial instead of opts, when set

	// Server side.
	reqHeaders []string // extra request header lines, "Name: value"
	pmdOffer   string   // a permessage-deflate offer the server must accept
	neg        *confNeg // a negotiation case
	checkResp  func(resp *http.Response) error

	// Client side.
	respLines       []string                // extra lines of the raw server's 101 response (its 200 over HTTP/2)
	rawResp         func(key string) string // the whole response instead
	subprotocols    []string                // offered by the client
	wantSubprotocol string
	dialFail        bool // Dial must fail with a *ws.HandshakeError
	failStatus      int  // and this HandshakeError.Status (0: any)

	// http1Only keeps a case out of the run over HTTP/2 (confHTTP2Cases),
	// where it adds time and nothing that the others do not check.
	http1Only bool

	// build writes the script: what the raw peer sends and expects. Nil
	// means a short echo. Unless it ends the connection, the runner adds
	// a close handshake with 1000 at the end.
	build func(s *confScript)
}

func (c *confCase) title() string { return c.id + " " + c.name }

// confNeg is a server-side permessage-deflate negotiation case.
type confNeg struct {
	offers []string // Sec-WebSocket-Extensions request header values, one line each
	// accept is the index, among all the offered extension elements, of the
	// offer the server must accept, or -1 when it must decline them all.
	accept int
	check  func(resp confPD) error // further checks of the response
}

// ---------------------------------------------------------------------
// Scripts.

type confStepKind int

const (
	confStepSend confStepKind = iota
	confStepMsg
	confStepPong
	confStepPongs
	confStepSync
	confStepPause
)

type confStep struct {
	kind  confStepKind
	data  []byte        // bytes to send, or the payload expected
	op    byte          // the opcode of an expected message
	chop  int           // send in writes of this many bytes (0: one write)
	delay time.Duration // between chops, or the length of a pause
	pongs [][]byte      // confStepPongs
	ch    chan struct{} // confStepSync
}

// confScript is what the raw peer does in one case, built by the case's
// build function once the handshake is done.
type confScript struct {
	client bool     // the raw peer is the client: it masks its frames
	pmd    *confPMD // permessage-deflate as negotiated, or nil
	rng    *mrand.Rand
	steps  []confStep

	// How the connection must end.
	ended     bool
	endCodes  []int // acceptable codes of the library's close frame; 0 is an empty close frame
	fail      bool  // the library fails the connection: its error is a ProtocolError
	libCode   int   // the code of the library's error (ProtocolError or CloseError)
	libReason *string
	sentClose bool // the raw peer sent a close frame

	// checkKeys, if set, checks the masking keys of the frames the library
	// client sent.
	checkKeys func(keys []uint32) error
}

func newConfScript(client bool, pmd *confPMD) *confScript {
	return &confScript{client: client, pmd: pmd, rng: mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))}
}

// fr encodes a frame as the raw peer's role requires: masked with a fresh
// key when it is the client.
func (s *confScript) fr(fin bool, rsv, op byte, payload []byte) []byte {
	return confEncode(fin, rsv, op, payload, s.client, s.rng.Uint32())
}

// frWrongMask encodes a frame with the masking its role forbids.
func (s *confScript) frWrongMask(fin bool, rsv, op byte, payload []byte) []byte {
	return confEncode(fin, rsv, op, payload, !s.client, s.rng.Uint32())
}

// confEncode encodes one frame (RFC 6455 section 5.2).
func confEncode(fin bool, rsv, op byte, payload []byte, masked bool, key uint32) []byte {
	b0 := rsv | op
	if fin {
		b0 |= 0x80
	}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	n := len(payload)
	out := make([]byte, 0, 14+n)
	out = append(out, b0)
	switch {
	case n <= 125:
		out = append(out, mbit|byte(n))
	case n <= 0xFFFF:
		out = append(out, mbit|126, byte(n>>8), byte(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	out = append(out, k[:]...)
	start := len(out)
	out = append(out, payload...)
	confXOR(out[start:], k)
	return out
}

// confXOR masks or unmasks p with key, starting at key offset 0.
func confXOR(p []byte, k [4]byte) {
	k8 := binary.LittleEndian.Uint64([]byte{k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]})
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= k[i&3]
	}
}

// confHeaderLen returns the length of the header of the encoded frame f.
func confHeaderLen(f []byte) int {
	n := 2
	switch f[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if f[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// send writes the frames in one write.
func (s *confScript) send(frames ...[]byte) {
	s.sendChopped(0, 0, frames...)
}

// sendChopped writes the frames in writes of chop bytes, with delay
// between them.
func (s *confScript) sendChopped(chop int, delay time.Duration, frames ...[]byte) {
	s.steps = append(s.steps, confStep{kind: confStepSend, data: bytes.Join(frames, nil), chop: chop, delay: delay})
}

// sendSplit writes the frame's header byte by byte and its payload in
// writes of chop bytes.
func (s *confScript) sendSplit(f []byte, chop int) {
	h := confHeaderLen(f)
	s.sendChopped(1, 0, f[:h])
	if len(f) > h {
		s.sendChopped(chop, 0, f[h:])
	}
}

// msg sends a whole message in one frame.
func (s *confScript) msg(op byte, p []byte) { s.send(s.fr(true, 0, op, p)) }

// expect expects a data message.
func (s *confScript) expect(op byte, p []byte) {
	s.steps = append(s.steps, confStep{kind: confStepMsg, op: op, data: p})
}

// echo sends a message and expects it back.
func (s *confScript) echo(op byte, p []byte) {
	s.msg(op, p)
	s.expect(op, p)
}

// fragments encodes data as a message in fragments of size bytes (the
// last takes the rest; an empty message is one empty frame).
func (s *confScript) fragments(op byte, data []byte, size int) [][]byte {
	var out [][]byte
	first := true
	for first || len(data) > 0 {
		n := min(size, len(data))
		fop := confOpCont
		if first {
			fop = op
		}
		out = append(out, s.fr(n == len(data), 0, fop, data[:n]))
		data = data[n:]
		first = false
	}
	return out
}

func (s *confScript) ping(p []byte) { s.send(s.fr(true, 0, confOpPing, p)) }

func (s *confScript) expectPong(p []byte) {
	s.steps = append(s.steps, confStep{kind: confStepPong, data: p})
}

// expectPongs expects pongs for pings sent with these payloads, in order.
// RFC 6455 section 5.5.3 lets an endpoint that has not yet answered some
// pings answer only the most recent one, so pongs may be missing, but the
// last must come and none may be out of order.
func (s *confScript) expectPongs(ps [][]byte) {
	s.steps = append(s.steps, confStep{kind: confStepPongs, pongs: ps})
}

// sync makes the raw peer wait, before sending more, until every event
// expected so far has arrived.
func (s *confScript) sync() {
	s.steps = append(s.steps, confStep{kind: confStepSync, ch: make(chan struct{})})
}

func (s *confScript) pause(d time.Duration) {
	s.steps = append(s.steps, confStep{kind: confStepPause, delay: d})
}

// failWith ends the script: the library must fail the connection with a
// close frame carrying code, at once, since the raw peer sends nothing
// more, and its read must return a *ws.ProtocolError with that code.
func (s *confScript) failWith(code int) {
	s.ended, s.fail, s.endCodes, s.libCode = true, true, []int{code}, code
}

// closeWith ends the script: the raw peer sends a close frame with code
// (-1: an empty close frame) and reason, and the library must answer with
// a close frame whose code is one of want (by default, code echoed; 0
// means an empty close frame), then end the connection; its read must
// return the CloseError.
func (s *confScript) closeWith(code int, reason string, want ...int) {
	var p []byte
	if code >= 0 {
		p = confClosePayload(code, reason)
	}
	s.send(s.fr(true, 0, confOpClose, p))
	s.expectCloseAfterSent(code, reason, want...)
}

// expectCloseAfterSent ends a script whose own steps sent the close frame.
func (s *confScript) expectCloseAfterSent(code int, reason string, want ...int) {
	if len(want) == 0 {
		want = []int{max(code, 0)}
	}
	s.ended, s.sentClose, s.endCodes = true, true, want
	s.libCode = code
	if code < 0 {
		s.libCode = int(ws.StatusNoStatusReceived)
	}
	r := reason
	s.libReason = &r
}

// finish adds the default end: a normal close handshake.
func (s *confScript) finish() {
	if !s.ended {
		s.closeWith(1000, "")
	}
}

// compressed encodes a compressed message in frames of at most fragSize
// payload bytes (0: one frame), RSV1 on the first only (RFC 7692 6.1).
func (s *confScript) compressed(op byte, data []byte, fragSize int) [][]byte {
	payload := s.pmd.deflate(data)
	if fragSize <= 0 {
		return [][]byte{s.fr(true, confRSV1, op, payload)}
	}
	var out [][]byte
	for i := 0; i == 0 || i < len(payload); i += fragSize {
		part := payload[i:min(i+fragSize, len(payload))]
		fop, rsv := confOpCont, byte(0)
		if i == 0 {
			fop, rsv = op, confRSV1
		}
		out = append(out, s.fr(i+fragSize >= len(payload), rsv, fop, part))
	}
	return out
}

// compressedParts encodes a compressed message whose parts each go in a
// fragment of their own, each flushed, so the receiver can inflate a part
// before the next arrives.
func (s *confScript) compressedParts(op byte, parts ...[]byte) [][]byte {
	payloads := s.pmd.deflateParts(parts)
	out := make([][]byte, len(payloads))
	for i, p := range payloads {
		fop, rsv := confOpCont, byte(0)
		if i == 0 {
			fop, rsv = op, confRSV1
		}
		out[i] = s.fr(i == len(payloads)-1, rsv, fop, p)
	}
	return out
}

// ---------------------------------------------------------------------
// Running a script.

// confEvent is what the raw peer reads: a whole data message, or a
// control frame.
type confEvent struct {
	kind   string // "message", "ping", "pong", "close"
	op     byte
	data   []byte
	code   int // of a close frame; 0 when it had no payload
	reason string
}

func (e confEvent) String() string {
	switch e.kind {
	case "message":
		return fmt.Sprintf("%s message of %d bytes %s", confOpName(e.op), len(e.data), confShort(e.data))
	case "close":
		if e.code == 0 {
			return "an empty close frame"
		}
		return fmt.Sprintf("a close frame with code %d and reason %q", e.code, e.reason)
	}
	return fmt.Sprintf("a %s with payload %s", e.kind, confShort(e.data))
}

func confOpName(op byte) string {
	switch op {
	case confOpText:
		return "a text"
	case confOpBin:
		return "a binary"
	}
	return fmt.Sprintf("an opcode %#x", op)
}

func confShort(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q...", b[:24])
	}
	return fmt.Sprintf("%q", b)
}

// confDiff describes how got differs from want.
func confDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte %d (got %#02x, want %#02x)", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("got %d bytes, want %d", len(got), len(want))
}

// confConn is what the raw peer runs a script on: a TCP connection, or
// an HTTP/2 stream (confStream).
type confConn interface {
	io.ReadWriter
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// confExec runs the script on an open connection: a goroutine sends, this
// one reads and checks. It returns the first failure.
func confExec(nc confConn, br *bufio.Reader, s *confScript) error {
	stop := make(chan struct{})
	wdone := make(chan error, 1)
	nc.SetWriteDeadline(time.Now().Add(60 * time.Second))
	go func() { wdone <- confWrite(nc, s.steps, stop) }()
	writerDone := false
	defer func() {
		close(stop)
		if !writerDone {
			nc.SetWriteDeadline(time.Unix(1, 0)) // unblock a write the library no longer reads
			<-wdone
		}
	}()
	r := &confReader{nc: nc, br: br, fromClient: !s.client, pmd: s.pmd}
	for i, st := range s.steps {
		switch st.kind {
		case confStepSync:
			close(st.ch)
		case confStepMsg:
			want := fmt.Sprintf("the echo, %s", confEvent{kind: "message", op: st.op, data: st.data})
			ev, err := r.next(confReadTimeout)
			if err != nil {
				return fmt.Errorf("step %d, waiting for %s: %w", i, want, err)
			}
			if ev.kind != "message" || ev.op != st.op {
				return fmt.Errorf("step %d: got %s, want %s", i, ev, want)
			}
			if !bytes.Equal(ev.data, st.data) {
				return fmt.Errorf("step %d: echo differs: %s", i, confDiff(ev.data, st.data))
			}
		case confStepPong:
			ev, err := r.next(confReadTimeout)
			if err != nil {
				return fmt.Errorf("step %d, waiting for a pong %s: %w", i, confShort(st.data), err)
			}
			if ev.kind != "pong" || !bytes.Equal(ev.data, st.data) {
				return fmt.Errorf("step %d: got %s, want a pong with payload %s (RFC 6455 5.5.3)", i, ev, confShort(st.data))
			}
		case confStepPongs:
			for next := 0; next < len(st.pongs); {
				ev, err := r.next(confReadTimeout)
				if err != nil {
					return fmt.Errorf("step %d, waiting for pong %d of %d: %w", i, next+1, len(st.pongs), err)
				}
				if ev.kind != "pong" {
					return fmt.Errorf("step %d: got %s, want pong %d of %d", i, ev, next+1, len(st.pongs))
				}
				j := next
				for j < len(st.pongs) && !bytes.Equal(st.pongs[j], ev.data) {
					j++
				}
				if j == len(st.pongs) {
					return fmt.Errorf("step %d: %s answers none of the outstanding pings, in order (RFC 6455 5.5.3)", i, ev)
				}
				next = j + 1
			}
		}
	}
	// The end: the library's close frame.
	ev, err := r.next(confCloseTimeout)
	if err != nil {
		return fmt.Errorf("waiting for a close frame with code %v: %w", s.endCodes, err)
	}
	if ev.kind != "close" {
		return fmt.Errorf("got %s, want a close frame with code %v", ev, s.endCodes)
	}
	ok := false
	for _, c := range s.endCodes {
		ok = ok || ev.code == c
	}
	if !ok {
		return fmt.Errorf("got %s, want code %v", ev, s.endCodes)
	}
	if !s.sentClose {
		// Answer the close frame, as RFC 6455 section 5.5.1 asks, unless
		// the sender is still stuck in a write the library no longer reads.
		select {
		case <-wdone:
			writerDone = true
			p := binary.BigEndian.AppendUint16(nil, uint16(max(ev.code, 1000)))
			nc.Write(confEncode(true, 0, confOpClose, p, s.client, s.rng.Uint32()))
		default:
		}
	}
	// After the close frames, the library must close the TCP connection
	// (RFC 6455 5.5.1, 7.1.1), or end the HTTP/2 stream (RFC 8441 5),
	// sending nothing more.
	if err := r.expectEOF(confCloseTimeout); err != nil {
		return err
	}
	if s.checkKeys != nil {
		if err := s.checkKeys(r.keys); err != nil {
			return err
		}
	}
	return nil
}

// confWrite performs the script's sends.
func confWrite(nc confConn, steps []confStep, stop chan struct{}) error {
	for _, st := range steps {
		switch st.kind {
		case confStepSend:
			if st.chop <= 0 {
				if _, err := nc.Write(st.data); err != nil {
					return err
				}
				continue
			}
			for i := 0; i < len(st.data); i += st.chop {
				if _, err := nc.Write(st.data[i:min(i+st.chop, len(st.data))]); err != nil {
					return err
				}
				if st.delay > 0 {
					select {
					case <-time.After(st.delay):
					case <-stop:
						return nil
					}
				}
			}
		case confStepSync:
			select {
			case <-st.ch:
			case <-stop:
				return nil
			}
		case confStepPause:
			select {
			case <-time.After(st.delay):
			case <-stop:
				return nil
			}
		}
	}
	return nil
}

// confReader reads what the library sends and checks it against the
// rules RFC 6455 and RFC 7692 set for senders.
type confReader struct {
	nc         confConn
	br         *bufio.Reader
	fromClient bool // the library is the client
	pmd        *confPMD

	inMsg bool
	op    byte
	comp  bool
	buf   []byte
	keys  []uint32
}

// confViolation is a frame from the library that breaks the RFC.
type confViolation struct{ msg string }

func (v *confViolation) Error() string { return "the library sent " + v.msg }

func confViolationf(format string, args ...any) error {
	return &confViolation{fmt.Sprintf(format, args...)}
}

type confHeader struct {
	fin    bool
	rsv    byte
	op     byte
	masked bool
	key    [4]byte
	length uint64
}

const confMaxPayload = 80 << 20

func (r *confReader) readFrame(d time.Duration) (confHeader, []byte, error) {
	var h confHeader
	r.nc.SetReadDeadline(time.Now().Add(d))
	var b [8]byte
	if _, err := io.ReadFull(r.br, b[:2]); err != nil {
		return h, nil, err
	}
	h.fin, h.rsv, h.op, h.masked = b[0]&0x80 != 0, b[0]&0x70, b[0]&0x0F, b[1]&0x80 != 0
	switch l := b[1] & 0x7F; l {
	case 126:
		if _, err := io.ReadFull(r.br, b[:2]); err != nil {
			return h, nil, err
		}
		h.length = uint64(binary.BigEndian.Uint16(b[:2]))
		if h.length < 126 {
			return h, nil, confViolationf("a 16-bit payload length of %d (RFC 6455 5.2: the minimal number of bytes MUST be used)", h.length)
		}
	case 127:
		if _, err := io.ReadFull(r.br, b[:8]); err != nil {
			return h, nil, err
		}
		h.length = binary.BigEndian.Uint64(b[:8])
		if h.length>>63 != 0 || h.length <= 0xFFFF {
			return h, nil, confViolationf("a 64-bit payload length of %d (RFC 6455 5.2)", h.length)
		}
	default:
		h.length = uint64(l)
	}
	if h.masked {
		if _, err := io.ReadFull(r.br, h.key[:]); err != nil {
			return h, nil, err
		}
	}
	if h.length > confMaxPayload {
		return h, nil, fmt.Errorf("frame of %d bytes is beyond what the raw peer reads", h.length)
	}
	p := make([]byte, h.length)
	if _, err := io.ReadFull(r.br, p); err != nil {
		return h, nil, err
	}
	if h.masked {
		confXOR(p, h.key)
	}
	return h, p, nil
}

// next reads frames until an event.
func (r *confReader) next(d time.Duration) (confEvent, error) {
	for {
		h, p, err := r.readFrame(d)
		if err != nil {
			return confEvent{}, err
		}
		if r.fromClient {
			if !h.masked {
				return confEvent{}, confViolationf("an unmasked frame (opcode %#x) from the client (RFC 6455 5.3: a client MUST mask every frame)", h.op)
			}
			r.keys = append(r.keys, binary.BigEndian.Uint32(h.key[:]))
			if n := len(r.keys); n >= 3 && r.keys[n-1] == r.keys[n-2] && r.keys[n-2] == r.keys[n-3] {
				return confEvent{}, confViolationf("three frames in a row masked with the key %#08x (RFC 6455 5.3: a fresh key for each frame)", r.keys[n-1])
			}
		} else if h.masked {
			return confEvent{}, confViolationf("a masked frame (opcode %#x) from the server (RFC 6455 5.1)", h.op)
		}
		if h.op >= 0x8 {
			switch {
			case h.op > confOpPong:
				return confEvent{}, confViolationf("reserved opcode %#x (RFC 6455 5.2)", h.op)
			case h.rsv != 0:
				return confEvent{}, confViolationf("RSV bits %#x on a control frame (RFC 6455 5.2, RFC 7692 6.1)", h.rsv)
			case !h.fin:
				return confEvent{}, confViolationf("a fragmented control frame (RFC 6455 5.5)")
			case len(p) > 125:
				return confEvent{}, confViolationf("a control frame of %d bytes (RFC 6455 5.5)", len(p))
			}
			switch h.op {
			case confOpPing:
				return confEvent{kind: "ping", data: p}, nil
			case confOpPong:
				return confEvent{kind: "pong", data: p}, nil
			}
			ev := confEvent{kind: "close"}
			switch {
			case len(p) == 1:
				return ev, confViolationf("a close frame with a 1-byte payload (RFC 6455 5.5.1)")
			case len(p) >= 2:
				ev.code = int(binary.BigEndian.Uint16(p))
				ev.reason = string(p[2:])
				if !confSendableCode(ev.code) {
					return ev, confViolationf("close code %d, which may not be sent (RFC 6455 7.4)", ev.code)
				}
				if !utf8.Valid(p[2:]) {
					return ev, confViolationf("a close reason that is not UTF-8: %q (RFC 6455 5.5.1)", p[2:])
				}
			}
			return ev, nil
		}
		switch h.op {
		case confOpCont:
			if !r.inMsg {
				return confEvent{}, confViolationf("a continuation frame with no message to continue (RFC 6455 5.4)")
			}
			if h.rsv != 0 {
				return confEvent{}, confViolationf("RSV bits %#x on a continuation frame (RFC 6455 5.2, RFC 7692 6.1)", h.rsv)
			}
		case confOpText, confOpBin:
			if r.inMsg {
				return confEvent{}, confViolationf("a new data frame inside a fragmented message (RFC 6455 5.4)")
			}
			r.inMsg, r.op, r.buf = true, h.op, r.buf[:0]
			r.comp = h.rsv == confRSV1 && r.pmd != nil
			if h.rsv != 0 && !r.comp {
				return confEvent{}, confViolationf("RSV bits %#x that no negotiated extension defines (RFC 6455 5.2)", h.rsv)
			}
		default:
			return confEvent{}, confViolationf("reserved opcode %#x (RFC 6455 5.2)", h.op)
		}
		r.buf = append(r.buf, p...)
		if len(r.buf) > confMaxPayload {
			return confEvent{}, fmt.Errorf("message beyond what the raw peer reads")
		}
		if !h.fin {
			continue
		}
		r.inMsg = false
		data := bytes.Clone(r.buf)
		if r.comp {
			out, err := r.pmd.inflate(data)
			if err != nil {
				return confEvent{}, confViolationf("a compressed message that does not inflate with the negotiated window and takeover: %v (RFC 7692 7.2.2)", err)
			}
			data = out
		}
		// A large echo is compared with the valid text sent, which says as
		// much; validating it again only slows the race detector down.
		if r.op == confOpText && len(data) <= 1<<20 && !utf8.Valid(data) {
			return confEvent{}, confViolationf("a text message that is not UTF-8 (RFC 6455 5.6, 8.1)")
		}
		return confEvent{kind: "message", op: r.op, data: data}, nil
	}
}

// expectEOF reads until the library closes the connection: the TCP
// connection closes, or, over HTTP/2, the stream ends (END_STREAM or
// RST_STREAM, which confStream reports as errConfStreamEnded).
func (r *confReader) expectEOF(d time.Duration) error {
	r.nc.SetReadDeadline(time.Now().Add(d))
	var b [256]byte
	n, err := io.ReadAtLeast(r.br, b[:], 1)
	switch {
	case n > 0:
		return confViolationf("%d bytes after its close frame: % x (RFC 6455 5.5.1: nothing may follow a close frame)", n, b[:min(n, 16)])
	case err == io.EOF, errors.Is(err, syscall.ECONNRESET), errors.Is(err, errConfStreamEnded):
		return nil
	case confIsTimeout(err):
		if _, ok := r.nc.(*confStream); ok {
			return fmt.Errorf("the library did not end the HTTP/2 stream within %v of the close frames (RFC 6455 5.5.1, 7.1.1, RFC 8441 5)", d)
		}
		return fmt.Errorf("the library did not close the TCP connection within %v of the close frames (RFC 6455 5.5.1, 7.1.1)", d)
	}
	return fmt.Errorf("after the close frames: %w", err)
}

func confIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// confSendableCode reports whether a close frame may carry code: 1000-1003
// and 1007-1014 (RFC 6455 7.4.1 and the IANA registry of 7.4.2), and
// 3000-4999 (7.4.2).
func confSendableCode(code int) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

// checkLib checks the error the library's echo loop ended with.
func (s *confScript) checkLib(err error) error {
	if s.fail {
		var pe *ws.ProtocolError
		if !errors.As(err, &pe) || int(pe.Code) != s.libCode {
			return fmt.Errorf("the library's read returned %v, want a *ws.ProtocolError with code %d", err, s.libCode)
		}
		return nil
	}
	var ce ws.CloseError
	if !errors.As(err, &ce) || int(ce.Code) != s.libCode {
		return fmt.Errorf("the library's read returned %v, want the peer's ws.CloseError with code %d", err, s.libCode)
	}
	if s.libReason != nil && ce.Reason != *s.libReason {
		return fmt.Errorf("the library reports the close reason %q, want %q", ce.Reason, *s.libReason)
	}
	return nil
}

// confEcho echoes every message until the connection ends, and returns
// the error that ended it.
func confEcho(c *ws.Conn, mode string) error {
	ctx := context.Background()
	defer c.CloseNow()
	for {
		if mode == "read" {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return fmt.Errorf("echo: %w", err)
			}
			continue
		}
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
	}
}

// ---------------------------------------------------------------------
// The runners.

// confRunServer runs a case against the library's server over HTTP/1.1.
func confRunServer(t *testing.T, c *confCase, mode string) {
	libErr := make(chan error, 1)
	srv := httptest.NewServer(confLibServer(c, mode, libErr))
	defer srv.Close()
	nc, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitLib := confWaitLib(t, libErr)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(nc, 64<<10)

	headers := confReqHeaders(c)
	key := confNewKey()
	req := "GET /conformance HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\n"
	if !confHasHeader(headers, "Upgrade") {
		req += "Upgrade: websocket\r\n"
	}
	if !confHasHeader(headers, "Connection") {
		req += "Connection: Upgrade\r\n"
	}
	req += "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		nc.Close()
		t.Fatalf("reading the handshake response: %v (library: %v)", err, waitLib())
	}
	confOnServer(t, c, resp, confCheck101(resp, key), nc, br, func() { nc.Close() }, waitLib)
}

// confLibServer returns the handler of the library's server for a case:
// Accept with the case's options, then the echo loop, whose error goes to
// libErr.
func confLibServer(c *confCase, mode string, libErr chan<- error) http.Handler {
	opts := c.opts
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := ws.Accept(w, r, &ws.AcceptOptions{Options: opts})
		if err != nil {
			libErr <- fmt.Errorf("accept: %w", err)
			return
		}
		libErr <- confEcho(conn, mode)
	})
}

// confWaitLib returns a function that waits for the error of the
// library's server, once the raw client's connection has ended.
func confWaitLib(t *testing.T, libErr <-chan error) func() error {
	return func() error {
		select {
		case err := <-libErr:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("the library's server is still running 10 s after the connection ended")
			return nil
		}
	}
}

// confReqHeaders returns the lines, "Name: value", that the raw client
// adds to its handshake request for a case.
func confReqHeaders(c *confCase) []string {
	headers := append([]string(nil), c.reqHeaders...)
	if c.pmdOffer != "" {
		headers = append(headers, "Sec-WebSocket-Extensions: "+c.pmdOffer)
	}
	if c.neg != nil {
		for _, o := range c.neg.offers {
			headers = append(headers, "Sec-WebSocket-Extensions: "+o)
		}
	}
	return headers
}

// confOnServer runs a server case once the library's server has answered
// the handshake: checked is the transport's own check of the response
// (nil when it passed), then the subprotocol and the extensions are
// checked, and the case's script runs on nc. end ends the raw client's
// connection, and waitLib waits for the library's error.
func confOnServer(t *testing.T, c *confCase, resp *http.Response, checked error, nc confConn, br *bufio.Reader, end func(), waitLib func() error) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		end()
		waitLib()
		t.Fatalf(format, args...)
	}
	if checked != nil {
		fail("%v", checked)
	}
	if c.checkResp != nil {
		if err := c.checkResp(resp); err != nil {
			fail("%v", err)
		}
	}
	headers := confReqHeaders(c)
	if resp.Header.Get("Sec-WebSocket-Protocol") != "" && !confHasHeader(headers, "Sec-WebSocket-Protocol") {
		fail("the server chose subprotocol %q, none was offered (RFC 6455 4.2.2)", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	exts := resp.Header.Values("Sec-WebSocket-Extensions")
	var pmd *confPMD
	switch {
	case c.neg != nil:
		var err error
		pmd, err = c.neg.verify(exts)
		if err != nil {
			fail("offers %q: %v", c.neg.offers, err)
		}
	case c.pmdOffer != "":
		offers, err := confParseExtensions([]string{c.pmdOffer})
		if err != nil {
			t.Fatalf("bad offer in the table: %v", err)
		}
		offer, err := confParsePD(offers[0].params, false)
		if err != nil {
			t.Fatalf("bad offer in the table: %v", err)
		}
		pmd, err = confVerifyAccepted(exts, offer)
		if err != nil {
			fail("offer %q: %v", c.pmdOffer, err)
		}
		if pmd == nil {
			fail("the server declined the offer %q", c.pmdOffer)
		}
	case len(exts) > 0:
		fail("the server answered with extensions %q, none was offered (RFC 6455 4.2.2, 9.1)", exts)
	}
	s := newConfScript(true, pmd)
	c.script(s)
	execErr := confExec(nc, br, s)
	end()
	lerr := waitLib()
	if execErr != nil {
		t.Errorf("%s: %v", c.ref, execErr)
	}
	if err := s.checkLib(lerr); err != nil {
		t.Errorf("%s: %v", c.ref, err)
	}
}

// script writes the case's script, with the default end.
func (c *confCase) script(s *confScript) {
	if c.build != nil {
		c.build(s)
	} else {
		s.echo(confOpText, []byte("Hello, conformance"))
	}
	s.finish()
}

// confRunClient runs a case against the library's client over HTTP/1.1.
func confRunClient(t *testing.T, c *confCase, mode string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvDone := make(chan confRawResult, 1)
	go func() { srvDone <- confServeRaw(ln, c) }()
	confOnClient(t, c, mode, "ws://"+ln.Addr().String()+"/conformance", nil, c.failStatus, srvDone)
}

// confOnClient runs a client case once its raw server is up: Dial of
// url, through rt over HTTP/2 (nil: HTTP/1.1), then the echo loop, while
// the raw server sends its result to srvDone. failStatus is the status
// that the HandshakeError of a case whose Dial must fail carries (0: any).
func confOnClient(t *testing.T, c *confCase, mode, url string, rt http.RoundTripper, failStatus int, srvDone <-chan confRawResult) {
	t.Helper()
	raw := func(d time.Duration) confRawResult {
		select {
		case r := <-srvDone:
			return r
		case <-time.After(d):
			return confRawResult{err: fmt.Errorf("the raw server did not finish within %v", d)}
		}
	}
	o := c.opts
	if c.copts != nil {
		o = *c.copts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := ws.Dial(ctx, url, &ws.DialOptions{Options: o, Subprotocols: c.subprotocols, HTTP2: rt})
	if c.dialFail {
		var he *ws.HandshakeError
		switch {
		case err == nil:
			conn.CloseNow()
			t.Errorf("%s: Dial succeeded, want a *ws.HandshakeError", c.ref)
		case !errors.As(err, &he):
			t.Errorf("%s: Dial returned %v, want a *ws.HandshakeError", c.ref, err)
		case failStatus != 0 && he.Status != failStatus:
			t.Errorf("%s: HandshakeError.Status %d, want %d (%v)", c.ref, he.Status, failStatus, err)
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if r := raw(30 * time.Second); r.err != nil {
			t.Errorf("raw server: %v", r.err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Dial: %v (raw server: %v)", c.ref, err, raw(30*time.Second).err)
	}
	if conn.Subprotocol() != c.wantSubprotocol {
		t.Errorf("%s: Subprotocol() = %q, want %q", c.ref, conn.Subprotocol(), c.wantSubprotocol)
	}
	libErr := make(chan error, 1)
	go func() { libErr <- confEcho(conn, mode) }()
	var r confRawResult
	select {
	case r = <-srvDone:
	case <-time.After(90 * time.Second):
		conn.CloseNow()
		r = raw(30 * time.Second)
		r.err = fmt.Errorf("the raw server did not finish: %v", r.err)
	}
	var lerr error
	select {
	case lerr = <-libErr:
	case <-time.After(10 * time.Second):
		conn.CloseNow()
		lerr = <-libErr
		t.Errorf("the library's client is still reading 10 s after the connection ended")
	}
	if r.err != nil {
		t.Errorf("%s: %v", c.ref, r.err)
	}
	if r.s != nil {
		if err := r.s.checkLib(lerr); err != nil {
			t.Errorf("%s: %v", c.ref, err)
		}
	}
}

// confRawResult is what the raw server of a client case ends with.
type confRawResult struct {
	s   *confScript
	err error
}

// confServeRaw is the raw server of a client case over HTTP/1.1: it
// checks the client's handshake request (RFC 6455 4.1), answers it, and
// runs the case's script.
func confServeRaw(ln net.Listener, c *confCase) (res confRawResult) {
	nc, err := ln.Accept()
	if err != nil {
		res.err = err
		return
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReaderSize(nc, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		res.err = fmt.Errorf("reading the handshake request: %w", err)
		return
	}
	if err := confCheckRequest(req); err != nil {
		res.err = err
		return
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	var response string
	if c.rawResp != nil {
		response = c.rawResp(key)
	} else {
		response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + confAcceptKey(key) + "\r\n"
		for _, l := range c.respLines {
			response += l + "\r\n"
		}
		response += "\r\n"
	}
	if _, err := io.WriteString(nc, response); err != nil {
		res.err = err
		return
	}
	if c.dialFail {
		return // the client must give up on this response
	}
	res.s, res.err = confRawScript(c, req.Header.Values("Sec-WebSocket-Extensions"))
	if res.err == nil {
		res.err = confExec(nc, br, res.s)
	}
	return
}

// confRawScript returns the script of a client case's raw server, whose
// response agreed to the compression in the case's response lines, if
// any, with the client's offers.
func confRawScript(c *confCase, offers []string) (*confScript, error) {
	var pmd *confPMD
	var respExts []string
	for _, l := range c.respLines {
		if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") {
			respExts = append(respExts, strings.TrimSpace(v))
		}
	}
	if len(respExts) > 0 {
		els, err := confParseExtensions(offers)
		if err != nil || len(els) == 0 {
			return nil, fmt.Errorf("the client's offer %q does not parse: %v (RFC 6455 9.1)", offers, err)
		}
		offer, err := confParsePD(els[0].params, false)
		if err != nil {
			return nil, fmt.Errorf("the client's offer %q is invalid: %v (RFC 7692 7.1)", offers, err)
		}
		ex, err := confParseExtensions(respExts)
		if err != nil || len(ex) != 1 {
			return nil, fmt.Errorf("bad response in the table: %q", respExts)
		}
		resp, err := confParsePD(ex[0].params, true)
		if err != nil {
			return nil, fmt.Errorf("bad response in the table: %v", err)
		}
		pmd = confNewPMD(offer, resp, false)
	}
	s := newConfScript(false, pmd)
	c.script(s)
	return s, nil
}

// confCheckRequest checks a client's opening handshake against RFC 6455
// section 4.1.
func confCheckRequest(req *http.Request) error {
	switch {
	case req.Method != http.MethodGet:
		return fmt.Errorf("handshake method %s, want GET (RFC 6455 4.1)", req.Method)
	case req.ProtoMajor != 1 || req.ProtoMinor < 1:
		return fmt.Errorf("handshake over %s, want HTTP/1.1 or later (RFC 6455 4.1)", req.Proto)
	case req.Host == "":
		return fmt.Errorf("handshake without Host (RFC 6455 4.1)")
	case !confHasToken(req.Header, "Upgrade", "websocket"):
		return fmt.Errorf("handshake Upgrade %q, want websocket (RFC 6455 4.1)", req.Header.Values("Upgrade"))
	case !confHasToken(req.Header, "Connection", "upgrade"):
		return fmt.Errorf("handshake Connection %q, want Upgrade (RFC 6455 4.1)", req.Header.Values("Connection"))
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		return fmt.Errorf("Sec-WebSocket-Version %q, want 13 (RFC 6455 4.1)", req.Header.Get("Sec-WebSocket-Version"))
	}
	keys := req.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return fmt.Errorf("%d Sec-WebSocket-Key headers, want 1 (RFC 6455 4.1)", len(keys))
	}
	if k, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(k) != 16 {
		return fmt.Errorf("Sec-WebSocket-Key %q is not 16 bytes in base64 (RFC 6455 4.1)", keys[0])
	}
	confKeysMu <- struct{}{}
	defer func() { <-confKeysMu }()
	if confKeysSeen[keys[0]] {
		return fmt.Errorf("Sec-WebSocket-Key %q used twice (RFC 6455 4.1: a new random nonce for each connection)", keys[0])
	}
	confKeysSeen[keys[0]] = true
	return nil
}

var (
	confKeysMu   = make(chan struct{}, 1)
	confKeysSeen = map[string]bool{}
)

// confCheck101 checks a server's handshake response against RFC 6455
// section 4.2.2 (and what a client checks, 4.1).
func confCheck101(resp *http.Response, key string) error {
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fmt.Errorf("handshake status %s, want 101 (RFC 6455 4.2.2)", resp.Status)
	case !confHasToken(resp.Header, "Upgrade", "websocket"):
		return fmt.Errorf("response Upgrade %q, want websocket (RFC 6455 4.2.2)", resp.Header.Values("Upgrade"))
	case !confHasToken(resp.Header, "Connection", "upgrade"):
		return fmt.Errorf("response Connection %q, want Upgrade (RFC 6455 4.2.2)", resp.Header.Values("Connection"))
	case resp.Header.Get("Sec-WebSocket-Accept") != confAcceptKey(key):
		return fmt.Errorf("Sec-WebSocket-Accept %q, want %q (RFC 6455 4.2.2)", resp.Header.Get("Sec-WebSocket-Accept"), confAcceptKey(key))
	}
	return nil
}

func confAcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func confNewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func confHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func confHasHeader(lines []string, name string) bool {
	for _, l := range lines {
		if n, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------
// permessage-deflate (RFC 7692).

// confPD are the parameters of one permessage-deflate element.
type confPD struct {
	snct, cnct bool // server_no_context_takeover, client_no_context_takeover
	smwb, cmwb int  // server_max_window_bits, client_max_window_bits; 0 when absent
	cmwbBare   bool // client_max_window_bits without a value (an offer only)
}

// confParsePD applies the rules of RFC 7692 section 7.1 to the parameters
// of an offer (response false) or a response.
func confParsePD(params []confParam, response bool) (confPD, error) {
	var p confPD
	seen := map[string]bool{}
	for _, prm := range params {
		name := strings.ToLower(prm.name)
		if seen[name] {
			return p, fmt.Errorf("parameter %s repeated (RFC 7692 7)", prm.name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if prm.hasValue {
				return p, fmt.Errorf("%s with a value (RFC 7692 7.1.1)", prm.name)
			}
			if name == "server_no_context_takeover" {
				p.snct = true
			} else {
				p.cnct = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			if !prm.hasValue {
				if name == "client_max_window_bits" && !response {
					p.cmwbBare = true
					continue
				}
				return p, fmt.Errorf("%s without a value (RFC 7692 7.1.2)", prm.name)
			}
			v := prm.value
			if len(v) == 0 || len(v) > 2 || v[0] == '0' || strings.Trim(v, "0123456789") != "" {
				return p, fmt.Errorf("%s=%q (RFC 7692 7.1.2: a decimal 8 to 15 without leading zeroes)", prm.name, v)
			}
			n, _ := strconv.Atoi(v)
			if n < 8 || n > 15 {
				return p, fmt.Errorf("%s=%d (RFC 7692 7.1.2: 8 to 15)", prm.name, n)
			}
			if name == "server_max_window_bits" {
				p.smwb = n
			} else {
				p.cmwb = n
			}
		default:
			return p, fmt.Errorf("unknown parameter %q (RFC 7692 7)", prm.name)
		}
	}
	return p, nil
}

// confVerifyAccepted checks a server's Sec-WebSocket-Extensions response
// to a valid offer. It returns nil, nil when the server declined.
func confVerifyAccepted(exts []string, offer confPD) (*confPMD, error) {
	if len(exts) == 0 {
		return nil, nil
	}
	els, err := confParseExtensions(exts)
	if err != nil {
		return nil, fmt.Errorf("response %q does not parse: %v (RFC 6455 9.1)", exts, err)
	}
	if len(els) != 1 || !strings.EqualFold(els[0].name, "permessage-deflate") {
		return nil, fmt.Errorf("response %q, want one permessage-deflate element (RFC 7692 5)", exts)
	}
	resp, err := confParsePD(els[0].params, true)
	if err != nil {
		return nil, fmt.Errorf("response %q: %v", exts, err)
	}
	switch {
	case offer.snct && !resp.snct:
		return nil, fmt.Errorf("response %q lacks the offered server_no_context_takeover (RFC 7692 7.1.1.1)", exts)
	case offer.smwb != 0 && resp.smwb == 0:
		return nil, fmt.Errorf("response %q lacks the offered server_max_window_bits (RFC 7692 7.1.2.1)", exts)
	case offer.smwb != 0 && resp.smwb > offer.smwb:
		return nil, fmt.Errorf("response %q: server_max_window_bits above the offered %d (RFC 7692 7.1.2.1)", exts, offer.smwb)
	case resp.cmwb != 0 && offer.cmwb == 0 && !offer.cmwbBare:
		return nil, fmt.Errorf("response %q has client_max_window_bits, which the offer lacks (RFC 7692 7.1.2.2)", exts)
	case resp.cmwb != 0 && offer.cmwb != 0 && resp.cmwb > offer.cmwb:
		return nil, fmt.Errorf("response %q: client_max_window_bits above the offered %d (RFC 7692 7.1.2.2)", exts, offer.cmwb)
	}
	return confNewPMD(offer, resp, true), nil
}

// verify checks the server's response to a negotiation case's offers.
func (n *confNeg) verify(exts []string) (*confPMD, error) {
	if n.accept < 0 {
		if len(exts) > 0 {
			return nil, fmt.Errorf("the server accepted %q, want it to decline every offer and answer without the extension (RFC 7692 5, 7)", exts)
		}
		return nil, nil
	}
	offers, err := confParseExtensions(n.offers)
	if err != nil {
		return nil, fmt.Errorf("bad offer in the table: %v", err)
	}
	offer, err := confParsePD(offers[n.accept].params, false)
	if err != nil {
		return nil, fmt.Errorf("bad offer in the table: %v", err)
	}
	if len(exts) == 0 {
		return nil, fmt.Errorf("the server declined, want it to accept offer %d (RFC 7692 5: the first acceptable offer)", n.accept+1)
	}
	pmd, err := confVerifyAccepted(exts, offer)
	if err != nil {
		return nil, fmt.Errorf("want offer %d accepted: %v", n.accept+1, err)
	}
	if n.check != nil {
		if err := n.check(pmd.resp); err != nil {
			return nil, fmt.Errorf("response %q: %v", exts, err)
		}
	}
	return pmd, nil
}

// confPMD is the raw peer's compression state: how it compresses, and
// how the library must have compressed.
type confPMD struct {
	resp      confPD // the agreed parameters
	sendBits  int
	sendNoCtx bool
	recvBits  int
	recvNoCtx bool

	fw   *kflate.Writer
	fbuf bytes.Buffer
	hist []byte // the library's last 1<<recvBits bytes, with its context takeover
}

// confNewPMD sets up compression for the agreed parameters: the client
// compresses with client_max_window_bits (or what it offered), the server
// with server_max_window_bits; RFC 7692 7.1.
func confNewPMD(offer, resp confPD, rawIsClient bool) *confPMD {
	sb, cb := 15, 15
	if resp.smwb != 0 {
		sb = resp.smwb
	}
	switch {
	case resp.cmwb != 0:
		cb = resp.cmwb
	case offer.cmwb != 0:
		cb = offer.cmwb
	}
	snc, cnc := resp.snct, resp.cnct || offer.cnct
	p := &confPMD{resp: resp}
	if rawIsClient {
		p.sendBits, p.sendNoCtx, p.recvBits, p.recvNoCtx = cb, cnc, sb, snc
	} else {
		p.sendBits, p.sendNoCtx, p.recvBits, p.recvNoCtx = sb, snc, cb, cnc
	}
	return p
}

var confTail = []byte{0, 0, 0xff, 0xff}

// deflate compresses a message as RFC 7692 7.2.1 says: DEFLATE with a
// sync flush, the trailing 00 00 ff ff removed.
func (p *confPMD) deflate(data []byte) []byte { return p.deflateParts([][]byte{data})[0] }

// deflateParts compresses a message in parts, each flushed; the tail is
// removed from the last only.
func (p *confPMD) deflateParts(parts [][]byte) [][]byte {
	if p.fw == nil || p.sendNoCtx {
		fw, err := kflate.NewWriterWindow(&p.fbuf, 1<<p.sendBits)
		if err != nil {
			panic(err)
		}
		p.fw = fw
	}
	out := make([][]byte, len(parts))
	for i, part := range parts {
		p.fbuf.Reset()
		p.fw.Write(part)
		p.fw.Flush()
		b := bytes.Clone(p.fbuf.Bytes())
		if i == len(parts)-1 {
			if !bytes.HasSuffix(b, confTail) {
				panic("flush without the 00 00 ff ff tail")
			}
			b = b[:len(b)-4]
		}
		out[i] = b
	}
	return out
}

// inflate decompresses a message of the library's (RFC 7692 7.2.2): the
// tail appended, inflated with the library's earlier output as the
// dictionary when it keeps its context, cut to its window, so a reference
// beyond the negotiated window fails.
func (p *confPMD) inflate(payload []byte) ([]byte, error) {
	in := append(bytes.Clone(payload), confTail...)
	var dict []byte
	if !p.recvNoCtx {
		dict = p.hist
	}
	out, err := io.ReadAll(stdflate.NewReaderDict(bytes.NewReader(in), dict))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if p.recvBits < 15 {
		// Inside the message too, no match may reach back further than
		// the window.
		_, d, err := deflatetest.Inflate(dict, in)
		if w := 1 << p.recvBits; d > w {
			return nil, fmt.Errorf("a back-reference %d bytes back, beyond the negotiated window of %d bytes (RFC 7692 7.1.2)", d, w)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
	}
	if !p.recvNoCtx {
		p.hist = append(p.hist, out...)
		if w := 1 << p.recvBits; len(p.hist) > w {
			p.hist = bytes.Clone(p.hist[len(p.hist)-w:])
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------
// Sec-WebSocket-Extensions (RFC 6455 section 9.1).

type confExt struct {
	name   string
	params []confParam
}

type confParam struct {
	name, value string
	hasValue    bool
}

func confIsTokenChar(c byte) bool {
	if c <= 0x20 || c >= 0x7F {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\\\"/[]?={}", rune(c))
}

// confParseExtensions parses header values of the grammar
// extension-list = 1#extension, extension = token *( ";" param ),
// param = token [ "=" (token | quoted-string) ].
func confParseExtensions(values []string) ([]confExt, error) {
	var out []confExt
	for _, v := range values {
		i := 0
		ws := func() {
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
		}
		token := func() string {
			j := i
			for i < len(v) && confIsTokenChar(v[i]) {
				i++
			}
			return v[j:i]
		}
		for {
			ws()
			if i == len(v) {
				break
			}
			name := token()
			if name == "" {
				return nil, fmt.Errorf("expected an extension name at %d in %q", i, v)
			}
			e := confExt{name: name}
			for {
				ws()
				if i == len(v) || v[i] != ';' {
					break
				}
				i++
				ws()
				pn := token()
				if pn == "" {
					return nil, fmt.Errorf("expected a parameter name at %d in %q", i, v)
				}
				prm := confParam{name: pn}
				ws()
				if i < len(v) && v[i] == '=' {
					i++
					ws()
					prm.hasValue = true
					if i < len(v) && v[i] == '"' {
						i++
						var b strings.Builder
						closed := false
						for i < len(v) {
							c := v[i]
							i++
							if c == '\\' && i < len(v) {
								b.WriteByte(v[i])
								i++
								continue
							}
							if c == '"' {
								closed = true
								break
							}
							b.WriteByte(c)
						}
						if !closed {
							return nil, fmt.Errorf("unterminated quoted string in %q", v)
						}
						prm.value = b.String()
						// RFC 6455 9.1: the unescaped value must be a token.
						for k := 0; k < len(prm.value); k++ {
							if !confIsTokenChar(prm.value[k]) {
								return nil, fmt.Errorf("quoted value %q is not a token", prm.value)
							}
						}
						if prm.value == "" {
							return nil, fmt.Errorf("empty quoted value in %q", v)
						}
					} else {
						prm.value = token()
						if prm.value == "" {
							return nil, fmt.Errorf("expected a value at %d in %q", i, v)
						}
					}
				}
				e.params = append(e.params, prm)
			}
			out = append(out, e)
			ws()
			if i == len(v) {
				break
			}
			if v[i] != ',' {
				return nil, fmt.Errorf("unexpected %q at %d in %q", v[i], i, v)
			}
			i++
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------
// UTF-8 (Unicode table 3-7, as RFC 3629 section 4).

// confUTF8 returns the index of the first byte at which b stops being a
// prefix of well-formed UTF-8, or -1 when it is one; complete reports
// whether b is well-formed UTF-8 as a whole.
func confUTF8(b []byte) (bad int, complete bool) {
	for i := 0; i < len(b); {
		c := b[i]
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c < 0x80:
			i++
			continue
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		default:
			return i, false
		}
		for k := 1; k <= need; k++ {
			if i+k >= len(b) {
				return -1, false
			}
			d := b[i+k]
			if k == 1 && (d < lo || d > hi) || k > 1 && (d < 0x80 || d > 0xBF) {
				return i + k, false
			}
		}
		i += need + 1
	}
	return -1, true
}

// ---------------------------------------------------------------------
// Payloads.

// confBin returns n bytes of every value.
func confBin(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// confRandom returns n incompressible bytes.
func confRandom(n int, seed uint64) []byte {
	r := mrand.New(mrand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// confText returns n bytes of valid UTF-8 mixing 1- to 4-byte characters,
// so fragments of it split characters.
func confText(n int) []byte {
	const pattern = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 €uro "
	return confText0(bytes.Repeat([]byte(pattern), n/len(pattern)+1)[:n])
}

// confText0 makes valid UTF-8 cut at any byte valid again, by replacing
// the character cut at its end.
func confText0(b []byte) []byte {
	j := len(b) - 1
	for j > 0 && j > len(b)-4 && !utf8.RuneStart(b[j]) {
		j--
	}
	if j >= 0 && !utf8.FullRune(b[j:]) {
		for k := j; k < len(b); k++ {
			b[k] = '*'
		}
	}
	return b
}

var (
	confCacheMu = make(chan struct{}, 1)
	confCache   = map[[2]int][]byte{}
)

// confShared returns confPayload(op, n), shared between cases: callers
// must not change it.
func confShared(op byte, n int) []byte {
	confCacheMu <- struct{}{}
	defer func() { <-confCacheMu }()
	k := [2]int{int(op), n}
	if p, ok := confCache[k]; ok {
		return p
	}
	p := confPayload(op, n)
	confCache[k] = p
	return p
}

// confJSON returns n bytes of compressible text, varying with seed.
func confJSON(n, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user%d","active":%v,"tags":["κόσμε","b"]},`, i*seed+7, (i+seed)%13, i%3 == 0)
	}
	return confText0(b.Bytes()[:n])
}

func confClosePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

func confSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
