'use strict';

// A client for the interoperability tests of the Go package.
//
// Usage: node client.js URL [exchange|await-close|plan|refused]
//
// exchange (the default) runs a scripted exchange against an echo server:
// messages of several types and sizes, fragmented messages, pings, and a
// close with code 4000 and reason "done". await-close waits for the server
// to close the connection, reporting the messages that come first. plan
// sends the messages that the environment variable WS_PLAN lists, a JSON
// array of {"name", "kind", "size", "fragments"}, to an echo server, one at
// a time, and checks each echo byte for byte: kind "json" is JSON-like text,
// "random" random binary; fragments > 1 sends the message in that many
// fragments with send(chunk, {fin: false, compress: true}). It then closes
// like exchange.
//
// refused connects, with the Origin header of WS_ORIGIN if set, to a
// server that refuses the handshake, and prints the response it got as
// RESPONSE <status> "<body>" "<content type>", exiting 0; a handshake
// that succeeds or a connection that fails otherwise exits 1.
//
// It prints one line per result on stdout:
//
//   EXTENSIONS "<negotiated extensions>"  (ws.extensions)
//   HEADER "<Sec-WebSocket-Extensions of the server's response>"
//   PARAMS <permessage-deflate parameters in force, JSON, null if none>
//   OK <check>                   a check passed
//   FAIL <check>: <detail>       a check failed
//   MESSAGE text "<data>"        (await-close) a text message arrived
//   MESSAGE binary <length>      (await-close) a binary message arrived
//   CLOSE <code> "<reason>"      the close code and reason the client got
//   DONE pass=<n> fail=<n>
//
// and exits 0 only if every check passed. permessage-deflate is offered
// only if WS_PERMESSAGE_DEFLATE says so (see common.js). The client gives up
// after WS_CLIENT_TIMEOUT_MS milliseconds, 50000 by default.

const crypto = require('crypto');
const WebSocket = require('ws');
const { MAX_PAYLOAD, deflateOption, deflateParams, jsonText, line, pattern } = require('./common');

const [url, mode = 'exchange'] = process.argv.slice(2);
if (!url || !['exchange', 'await-close', 'plan', 'refused'].includes(mode)) {
  console.error('usage: node client.js URL [exchange|await-close|plan|refused]');
  process.exit(2);
}

if (mode === 'refused') {
  const opts = process.env.WS_ORIGIN ? { origin: process.env.WS_ORIGIN } : {};
  const ws = new WebSocket(url, opts);
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => { body += chunk; });
    res.on('end', () => {
      line(`RESPONSE ${res.statusCode} ${JSON.stringify(body)} ${JSON.stringify(res.headers['content-type'] || '')}`);
      process.exit(0);
    });
  });
  ws.on('open', () => { line('FAIL refused: the handshake succeeded'); process.exit(1); });
  ws.on('error', (err) => { line(`FAIL refused: ${err.message}`); process.exit(1); });
  return;
}

let passed = 0;
let failed = 0;
let opened = false;
let finished = false;

// Any way out but done() after passing checks is a failure.
process.exitCode = 1;

/** Records a check that passed. */
function ok(check) {
  passed++;
  line(`OK ${check}`);
}

/** Records a check that failed. */
function fail(check, detail) {
  failed++;
  line(`FAIL ${check}: ${detail}`);
}

