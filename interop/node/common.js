'use strict';

// Helpers shared by echo-server.js and client.js.

/**
 * The largest message either peer accepts: 64 MiB, well above the 16 MiB
 * messages of the tests.
 */
const MAX_PAYLOAD = 64 * 1024 * 1024;

/**
 * Returns the perMessageDeflate option of ws from the environment variable
 * WS_PERMESSAGE_DEFLATE: unset, "", "0" or "false" turn it off (the
 * default here), "1" or "true" turn it on with ws's defaults, and any other
 * value is parsed as JSON and passed as the options object, for example
 * {"serverMaxWindowBits":10,"clientNoContextTakeover":true,"threshold":0}.
 */
function deflateOption() {
  const v = (process.env.WS_PERMESSAGE_DEFLATE || '').trim();
  if (v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  return JSON.parse(v);
}

/** Writes one line to stdout. Writes to a pipe are synchronous on Linux. */
function line(s) {
  process.stdout.write(s + '\n');
}

/** Writes an event line: the kind, a space and the fields as JSON. */
function event(kind, fields) {
  line(kind + ' ' + JSON.stringify(fields));
}

/**
 * Returns the permessage-deflate parameters a connection works with (the
 * params of ws's PerMessageDeflate, as agreed and completed by ws), or null
 * when the extension is not in force. ws 8 has no public API for them.
 */
function deflateParams(ws) {
  const pmd = ws._extensions && ws._extensions['permessage-deflate'];
  return pmd ? pmd.params : null;
}

/** Returns n bytes of a repeating pattern that shows misplaced bytes. */
function pattern(n, text) {
  const alphabet = text
    ? Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ')
    : Buffer.from(Array.from({ length: 251 }, (_, i) => i)); // 251 is prime
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = alphabet[(i * 7 + (i >> 8)) % alphabet.length];
  return b;
}

/**
 * Returns n bytes of JSON-like text that compresses about as well as real
 * JSON: records with varying numbers and names, cut at n bytes.
 */
function jsonText(n) {
  const actions = ['login', 'logout', 'view', 'click', 'purchase', 'search'];
  const parts = [];
  let size = 0;
  let x = 12345;
  for (let i = 0; size < n; i++) {
    x = (x * 48271) % 2147483647; // Park-Miller, exact in doubles
    const rec = JSON.stringify({
      id: i,
      user: `user-${x % 997}`,
      action: actions[x % actions.length],
      amount: (x % 100000) / 100,
      tags: [`t${x % 13}`, `t${x % 7}`],
      ok: x % 3 !== 0
    }) + '\n';
    parts.push(rec);
    size += rec.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

module.exports = { MAX_PAYLOAD, deflateOption, deflateParams, jsonText, line, event, pattern };
