package ws

import (
	"os"
	"sync"
	"syscall"
)

// idlePolling says that the Messages goroutine parks while its socket has
// nothing to read (see awaitMessage).
const idlePolling = true

// idlePoller watches the sockets of parked Messages goroutines and
// resumes each once its socket is readable. It is one epoll instance for
// the process, which the runtime's poller watches in turn (an epoll
// descriptor is readable while it has events), and one goroutine that
// waits on it while it watches anything. A socket is registered level
// triggered and one-shot, so that bytes that arrived before the
// registration are reported too, and only once.
type idlePoller struct {
	mu      sync.Mutex
	ep      *os.File // the epoll instance, once made
	epfd    int      // its descriptor (ep.Fd would make it blocking)
	running bool     // a goroutine waits on ep
	watched map[uint64]*Conn
	last    uint64 // the last registration's number; 0 is none
}

// poller is the process's idlePoller.
var poller idlePoller

// watch registers the socket of c, whose Messages goroutine parks, and
// returns the registration's number, or 0 if it could not. Call it with
// c.goMu held.
func (p *idlePoller) watch(c *Conn) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ep == nil {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return 0
		}
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fd)
			return 0
		}
		p.ep, p.epfd = os.NewFile(uintptr(fd), "ws idle poller"), fd
		p.watched = make(map[uint64]*Conn)
	}
	p.last++
	id := p.last
	// The event's data, 8 bytes, is the registration's number.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
	ev.Fd, ev.Pad = int32(uint32(id)), int32(uint32(id>>32))
	var err error
	if cerr := c.raw.Control(func(fd uintptr) {
		// A socket parked before stays registered, its one shot spent.
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if err == syscall.ENOENT {
			err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	}); cerr != nil || err != nil {
		return 0
	}
	p.watched[id] = c
	if !p.running {
		p.running = true
		go p.run(p.ep)
	}
	return id
}

// forget drops registration id, of a connection that is closing. The
// kernel drops the socket from the epoll instance as it closes. Call it
// with the connection's goMu held.
func (p *idlePoller) forget(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.watched, id)
	if len(p.watched) == 0 && p.running {
		// Nothing is left to wake the goroutine: closing the instance
		// does, and ends it.
		p.ep.Close()
		p.ep, p.running = nil, false
	}
}

// run waits on ep and resumes the connections whose sockets are ready,
// until nothing is watched.
func (p *idlePoller) run(ep *os.File) {
	var (
		events [64]syscall.EpollEvent
		n      int
		werr   error
		ready  []*Conn
		ids    []uint64
	)
	wait := func(fd uintptr) bool {
		n, werr = syscall.EpollWait(int(fd), events[:], 0)
		return n > 0 || (werr != nil && werr != syscall.EINTR)
	}
	rc, err := ep.SyscallConn()
	for {
		if err == nil {
			err = rc.Read(wait)
		}
		if err == nil {
			err = werr
		}
		p.mu.Lock()
		if p.ep != ep {
			// forget closed ep, with nothing left to watch.
			p.mu.Unlock()
			return
		}
		if err != nil {
			// The instance failed: every parked goroutine resumes, to
			// wait on its own, and the next park makes a new one.
			p.ep.Close()
			p.ep, p.running = nil, false
			n = 0
			for id, c := range p.watched {
				ready, ids = append(ready, c), append(ids, id)
			}
			clear(p.watched)
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c := p.watched[id]; c != nil {
				delete(p.watched, id)
				ready, ids = append(ready, c), append(ids, id)
			}
		}
		p.mu.Unlock()
		for i, c := range ready {
			c.resumeMessages(ids[i])
		}
		clear(ready)
		ready, ids = ready[:0], ids[:0]
		p.mu.Lock()
		done := err != nil || len(p.watched) == 0
		if done && p.ep == ep {
			p.running = false
		}
		p.mu.Unlock()
		if done {
			return
		}
	}
}