/** Prints the summary and sets the exit status, once. */
function done() {
  if (finished) return;
  finished = true;
  line(`DONE pass=${passed} fail=${failed}`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

// A stuck exchange fails instead of hanging; the timer does not keep the
// process alive once everything else is done.
const timeoutMs = Number(process.env.WS_CLIENT_TIMEOUT_MS || 50000);
setTimeout(() => {
  fail('timeout', `no result within ${timeoutMs} ms`);
  done();
  process.exit(1);
}, timeoutMs).unref();

const ws = new WebSocket(url, {
  perMessageDeflate: deflateOption(),
  maxPayload: MAX_PAYLOAD
});

// Incoming messages and pongs wait in queues until the script takes them.
const messages = [];
const pongs = [];
let wake = null;
let closed = null;

/** Resolves the pending take, if any. */
function notify() {
  if (wake) {
    const w = wake;
    wake = null;
    w();
  }
}

let extensionsHeader = '';
ws.on('upgrade', (res) => {
  extensionsHeader = res.headers['sec-websocket-extensions'] || '';
});

ws.on('message', (data, isBinary) => {
  messages.push({ data, isBinary });
  notify();
});
ws.on('pong', (payload) => {
  pongs.push(payload);
  notify();
});
ws.on('close', (code, reason) => {
  closed = { code, reason: reason.toString() };
  line(`CLOSE ${code} ${JSON.stringify(closed.reason)}`);
  notify();
  if (!opened) done(); // the handshake failed
});
ws.on('error', (err) => {
  fail('error', err.message);
});

/** Waits for the next item of queue, or fails when the connection closes. */
async function take(queue, what) {
  for (;;) {
    if (queue.length > 0) return queue.shift();
    if (closed) throw new Error(`connection closed (${closed.code}) while waiting for ${what}`);
    await new Promise((resolve) => {
      wake = resolve;
    });
  }
}

/** Waits for the close event. */
async function waitClose() {
  while (!closed) {
    await new Promise((resolve) => {
      wake = resolve;
    });
  }
  return closed;
}

/** Compares a message that arrived with the one expected. */
function checkMessage(check, got, want, wantBinary) {
  if (got.isBinary !== wantBinary) {
    fail(check, `got ${got.isBinary ? 'binary' : 'text'}, want ${wantBinary ? 'binary' : 'text'}`);
  } else if (!Buffer.from(got.data).equals(want)) {
    fail(check, `got ${got.data.length} bytes that differ from the ${want.length} sent`);
  } else {
    ok(check);
  }
}

/** The scripted exchange against an echo server. */
async function exchange() {
  const echoes = [
    { check: 'echo/text', data: Buffer.from('hello from node'), binary: false },
    { check: 'echo/text-utf8', data: Buffer.from('héllo wörld ✓ 🚀'), binary: false },
    { check: 'echo/binary', data: Buffer.from([0, 1, 2, 0xfe, 0xff]), binary: true },
    { check: 'echo/empty-text', data: Buffer.alloc(0), binary: false },
    { check: 'echo/empty-binary', data: Buffer.alloc(0), binary: true }
  ];
  for (const n of [125, 126, 65535, 65536, 16 * 1024 * 1024]) {
    echoes.push({ check: `echo/binary-${n}`, data: pattern(n, false), binary: true });
  }
  echoes.push({ check: 'echo/text-65536', data: pattern(65536, true), binary: false });

  for (const e of echoes) {
    ws.send(e.data, { binary: e.binary });
    checkMessage(e.check, await take(messages, e.check), e.data, e.binary);
  }

  // Fragmented messages: a text message whose fragments split a code point,
  // and a binary one in three 40 KiB fragments.
  const text = Buffer.from('fragmented: ünïcödé across frames ✓');
  const cut1 = text.indexOf(Buffer.from('ü')) + 1; // inside the two bytes of ü
  const cut2 = text.indexOf(Buffer.from('✓')) + 2; // inside the three bytes of ✓
  ws.send(text.subarray(0, cut1), { binary: false, fin: false });
  ws.send(text.subarray(cut1, cut2), { binary: false, fin: false });
  ws.send(text.subarray(cut2), { binary: false, fin: true });
  checkMessage('fragmented/text', await take(messages, 'fragmented/text'), text, false);

  const bin = pattern(3 * 40 * 1024, false);
  for (let i = 0; i < 3; i++) {
    ws.send(bin.subarray(i * 40 * 1024, (i + 1) * 40 * 1024), { binary: true, fin: i === 2 });
  }
  checkMessage('fragmented/binary', await take(messages, 'fragmented/binary'), bin, true);

  // Pings: the pong must carry the ping's payload.
  const pings = [
    { check: 'ping/payload', payload: Buffer.from('ping-from-node') },
    { check: 'ping/empty', payload: Buffer.alloc(0) },
    { check: 'ping/125', payload: pattern(125, false) }
  ];
  for (const p of pings) {
    ws.ping(p.payload);
    const got = await take(pongs, p.check);
    if (got.equals(p.payload)) ok(p.check);
    else fail(p.check, `pong payload ${got.toString('hex')}, want ${p.payload.toString('hex')}`);
  }

  await closeDone();
}

/** Closes with 4000 "done" and checks that the echo server answered so. */
async function closeDone() {
  ws.close(4000, 'done');
  const c = await waitClose();
  if (c.code === 4000) ok('close');
  else fail('close', `server answered with code ${c.code}, want 4000`);
}

/** Sends the messages of WS_PLAN to an echo server and checks the echoes. */
async function plan() {
  const entries = JSON.parse(process.env.WS_PLAN || '[]');
  for (const e of entries) {
    const binary = e.kind === 'random';
    const data = binary ? crypto.randomBytes(e.size) : jsonText(e.size);
    const n = e.fragments || 1;
    if (n > 1) {
      const size = Math.ceil(data.length / n);
      for (let i = 0; i < n; i++) {
        const chunk = data.subarray(Math.min(i * size, data.length), Math.min((i + 1) * size, data.length));
        ws.send(chunk, { binary, compress: true, fin: i === n - 1 });
      }
    } else {
      ws.send(data, { binary });
    }
    checkMessage(e.name, await take(messages, e.name), data, binary);
  }
  await closeDone();
}

/** Waits for the server to close, reporting the messages before. */
async function awaitClose() {
  ws.on('message', (data, isBinary) => {
    if (isBinary) line(`MESSAGE binary ${data.length}`);
    else line(`MESSAGE text ${JSON.stringify(data.toString())}`);
  });
  const c = await waitClose();
  if (c.code === 1006) fail('close', 'connection ended without a close frame');
  else ok('close');
}

ws.on('open', () => {
  opened = true;
  line(`EXTENSIONS ${JSON.stringify(ws.extensions)}`);
  line(`HEADER ${JSON.stringify(extensionsHeader)}`);
  line(`PARAMS ${JSON.stringify(deflateParams(ws))}`);
  ({ exchange, 'await-close': awaitClose, plan })[mode]()
    .catch((err) => fail(mode, err.message))
    .finally(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      done();
    });
});

