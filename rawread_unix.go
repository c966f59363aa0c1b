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
	// The read callback of readIdle: a closure of its own rather than a
	// method value, whose wrapper would add a frame to the deepest point
	// of an idle connection's wait, which is here.
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
				return false
			default:
				rd.rawErr = err
				rd.release()
				return true
			}
		}
	}
}
