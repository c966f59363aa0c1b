// Package deflate implements the building blocks of the permessage-deflate
// extension of RFC 7692: negotiation (sections 5 and 7.1) and the
// compression and decompression of messages (section 7.2), on top of
// github.com/klauspost/compress/flate and, for context takeover with
// EngineWindow, the compressor of package internal/window, which keeps the
// whole window in little memory.
//
// # Negotiation
//
// A server passes the client's offers, as handshake.ParseExtensions reads
// them, to Negotiate, which picks the first acceptable one and returns the
// agreed Params and the header element to answer with. A client sends
// ClientOffer(cfg) and checks the answer with Accept, which is strict: any
// response that breaks section 7.1 is an error, and the client must fail
// the connection. Params.Server and Params.Client turn the agreed
// parameters into the Side each direction uses.
//
// # Wiring into a connection
//
// Each end holds one Compressor for what it sends and one Decompressor for
// what it receives:
//
//	server: NewCompressor(p.Server(), opts), NewDecompressor(p.Client())
//	client: NewCompressor(p.Client(), opts), NewDecompressor(p.Server())
//
// Sending a data message compressed: set RSV1 on its first frame only
// (continuation frames and control frames never carry it), call
// Compressor.Reset with a writer that collects payload for frames, Write
// the message, then Finish, which writes the rest without the 00 00 ff ff
// tail; the last frame carries FIN. Compressor.Compress does all of that
// for a message held in memory. Whether to compress must be decided before
// Reset: with context takeover the compressor's history already holds the
// message, so it must go out compressed. Control frames are never
// compressed.
//
// Receiving: RSV1 on the first frame of a data message means the whole
// message is compressed; RSV1 on a continuation or control frame, or when
// the extension was not agreed, is a protocol error (1002). Give
// Decompressor.Reset an io.Reader that yields the unmasked payload of the
// message's frames one after the other and io.EOF after the FIN frame,
// then Read inflated bytes until io.EOF, counting them against the read
// limit; the message size limit applies to the inflated size. When the
// limit is passed, stop reading, call Decompressor.Abort and close with
// 1009: Read inflates at most 32 KiB per call and only reads the payload
// it needs, so a bomb costs no more than the limit. An error wrapping
// ErrCorrupt means close code 1007 (invalid payload data). Text messages
// are validated as UTF-8 after inflating. Decompressor.Decompress does the
// whole message from a byte slice. A message that the caller wants to skip
// must still be read to its end under context takeover, or the history
// falls out of step (Abort makes later messages fail with ErrHistoryLost).
//
// # Windows of 8 bits
//
// RFC 7692 sections 7.1.2.1 and 7.1.2.2 let each side bound the other's
// LZ77 window with server_max_window_bits and client_max_window_bits,
// 8 to 15, and a sender must not use a larger window than agreed. zlib
// cannot compress raw DEFLATE with a 256-byte window (since 1.2.9 it
// refuses windowBits 8 for raw deflate, and turns 8 into 9 for the zlib
// format), so zlib-based peers compress with 9 bits when 8 is agreed. That
// stays within the agreement only because zlib never looks further back
// than its window less 262 bytes, 250 bytes at 9 bits; in general a
// compressor may not substitute a larger window. Using more than agreed is
// always allowed on the other side, in the decompressor, which only costs
// memory. This package needs neither trick: flate.NewWriterWindow takes
// windows from 32 bytes (flate.MinCustomWindowSize) to 32 KiB, so 8 bits
// is compressed with a true 256-byte window (TestWindowBits checks every
// match of every window size with a reference decoder), and the
// Decompressor keeps exactly 1<<bits bytes of history, which also reads
// zlib's 9-bit output for an agreed 8 (checked by hand against zlib 1.2.13
// from both sides). A server may therefore accept any window from 8 to 15.
//
// # Memory
//
// What one connection holds between messages, for one compressor and one
// decompressor (TestMemoryPerConnection, klauspost/compress v1.20.4,
// linux/amd64):
//
//	EngineWriter, level 1                      ~830 KB (the flate writer)
//	EngineWriter, levels 5-6 or < 15 bits      ~1.1 MB
//	EngineWriter, level 9                      ~1.4 MB
//	  plus the inflate history: up to 40 KiB at 15 bits, 1.25 KiB at 10
//	EngineDict, DictSize 4096                   5 KiB + the history
//	EngineWindow                              144 KiB at 15 bits, 9 KiB at 10
//	no context takeover                         ~250 bytes (the structs)
//
// klauspost's writers are large whatever the window: a 256 KiB token
// buffer, a 64 KiB input window, 320 KiB of match history and hash tables
// of 128 KiB (level 1) to 640 KiB, so a smaller window saves nothing on
// the compressor side (the custom-window writer is its level 5 one). The
// inflater, about 40 KB with its buffers, is pooled in every mode, since
// under context takeover only the history needs to survive between
// messages. A server short of memory should use server_no_context_takeover,
// or keep context takeover with EngineDict, which keeps
// only a dictionary and primes a pooled writer with it for each message at
// the cost of CPU (compressing DictSize bytes per message), and may ask
// clients for a smaller client_max_window_bits to shrink its histories.
//
// # The window compressor
//
// Matching what zlib's level 6 sends for a stream of small similar
// messages takes the whole 32 KiB window and a lazy search of it, which
// klauspost's writers offer only at levels 7 to 9 and 1.4 MB. With
// EngineWindow and context takeover a Compressor uses instead the LZ77
// and Huffman coder of package internal/window: zlib's hash chains and
// lazy matching with zlib's search parameters per level, in 144 KiB at
// 15 bits. It never refers further back than the window, 8 bits included.
package deflate
