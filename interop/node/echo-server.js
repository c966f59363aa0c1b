'use strict';

// An echo server for the interoperability tests of the Go package.
//
// Usage: node echo-server.js [PORT]
//
// It listens on 127.0.0.1:PORT (0 or no argument picks a free port) and
// prints "PORT <n>" as its first line. Every connection echoes each message
// with the same type. Text messages that are commands are not echoed:
//
//   close:CODE:REASON  closes the connection with CODE and REASON
//   close:             closes the connection with a close frame without a code
//   ping:PAYLOAD       sends a ping with PAYLOAD; when the pong arrives it
//                      sends the text "pong:<pong payload>"
//
// A connection whose URL has the query parameter fragments=N (N > 1) echoes
// every message in N fragments, sent with send(chunk, {fin: false,
// compress: true}) and the last with fin: true. One with report=1 reports
// every message it receives, commands included, before it acts on it.
//
// It reports what happens as lines "KIND {json}" on stdout, each naming the
// connection by the "name" query parameter of its URL:
//
//   OPEN    {"name","extensions","header","params"}
//           extensions is ws.extensions, header the Sec-WebSocket-Extensions
//           header of the response ("" if none), params the
//           permessage-deflate parameters in force (null if none)
//   MESSAGE {"name","size","binary","compressed"}   with report=1
//           compressed says whether the message arrived compressed
//           (RSV1 on its first frame), as ws's receiver saw it; null if
//           this version of ws does not expose it
//   PONG    {"name","payload"}
//   CLOSE   {"name","code","reason"}      the close the peer sent or answered
//   ERROR   {"name","message","errorCode"}
//
// permessage-deflate is off unless WS_PERMESSAGE_DEFLATE says otherwise (see
// common.js).

const { WebSocketServer } = require('ws');
const { MAX_PAYLOAD, deflateOption, deflateParams, line, event } = require('./common');

const kExtensionsHeader = Symbol('extensions-header');

const port = Number(process.argv[2] || 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bad port ${process.argv[2]}`);
  process.exit(2);
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: deflateOption()
});

wss.on('listening', () => line(`PORT ${wss.address().port}`));
wss.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exit(1);
});

// The response header, as sent, for the OPEN event.
wss.on('headers', (headers, req) => {
  const h = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  req[kExtensionsHeader] = h ? h.slice(h.indexOf(':') + 1).trim() : '';
});

/** Sends data in n fragments, compressed if the extension is in force. */
function sendFragmented(ws, data, isBinary, n) {
  const size = Math.ceil(data.length / n);
  for (let i = 0; i < n; i++) {
    const chunk = data.subarray(Math.min(i * size, data.length), Math.min((i + 1) * size, data.length));
    ws.send(chunk, { binary: isBinary, compress: true, fin: i === n - 1 });
  }
}

wss.on('connection', (ws, req) => {
  const query = new URL(req.url, 'http://localhost').searchParams;
  const name = query.get('name') || '';
  const fragments = Number(query.get('fragments') || 1);
  const report = query.get('report') === '1';
  event('OPEN', {
    name,
    extensions: ws.extensions,
    header: req[kExtensionsHeader] || '',
    params: deflateParams(ws)
  });

  ws.on('message', (data, isBinary) => {
    if (report) {
      // ws 8 has no public API for it: the receiver emits 'message'
      // synchronously (allowSynchronousEvents, the default), while its
      // _compressed still describes the message it has just completed.
      const c = ws._receiver && ws._receiver._compressed;
      event('MESSAGE', { name, size: data.length, binary: isBinary, compressed: typeof c === 'boolean' ? c : null });
    }
    if (!isBinary) {
      const text = data.toString();
      if (text.startsWith('close:')) {
        const rest = text.slice('close:'.length);
        if (rest === '') {
          ws.close(); // a close frame without a code
          return;
        }
        const i = rest.indexOf(':');
        const code = Number(i < 0 ? rest : rest.slice(0, i));
        const reason = i < 0 ? '' : rest.slice(i + 1);
        try {
          ws.close(code, reason);
        } catch (err) {
          event('ERROR', { name, message: err.message, errorCode: 'BAD_CLOSE_COMMAND' });
        }
        return;
      }
      if (text.startsWith('ping:')) {
        ws.ping(text.slice('ping:'.length));
        return;
      }
    }
    if (fragments > 1) sendFragmented(ws, data, isBinary, fragments);
    else ws.send(data, { binary: isBinary });
  });

  ws.on('pong', (payload) => {
    event('PONG', { name, payload: payload.toString() });
    ws.send('pong:' + payload.toString());
  });

  ws.on('close', (code, reason) => {
    event('CLOSE', { name, code, reason: reason.toString() });
  });

  ws.on('error', (err) => {
    event('ERROR', { name, message: err.message, errorCode: err.code || '' });
  });
});

// The Go test kills the process; SIGTERM and SIGINT end it cleanly too.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
  });
}
