//go:build !js

package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// WebSockets over HTTP/2, RFC 8441: the opening handshake is an extended
// CONNECT request, with the pseudo-header :protocol set to "websocket",
// on a stream of an HTTP/2 connection, and the server's 2xx response.
// The stream then carries the frames of RFC 6455 both ways, as a TCP
// connection does over HTTP/1.1 (streamConn), and closing the WebSocket
// ends the stream, not the connection.

// protocolHeader is the key under which net/http and
// golang.org/x/net/http2 keep the :protocol pseudo-header of an extended
// CONNECT request.
const protocolHeader = ":protocol"

// acceptHTTP2 is Accept for a request over HTTP/2.
func acceptHTTP2(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if err := checkRequestHTTP2(w, r, opts); err != nil {
		return nil, err
	}
	sub := chooseSubprotocol(r, opts)
	params, extHeader, compress := negotiateServer(r.Header, &opts.Options)

	rc := http.NewResponseController(w)
	// A stream's deadlines reset it when they pass; the connection keeps
	// deadlines of its own (streamConn).
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	for k, vs := range opts.ResponseHeader {
		switch http.CanonicalHeaderKey(k) {
		case "Upgrade", "Connection", handshake.HeaderAccept, handshake.HeaderProtocol, handshake.HeaderExtensions:
			continue
		}
		for _, v := range vs {
			h.Add(k, sanitizeHeaderValue(v))
		}
	}
	if sub != "" {
		h.Set(handshake.HeaderProtocol, sub)
	}
	if extHeader != "" {
		h.Set(handshake.HeaderExtensions, extHeader)
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("ws: accept: writing the response: %w", err)
	}
	s := newStreamConn(r.Body, w)
	s.flush = rc.Flush
	s.reset = func() { rc.SetWriteDeadline(aLongTimeAgo) }
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		s.local = a
	}
	s.remote = streamAddr(r.RemoteAddr)
	c := newConn(s, false, &opts.Options, nil)
	c.subprotocol = sub
	if compress {
		if err := c.setCompression(params, opts.Compression); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("ws: accept: %w", err)
		}
	}
	// The stream ends with the handler, or when the client resets it;
	// the connection then ends too.
	context.AfterFunc(r.Context(), func() { c.abort(errStreamEnded) })
	return c, nil
}

// errStreamEnded is the cause of a connection over HTTP/2 whose stream
// ended under it.
var errStreamEnded = errors.New("ws: the HTTP/2 stream ended")

