'use strict';

// Node.js ws echo server for the benchmark driver in bench/cmd/echo.
//
//   node echo.js [--mode node|node-deflate] [--port N]
//   node echo.js --versions
//
// It follows the protocol of `echo server -lib X`: it listens on
// 127.0.0.1 (port from --port, else $ECHO_PORT, else 0 for any free port),
// writes one line "addr 127.0.0.1:PORT" to stdout once it is listening,
// then answers commands on stdin, one a line:
//
//   quit               exit
//   broadcast K SIZE   send K binary messages of SIZE zero bytes to every
//                      open connection; answers "ok N", N being the sends
//                      queued (ws.send is asynchronous, as the Go servers'
//                      broadcasts only queue too)
//
// Anything else is answered with "error ...". The driver starts it pinned
// with `taskset -c 0 node echo.js --mode ...` and measures its CPU over all
// of its threads (main, libuv thread pool, V8 platform threads).
//
// Modes:
//   node          perMessageDeflate: false. Echo with the idiom of ws's
//                 README: ws.on('message', (data, isBinary) =>
//                 ws.send(data, { binary: isBinary })).
//   node-deflate  perMessageDeflate: true, that is ws's defaults: context
//                 takeover both ways, zlib's defaults (level 6, memLevel 8,
//                 window bits as negotiated, 15 here), threshold 1024,
//                 concurrencyLimit 10. In ws 8 the threshold applies only
//                 when server_no_context_takeover is negotiated (see
//                 Sender.send in ws/lib/sender.js): with context takeover
//                 every message is compressed, whatever its size, and
//                 without it a message of 1024 bytes or more is
//                 (byteLength >= threshold).
//
// --versions prints a JSON object with the versions of node, ws and
// bufferutil, and where the native bufferutil addon was loaded from, then
// exits. The server refuses to start unless bufferutil's native addon
// loads, so that ws masks and unmasks with it rather than in JavaScript.

const path = require('path');
const readline = require('readline');

function fail(msg) {
  process.stderr.write(`node echo: ${msg}\n`);
  process.exit(1);
}

function arg(name) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

// nativeBufferutil returns the path of bufferutil's native addon, or fails.
// bufferutil's index.js falls back to a JavaScript module silently when
// node-gyp-build finds neither a build nor a prebuild; ws would then fall
// back to its own JavaScript masking as well.
function nativeBufferutil() {
  let dir;
  try {
    dir = path.dirname(require.resolve('bufferutil'));
  } catch (e) {
    fail(`bufferutil is not installed (run npm ci in ${__dirname}): ${e.message}`);
  }
  const bu = require('bufferutil');
  if (bu === require('bufferutil/fallback')) {
    fail('bufferutil loaded its JavaScript fallback, not the native addon');
  }
  try {
    return require('node-gyp-build').resolve(dir);
  } catch (e) {
    fail(`bufferutil's native addon not found: ${e.message}`);
  }
}

function versions() {
  const addon = nativeBufferutil();
  return {
    node: process.version,
    ws: require('ws/package.json').version,
    bufferutil: require('bufferutil/package.json').version,
    bufferutilAddon: addon,
  };
}

if (process.argv.includes('--versions')) {
  process.stdout.write(JSON.stringify(versions()) + '\n');
  process.exit(0);
}

if (process.env.WS_NO_BUFFER_UTIL) {
  fail('WS_NO_BUFFER_UTIL is set: ws would not use bufferutil');
}
nativeBufferutil();

let WebSocket, WebSocketServer;
try {
  ({ WebSocket, WebSocketServer } = require('ws'));
} catch (e) {
  fail(`ws is not installed (run npm ci in ${__dirname}): ${e.message}`);
}

const mode = arg('mode') || 'node';
const modes = { node: false, 'node-deflate': true };
if (!(mode in modes)) {
  fail(`unknown mode ${JSON.stringify(mode)}; one of ${Object.keys(modes).join(', ')}`);
}
const portArg = arg('port') ?? process.env.ECHO_PORT ?? '0';
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  fail(`bad port ${JSON.stringify(portArg)}`);
}
const host = '127.0.0.1';

const wss = new WebSocketServer({ host, port, perMessageDeflate: modes[mode] });

wss.on('connection', (ws) => {
  ws.on('error', () => {}); // protocol errors and resets: the socket is closed
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
});

wss.on('error', (err) => fail(`server: ${err.message}`));

wss.on('listening', () => {
  process.stdout.write(`addr ${host}:${wss.address().port}\n`);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const f = line.trim().split(/\s+/);
    if (f.length === 1 && f[0] === 'quit') {
      process.exit(0);
    } else if (f.length === 3 && f[0] === 'broadcast') {
      process.stdout.write(broadcast(f[1], f[2]) + '\n');
    } else {
      process.stdout.write(`error unknown command ${JSON.stringify(line)}\n`);
    }
  });
  rl.on('close', () => process.exit(0));
});

// broadcast sends k messages of size zero bytes to every open client, the
// way ws's README broadcasts, and returns "ok N" or "error ...".
function broadcast(k, size) {
  const nk = Number(k);
  const ns = Number(size);
  if (!Number.isInteger(nk) || !Number.isInteger(ns) || nk < 0 || ns < 0) {
    return 'error bad broadcast arguments';
  }
  const p = Buffer.alloc(ns);
  let total = 0;
  for (let i = 0; i < nk; i++) {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(p, { binary: true });
        total++;
      }
    });
  }
  return `ok ${total}`;
}
