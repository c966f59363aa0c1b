// Package ws implements the WebSocket protocol of RFC 6455, client and
// server, with connections exposed as context-aware message streams, Go
// channels and, when another protocol wants a byte stream, a net.Conn.
//
// # Connections
//
// A server calls Accept inside any http.Handler; a client calls Dial. Both
// return a *Conn. Server wraps Accept with tracking of open connections,
// Broadcast and a graceful Shutdown.
//
// # Messages
//
// A message is text (UTF-8) or binary. Read returns the next message whole
// and Write sends one. Reader and Writer stream a message of any size
// through io.Reader and io.WriteCloser, so io.Copy moves a file into a
// message or a message into a file without holding it. Messages returns a
// channel to range over; Send and TrySend queue a message for a goroutine
// of the connection to write, and report the result on a channel.
//
// Control frames are handled for you: pings are answered (Options can turn
// that off and add hooks), Ping waits for its pong, and a close frame
// completes the close handshake. Pongs and close frames are read by
// whichever goroutine reads, and by Ping, keepalive and Close themselves
// while none does.
//
// # Concurrency
//
// Write, Writer, Send, Ping and Close may be called from many goroutines;
// messages never interleave. Reads must come from one goroutine at a time;
// a read that overlaps another returns ErrConcurrentRead rather than
// corrupting the stream. Nothing in the package panics on misuse.
//
// # Contexts
//
// Every blocking call takes a context. Cancelling it interrupts the call
// by a deadline on the transport, set with context.AfterFunc, so no
// goroutine waits per connection. An interrupted read loses nothing: it
// consumes a frame header or control frame whole or not at all, so the
// connection stays usable. An interrupted Write leaves it usable too: if
// part of the message had gone out, the rest goes out before any other
// frame. Only a Writer cut off between the frames of its message ends the
// connection.
//
// # Closing
//
// Close sends a close frame with a status code and reason, waits for the
// peer's, and closes the transport, each step bounded by
// Options.CloseTimeout. CloseNow closes at once. When the peer closes,
// reads return its CloseError; CloseStatus extracts the code. Calls on a
// closed connection return a *ClosedError, which wraps net.ErrClosed and
// the cause, and Err says why the connection ended: every ending has a
// cause, and IsNormalClosure tells a normal one (a close frame with 1000,
// 1001 or no code, or CloseNow) from the others. A connection that only
// writes learns of the peer's close frame through CloseRead.
//
// # Errors
//
// Every violation of the protocol by the peer is a *ProtocolError, one of
// the Err variables (ErrUnknownOpcode, ErrInvalidUTF8, ErrMessageTooBig,
// ...), matched with errors.Is; the peer receives the RFC's close code
// for it: 1002 for protocol errors, 1007 for invalid data, 1009 for a
// message over the limits.
//
// # Limits
//
// A message may be at most DefaultReadLimit bytes (32 MiB), and have at
// most DefaultMaxEmptyFragments frames without payload, unless Options or
// SetReadLimit say otherwise. The limit is checked against each frame
// header before anything is read into memory, and Read grows its buffer
// only as bytes arrive, up to the limit.
//
// # Origins
//
// Accept refuses a browser's cross-origin request unless its host matches
// AcceptOptions.OriginPatterns, since any web page could otherwise talk to
// the server with the user's cookies. AcceptOptions.InsecureSkipOriginCheck
// turns the check off.
//
// # Goroutines and memory
//
// A connection used with Read and Write starts no goroutine. Messages, Send
// and keepalive start one each, owned by one errgroup: when one fails the
// connection closes and the others stop, and Close and CloseNow wait for
// them. An idle connection holds no buffer; buffers come from pools while
// a message is in flight.
//
// # net.Conn
//
// NetConn adapts a connection to net.Conn: reads see the messages' bytes as
// one stream and each write sends a message. Relay joins two connections.
package ws