// checkRequestHTTP2 validates an extended CONNECT request and answers a
// bad one.
func checkRequestHTTP2(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) error {
	if r.Method != http.MethodConnect {
		w.Header().Set("Allow", http.MethodConnect)
		return reject(w, r, opts, http.StatusMethodNotAllowed, "over HTTP/2 a WebSocket opens with an extended CONNECT request (RFC 8441)")
	}
	switch p := r.Header.Get(protocolHeader); {
	case p == "":
		return reject(w, r, opts, http.StatusBadRequest, "a CONNECT request for a WebSocket needs the :protocol pseudo-header (RFC 8441)")
	case !strings.EqualFold(p, "websocket"):
		return reject(w, r, opts, http.StatusNotImplemented, fmt.Sprintf("this endpoint speaks WebSocket only, not %q", p))
	}
	switch r.Header.Get(handshake.HeaderVersion) {
	case "13", "8":
	default:
		w.Header().Set("Sec-WebSocket-Version", "13, 8")
		return reject(w, r, opts, http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version: this server speaks 13 and 8")
	}
	if err := checkOrigin(r, opts); err != nil {
		return reject(w, r, opts, http.StatusForbidden, err.Error())
	}
	return nil
}

// dialHTTP2 is Dial over HTTP/2, through opts.HTTP2.
func dialHTTP2(ctx context.Context, t *target, opts *DialOptions) (*Conn, *http.Response, error) {
	if t.ipc || t.socket != "" {
		return nil, nil, errors.New("ws: dial: HTTP/2 does not reach a Unix socket")
	}
	if opts.ProtocolVersion == 8 {
		return nil, nil, errors.New("ws: dial: HTTP/2 speaks protocol version 13 only")
	}
	st := &dialState{opts: opts, orig: t, header: opts.Header.Clone(), host: opts.Host}
	hr := st.request(t)
	h := hr.header
	for _, k := range []string{"Host", "Upgrade", "Connection", handshake.HeaderKey, handshake.HeaderVersion, handshake.HeaderExtensions, handshake.HeaderProtocol} {
		delHeader(h, k)
	}
	h.Set(protocolHeader, "websocket")
	h.Set(handshake.HeaderVersion, "13")
	if opts.Origin != "" {
		h.Set("Origin", opts.Origin)
	}
	if len(opts.Subprotocols) > 0 {
		h.Set(handshake.HeaderProtocol, strings.Join(opts.Subprotocols, ", "))
	}
	if opts.Compression != nil {
		h.Set(handshake.HeaderExtensions, deflate.ClientOffer(opts.Compression.clientConfig()))
	}

	// The stream lives on the request's context, so that context must
	// outlive ctx, which bounds the dial only.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	var local, remote net.Addr
	sctx = httptrace.WithClientTrace(sctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			local, remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
		},
	})
	pr, pw := io.Pipe()
	body := &requestBody{PipeReader: pr, closed: make(chan struct{})}
	req := (&http.Request{
		Method:        http.MethodConnect,
		URL:           t.httpURL(),
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        h,
		Body:          body,
		ContentLength: -1,
		Host:          hr.host,
	}).WithContext(sctx)
	fail := func(err error) (*Conn, *http.Response, error) {
		cancel()
		pw.Close()
		return nil, nil, dialError(ctx, "HTTP/2: ", err)
	}
	resp, err := opts.HTTP2.RoundTrip(req)
	if err != nil {
		return fail(err)
	}
	if !stop() {
		resp.Body.Close()
		return fail(ctxError(ctx))
	}
	if opts.Jar != nil {
		if cs := resp.Cookies(); len(cs) > 0 {
			opts.Jar.SetCookies(t.httpURL(), cs)
		}
	}
	params, compress, err := checkResponseHTTP2(resp, opts)
	if err != nil {
		// Up to maxErrorBody bytes of the refusal, within errorBodyWait.
		timer := time.AfterFunc(errorBodyWait, cancel)
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		timer.Stop()
		resp.Body.Close()
		cancel()
		pw.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return nil, resp, err
	}
	s := newStreamConn(&streamBody{resp.Body, cancel}, pw)
	s.end = func() {
		// The RoundTripper reads what we write from the pipe and sends it
		// on its own goroutine, so the last of it (the close frame) may
		// still be on its way: closing the response body now would reset
		// the stream and drop it. The end of the pipe lets it send
		// END_STREAM after that, and then it closes the request's body.
		pw.Close()
		t := time.NewTimer(streamEndWait)
		select {
		case <-body.closed:
		case <-t.C:
		}
		t.Stop()
	}
	s.reset = func() { pw.CloseWithError(net.ErrClosed) }
	s.local, s.remote = local, remote
	c := newConn(s, true, &opts.Options, nil)
	c.subprotocol = resp.Header.Get(handshake.HeaderProtocol)
	if compress {
		if err := c.setCompression(params, opts.Compression); err != nil {
			c.CloseNow()
			return nil, nil, fmt.Errorf("ws: dial: %w", err)
		}
	}
	resp.Body = http.NoBody
	return c, resp, nil
}

// checkResponseHTTP2 checks the server's answer to an extended CONNECT
// request, and returns the compression it agreed to.
func checkResponseHTTP2(resp *http.Response, opts *DialOptions) (deflate.Params, bool, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return deflate.Params{}, false, &HandshakeError{Status: resp.StatusCode, Reason: "expected a 2xx status to an extended CONNECT request"}
	}
	return checkAgreement(resp, opts)
}

// streamEndWait bounds how long closing a client's stream waits for the
// RoundTripper to send what was written before it: it waits only when the
// server does not take those bytes (its flow control window is full).
const streamEndWait = time.Second

// requestBody is the request body of a client's stream, which tells when
// the RoundTripper has closed it: it does that once it has sent all of it,
// or given up.
type requestBody struct {
	*io.PipeReader
	once   sync.Once
	closed chan struct{}
}

func (b *requestBody) Close() error {
	err := b.PipeReader.Close()
	b.once.Do(func() { close(b.closed) })
	return err
}

// streamBody is the response body of a client's stream, whose closing
// also releases the request's context.
type streamBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *streamBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
