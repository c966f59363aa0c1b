//go:build unix

package ws

import (
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
	c.rd.rawRead = c.rawRead
}

// rawRead is the syscall.RawConn read callback of readIdle.
func (c *Conn) rawRead(fd uintptr) bool {
	rd := &c.rd
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
			return false
		default:
			rd.rawErr = err
			rd.release()
			return true
		}
	}
}
