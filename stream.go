//go:build !js

package ws

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// streamConn is the transport of a WebSocket over an HTTP/2 stream (RFC
// 8441): a net.Conn whose reads come from the stream's body and whose
// writes go to the other direction of the stream.
//
// An HTTP/2 stream's own deadlines destroy it: net/http resets the stream
// when a write deadline passes and closes the body when a read deadline
// does. The connection interrupts reads and writes with deadlines when a
// context ends, and must stay usable after, so streamConn keeps deadlines
// of its own: the stream is read by one goroutine of the stream's, started
// by the first Read, and each chunk of a write is written by a goroutine
// of its own, while the caller waits for either or for its deadline. A
// read that times out leaves its bytes for the next Read; a write that
// times out has handed its chunk over, and that chunk goes out before the
// next write's. Buffers are taken from the pools only while bytes are in
// flight, so an idle stream holds none (an idle read lands in a small
// array).
type streamConn struct {
	body   io.ReadCloser // what the peer sends
	w      io.Writer     // what we send
	flush  func() error  // after each write; may be nil
	end    func()        // ends what we send, on Close; may be nil
	reset  func()        // resets the stream, so a stuck write returns
	local  net.Addr
	remote net.Addr

	rd, wd streamDeadline
	wg     sync.WaitGroup // the read and write in flight

	mu      sync.Mutex
	closed  bool
	done    chan struct{} // closed by Close
	reading bool          // a read is in flight
	rwant   chan bool     // asks readStream for a read, small or not
	data    []byte        // read and not yet returned
	datap   *[]byte       // the pooled buffer behind data, if any
	rerr    error         // the stream's read error, for good
	small   [16]byte      // an idle read's landing place
	writing bool          // a write is in flight
	werr    error         // the stream's write error, for good
	rready  chan struct{} // a read ended (capacity 1)
	wready  chan struct{} // a write ended (capacity 1)
}

func newStreamConn(body io.ReadCloser, w io.Writer) *streamConn {
	return &streamConn{
		body:   body,
		w:      w,
		done:   make(chan struct{}),
		rready: make(chan struct{}, 1),
		wready: make(chan struct{}, 1),
	}
}

// Read returns bytes of the stream. While none have arrived it waits
// for a read of the stream on a goroutine of its own, until the read
// deadline; a small p (the wait of an idle connection) lands them in a
// small array, a larger one in a pooled buffer.
func (s *streamConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		s.mu.Lock()
		if len(s.data) > 0 {
			n := copy(p, s.data)
			s.data = s.data[n:]
			if len(s.data) == 0 && s.datap != nil {
				putReadBuf(s.datap)
				s.datap = nil
			}
			s.mu.Unlock()
			return n, nil
		}
		if s.rerr != nil {
			err := s.rerr
			s.mu.Unlock()
			return 0, err
		}
		if s.closed {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		if !s.reading {
			s.reading = true
			if s.rwant == nil {
				s.rwant = make(chan bool, 1)
				s.wg.Add(1)
				go s.readStream()
			}
			s.rwant <- len(p) <= len(s.small)
		}
		expired := s.rd.wait()
		s.mu.Unlock()
		select {
		case <-s.rready:
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		case <-s.done:
		}
	}
}

