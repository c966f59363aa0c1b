//go:build unix

package ws

import (
	"io"
	"net"
	"syscall"
)

// setRawRead lets readIdle wait for a socket to be readable before it
// takes a buffer, so an idle connection holds none: on Unix a read of the
// raw descriptor either fills a pooled buffer or says EAGAIN.
func (c *Conn) setRawRead(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = raw
	// The read callback of readIdle and readNow. A closure of its own
	// rather than a method value, whose wrapper would add a frame to the
	// deepest point of an idle connection's wait, which is here.
	rd := &c.rd
	rd.rawRead = func(fd uintptr) bool {
		if rd.bufp == nil {
			rd.bufp = getReadBuf()
			rd.buf = *rd.bufp
			rd.r, rd.w = 0, 0
		}
		for {
			n, err := syscall.Read(int(fd), rd.buf)
			switch err {
			case nil:
				rd.rawN = n
				rd.w = n
				if n == 0 {
					rd.release()
				}
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				putReadBuf(rd.bufp)
				rd.bufp, rd.buf = nil, nil
				return rd.rawN < 0 // readNow's call returns; readIdle's waits
			default:
				rd.rawErr = err
				rd.release()
				return true
			}
		}
	}
}

// readNow is readIdle without the wait, for awaitMessage, which parks
// instead. It reports whether the socket was ready: bytes are then in the
// buffer, or it returns the end of the stream or the socket's error.
func (c *Conn) readNow() (bool, error) {
	rd := &c.rd
	rd.rawN, rd.rawErr = -1, nil // -1: the callback must not wait
	if err := c.raw.Read(rd.rawRead); err != nil {
		return true, err
	}
	switch {
	case rd.rawErr != nil:
		return true, rd.rawErr
	case rd.rawN < 0:
		return false, nil
	case rd.rawN == 0:
		return true, io.EOF
	}
	return true, nil
}
