package deflate

import (
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/seed-d6ba7b20/ws/internal/window"
)

// flateEngine is what the engines built on klauspost's flate writer
// share: the writer, its pool, and the tailWriter that holds back the
// sync flush tail.
type flateEngine struct {
	level, bits int
	pool        *sync.Pool
	fw          *flate.Writer
	tw          tailWriter
	primed      bool // fw was primed with a dictionary
}

// get takes an idle writer from the pool, or makes one, set to write to
// f.tw and primed with dict, if any.
func (f *flateEngine) get(dict []byte) {
	fw, _ := f.pool.Get().(*flate.Writer)
	if fw == nil {
		fw = newWriter(&f.tw, f.level, f.bits)
	} else if len(dict) == 0 {
		fw.Reset(&f.tw)
	}
	if len(dict) > 0 {
		fw.ResetDict(&f.tw, dict)
		f.primed = true
	}
	f.fw = fw
}

// put returns the writer, if any, to the pool, holding no reference to f.
func (f *flateEngine) put() {
	if f.fw == nil {
		return
	}
	if f.primed {
		// ResetDict kept the dictionary slice; drop it with the writer's
		// state, or a later Reset would prime from it.
		f.fw.ResetDict(nil, nil)
		f.primed = false
	} else {
		f.fw.Reset(nil)
	}
	f.pool.Put(f.fw)
	f.fw = nil
}

func (f *flateEngine) write(p []byte) (int, error) { return f.fw.Write(p) }

// flush sync-flushes the writer, which passes all but the tail to dst,
// and checks that what is held back is the tail.
func (f *flateEngine) flush() error {
	if err := f.fw.Flush(); err != nil {
		return err
	}
	if f.tw.n != len(syncTail) || f.tw.hold != syncTail {
		return errTail
	}
	f.tw.reset(nil)
	return nil
}

// pooledEngine keeps no context: it takes a writer from the pool for each
// message and returns it after.
type pooledEngine struct{ flateEngine }

func (e *pooledEngine) reset(dst io.Writer) {
	e.tw.reset(dst)
	e.get(nil)
}

func (e *pooledEngine) finish() error {
	if err := e.flush(); err != nil {
		return err
	}
	e.put()
	return nil
}

func (e *pooledEngine) abort() {
	e.tw.reset(nil)
	e.put()
}

func (e *pooledEngine) close() {}

// dictEngine is EngineDict: a pooled writer per message, primed with the
// last bytes sent, which it keeps.
type dictEngine struct {
	pooledEngine
	hist history
}

func (e *dictEngine) reset(dst io.Writer) {
	e.tw.reset(dst)
	e.get(e.hist.window())
}

func (e *dictEngine) write(p []byte) (int, error) {
	n, err := e.fw.Write(p)
	e.hist.write(p[:n])
	return n, err
}

func (e *dictEngine) abort() {
	e.hist.reset()
	e.pooledEngine.abort()
}

// writerEngine is EngineWriter: a writer of its own, taken from the pool
// with the first message and kept until close.
type writerEngine struct{ flateEngine }

func (e *writerEngine) reset(dst io.Writer) {
	e.tw.reset(dst)
	if e.fw == nil {
		e.get(nil)
	}
}

func (e *writerEngine) finish() error { return e.flush() }

func (e *writerEngine) abort() {
	e.tw.reset(nil)
	if e.fw != nil {
		e.fw.Reset(&e.tw)
	}
}

func (e *writerEngine) close() { e.put() }

// windowEngine is EngineWindow, the encoder of package internal/window.
type windowEngine struct{ enc *window.Encoder }

func (e windowEngine) reset(dst io.Writer)         { e.enc.Reset(dst) }
func (e windowEngine) write(p []byte) (int, error) { return e.enc.Write(p) }
func (e windowEngine) finish() error               { return e.enc.Finish() }
func (e windowEngine) abort()                      { e.enc.Forget() }
func (e windowEngine) close()                      { e.enc.Free() }

// primedEngine is EngineDict at the levels that find matches: a window
// encoder from a pool for each message, primed with the last bytes sent,
// which it keeps.
type primedEngine struct {
	level, bits int
	pool        *sync.Pool
	enc         *window.Encoder // between reset and finish or abort
	hist        history
}

func (e *primedEngine) reset(dst io.Writer) {
	enc, _ := e.pool.Get().(*window.Encoder)
	if enc == nil {
		enc = window.NewEncoder(e.level, e.bits)
	}
	enc.ResetDict(dst, e.hist.window())
	e.enc = enc
}

func (e *primedEngine) write(p []byte) (int, error) {
	n, err := e.enc.Write(p)
	e.hist.write(p[:n])
	return n, err
}

func (e *primedEngine) finish() error {
	err := e.enc.Finish()
	e.pool.Put(e.enc)
	e.enc = nil
	return err
}

func (e *primedEngine) abort() {
	e.hist.reset()
	if e.enc != nil {
		e.enc.Forget()
		e.pool.Put(e.enc)
		e.enc = nil
	}
}

func (e *primedEngine) close() {}
