// Package wsjson reads and writes JSON messages on a ws.Conn.
//
// Read decodes a message as it arrives, without holding it whole, and
// requires the message to hold exactly one JSON value. Write encodes a value
// into a pooled buffer and sends it as one text message. Both use
// encoding/json, so its rules for struct tags, omitted fields and errors
// apply.
package wsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/seed-d6ba7b20/ws"
)

// Read reads the next message from c and decodes it as JSON into v, as
// json.Unmarshal would. The message is decoded straight from the connection,
// so it is never held whole beyond what the decoder buffers, and the
// connection's read limit still bounds it. A binary message is decoded the
// same way as a text one: JSON is bytes either way.
//
// The message must hold one JSON value and nothing but white space after it;
// an empty message, a value cut short, or data after the value is an error.
// An empty message matches io.ErrUnexpectedEOF, never io.EOF, so that a read
// loop does not take it for the end of the stream.
// Errors start with "wsjson: read: " and wrap the cause, so errors.Is and
// errors.As reach the connection's errors (a ws.CloseError when the peer
// closed, ws.ErrMessageTooBig, ctx.Err()) and encoding/json's.
//
// After a decode error the connection stays usable: the next read drops
// what is left of the message. Errors of the connection itself leave it as
// Conn.Reader says: cancelling ctx leaves it usable, a protocol error such as
// ws.ErrMessageTooBig ends it.
func Read(ctx context.Context, c *ws.Conn, v any) error {
	_, r, err := c.Reader(ctx)
	if err != nil {
		return fmt.Errorf("wsjson: read: %w", err)
	}
	d := json.NewDecoder(r)
	if err := d.Decode(v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // an empty message, not the end of the stream
		}
		return fmt.Errorf("wsjson: read: %w", err)
	}
	// Token skips white space and returns io.EOF at the end of the message.
	// Any token, or a syntax error, means data after the value; other
	// errors are the connection's.
	_, err = d.Token()
	switch _, syntax := errors.AsType[*json.SyntaxError](err); {
	case err == io.EOF:
		return nil
	case err == nil:
		return errors.New("wsjson: read: data after the JSON value")
	case syntax || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("wsjson: read: data after the JSON value: %w", err)
	}
	return fmt.Errorf("wsjson: read: %w", err)
}

// Write encodes v as JSON, as json.Marshal would, and sends it as one text
// message with c.Write. The whole value is encoded before anything is sent,
// so an encoding error sends nothing and leaves c usable. Errors start with
// "wsjson: write: " and wrap the cause, as for Read.
func Write(ctx context.Context, c *ws.Conn, v any) error {
	b := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(b)
	if err := json.NewEncoder(b).Encode(v); err != nil {
		return fmt.Errorf("wsjson: write: %w", err)
	}
	p := b.Bytes()
	p = p[:len(p)-1] // the newline Encode ends the value with
	if err := c.Write(ctx, ws.MessageText, p); err != nil {
		return fmt.Errorf("wsjson: write: %w", err)
	}
	return nil
}

// maxPooled is the largest buffer Write returns to the pool: a rare large
// message should not pin its memory for the life of the process.
const maxPooled = 64 << 10

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooled {
		return
	}
	b.Reset()
	bufPool.Put(b)
}
