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

module.exports = { MAX_PAYLOAD, deflateOption, line, event };