// readStream reads the stream for Read, once for each request on rwant,
// until the stream fails or Close. It is one goroutine for the life of
// the stream, rather than one per read, whose stack would grow each time.
func (s *streamConn) readStream() {
	defer s.wg.Done()
	for {
		var small bool
		select {
		case small = <-s.rwant:
		case <-s.done:
			return
		}
		var bp *[]byte
		buf := s.small[:]
		if !small {
			bp = getReadBuf()
			buf = *bp
		}
		n, err := s.body.Read(buf)
		s.mu.Lock()
		s.reading = false
		if n > 0 {
			s.data, s.datap = buf[:n], bp
		} else if bp != nil {
			putReadBuf(bp)
		}
		if err != nil {
			s.rerr = err
		}
		s.mu.Unlock()
		select {
		case s.rready <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// Write sends p in chunks of up to writeBufSize, each copied to a pooled
// buffer and written by a goroutine, while Write waits for it or for the
// write deadline. A chunk handed over counts as written: it goes out
// before the next write's, or the stream fails.
func (s *streamConn) Write(p []byte) (int, error) {
	n := 0
	s.mu.Lock()
	for {
		for s.writing && !s.closed {
			expired := s.wd.wait()
			s.mu.Unlock()
			select {
			case <-s.wready:
			case <-expired:
				return n, os.ErrDeadlineExceeded
			case <-s.done:
			}
			s.mu.Lock()
		}
		var err error
		switch {
		case s.werr != nil:
			err = s.werr
		case s.closed:
			err = net.ErrClosed
		case n == len(p):
		case s.wd.passed():
			err = os.ErrDeadlineExceeded
		default:
			bp := getWriteBuf()
			k := copy(*bp, p[n:])
			n += k
			s.writing = true
			s.wg.Add(1)
			go s.writeStream(bp, k)
			continue
		}
		s.mu.Unlock()
		return n, err
	}
}

// writeStream writes a chunk of Write's to the stream, and flushes it.
func (s *streamConn) writeStream(bp *[]byte, n int) {
	defer s.wg.Done()
	var err error
	if n > 0 {
		_, err = s.w.Write((*bp)[:n])
	}
	if err == nil && s.flush != nil {
		err = s.flush()
	}
	putWriteBuf(bp)
	s.mu.Lock()
	s.writing = false
	if err != nil && s.werr == nil {
		s.werr = err
	}
	s.mu.Unlock()
	select {
	case s.wready <- struct{}{}:
	default:
	}
}

// Close stops reading the stream and ends what we send: a chunk still in
// flight gets the stream reset, since the peer is not taking it. It waits
// for the goroutines of the read and write in flight.
func (s *streamConn) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	close(s.done)
	stuck := s.writing
	s.mu.Unlock()
	if stuck && s.reset != nil {
		s.reset()
	}
	if s.end != nil {
		s.end()
	}
	s.body.Close()
	s.wg.Wait()
	s.mu.Lock()
	if s.datap != nil {
		putReadBuf(s.datap)
		s.datap, s.data = nil, nil
	}
	s.mu.Unlock()
	return nil
}

func (s *streamConn) LocalAddr() net.Addr  { return s.local }
func (s *streamConn) RemoteAddr() net.Addr { return s.remote }

func (s *streamConn) SetDeadline(t time.Time) error {
	s.rd.set(t)
	s.wd.set(t)
	return nil
}

func (s *streamConn) SetReadDeadline(t time.Time) error {
	s.rd.set(t)
	return nil
}

func (s *streamConn) SetWriteDeadline(t time.Time) error {
	s.wd.set(t)
	return nil
}

// streamDeadline is a deadline whose passing closes a channel.
type streamDeadline struct {
	mu      sync.Mutex
	gen     uint64
	timer   *time.Timer
	expired chan struct{} // nil while no deadline has passed
	waiting chan struct{} // the channel wait returned while none had
}

// set sets the deadline; the zero time clears it.
func (d *streamDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.expired = nil
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.expire()
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(dur, func() {
		d.mu.Lock()
		if d.gen == gen {
			d.expire()
		}
		d.mu.Unlock()
	})
}

// expire marks the deadline passed (under mu).
func (d *streamDeadline) expire() {
	if d.waiting == nil {
		d.waiting = make(chan struct{})
	}
	close(d.waiting)
	d.expired, d.waiting = d.waiting, nil
}

// passed reports whether the deadline has passed.
func (d *streamDeadline) passed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired != nil
}

// wait returns a channel that is closed once the deadline has passed.
func (d *streamDeadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expired != nil {
		return d.expired
	}
	if d.waiting == nil {
		d.waiting = make(chan struct{})
	}
	return d.waiting
}

// streamAddr is the address of an end of an HTTP/2 stream's connection,
// as net/http gives it: a string.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }
