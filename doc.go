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
// that off and add hooks; Pong answers by hand), Ping waits for its pong,
// and a close frame completes the close handshake. Pongs and close frames are read by
// whichever goroutine reads, and by Ping, keepalive and Close themselves
// while none does.
//
// With permessage-deflate (Options.Compression), messages are compressed
// from CompressionOptions.Threshold bytes on; the Compressed and
// Uncompressed flags of a message type decide for one message.
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
// A connection used with Read and Write starts no goroutine. Messages, Send,
// CloseRead and keepalive start one each, owned by one errgroup: when one fails the
// connection closes and the others stop, and Close and CloseNow wait for
// them. An idle connection holds no buffer; buffers come from pools while
// a message is in flight. On Linux, over a socket, the Messages goroutine
// parks while the connection is idle: it ends, a poller of the process
// watches the socket, and a new one takes over when the peer sends, so
// an idle connection whose messages the user ranges over costs only the
// user's goroutine.
//
// # HTTP/2
//
// Accept takes WebSockets over HTTP/2 (RFC 8441) as well, and Dial opens
// them with DialOptions.HTTP2, a RoundTripper such as the one of the
// module github.com/seed-d6ba7b20/ws/h2: many WebSockets then share one
// TCP connection.
//
// # Metrics
//
// Conn.Stats and Server.Stats return counters and gauges as plain
// structs: messages and bytes each way, compressed bytes, the send
// queue, Broadcast's deliveries and overflows, pings, keepalive
// timeouts, close codes and refused handshakes. They are always on, at a
// few atomic additions per message, and Server.StatsVar publishes them
// with expvar.
//
// # net.Conn
//
// NetConn adapts a connection to net.Conn: reads see the messages' bytes as
// one stream and each write sends a message. Relay joins two connections.
// The subpackage wsjson reads and writes JSON messages.
//
// # The code
//
// Each file holds one concern:
//
//   - ws.go: what a Conn is, the goroutines it runs, and its state;
//     options.go: the options of Accept and Dial; errors.go: every
//     exported error.
//   - accept.go, dial.go, redirect.go, proxy.go: the opening handshake of
//     either side, the client's redirects and its HTTP CONNECT proxies;
//     http2.go: both sides of the handshake over HTTP/2 (RFC 8441), and
//     stream.go: the transport of a WebSocket over an HTTP/2 stream.
//   - frameread.go: frames in, every rule of RFC 6455 sections 5.2 to 5.5
//     checked on each header, control frames answered; reader.go: Read,
//     ReadAppend and Reader on top of it; messages.go: the Messages
//     goroutine; backgroundread.go: the connection's own reads of control
//     frames while the user reads nothing; rawread_*.go: the wait of an
//     idle connection without a buffer; idlepoll_*.go: the poller of
//     parked Messages goroutines.
//   - framewrite.go: frames out, with masking and the rest of a frame that
//     a context cut off; writer.go: Write and Writer; sendqueue.go: Send
//     and TrySend; prepared.go: a message framed once for Broadcast.
//   - compress.go: permessage-deflate, on internal/deflate (negotiation,
//     compressors and inflaters) and internal/window (EngineWindow).
//   - close.go: every rule of closing; ping.go: Ping, Pong and keepalive.
//   - locks.go: the read lock and the two write locks, whose waits end
//     with a context; deadline.go: contexts turned into transport
//     deadlines; buffers.go: the buffer pools.
//   - server.go: Server; netconn.go: NetConn; relay.go: Relay.
//   - stats.go: the counters of a connection and Conn.Stats;
//     serverstats.go: Server.Stats, which sums them with the server's
//     own, and its expvar.Var.
//   - dial_js.go, transport_js.go: Dial under js/wasm, on the host's
//     WebSocket, whose messages transport_js.go turns into frames and
//     back; host.go: what the rest of the package asks of such a
//     transport.
//
// A message from the peer goes from the socket through rawread's idle
// wait into a pooled buffer, where frameread parses each header, checks it
// and the limits, and answers control frames, then through the inflater
// (compressed) and the UTF-8 check (text) to Read's buffer or the
// caller's Reader, under the read lock. A message to the peer goes from
// Write, Writer or the send queue, under the message lock, through the
// compressor to framewrite, which puts the header in front of the
// payload, masks it (client) and writes it under the frame lock, so
// control frames can go out between the frames of a long message.
package ws
