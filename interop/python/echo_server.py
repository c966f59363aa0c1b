#!/usr/bin/python3
"""An echo server for the interoperability tests of the Go package, on the
websockets library of Python (its asyncio API of versions 10 to 13, as
Debian's python3-websockets 10.4 has it).

Usage: /usr/bin/python3 echo_server.py [PORT]

It listens on 127.0.0.1:PORT (0 or no argument picks a free port) and prints
"PORT <n>" as its first line. It speaks the protocol of
../node/echo-server.js: every connection echoes each message with the same
type, except the text commands

  close:CODE:REASON  closes the connection with CODE and REASON
  close:             closes the connection with a close frame without a code
  ping:PAYLOAD       sends a ping with PAYLOAD; when the pong arrives it
                     sends the text "pong:<payload>"

and it reports what happens as lines "KIND {json}" on stdout, each naming the
connection by the "name" query parameter of its URL:

  OPEN    {"name","extensions","header"}  the names of the extensions in
          force and the Sec-WebSocket-Extensions header of the response
  PONG    {"name","payload"}
  CLOSE   {"name","code","reason"}        the close the peer sent or answered
  ERROR   {"name","message","errorCode"}

permessage-deflate is on, with the library's defaults, unless the
environment variable WS_COMPRESSION is "none". Automatic keepalive pings are
off, so that every ping is one the test asked for.
"""

import asyncio
import json
import os
import signal
import sys
import urllib.parse

import websockets
from websockets.frames import Close

# The largest message accepted: 64 MiB, as in ../node/common.js.
MAX_SIZE = 64 * 1024 * 1024

# Close codes that mean this side failed the connection.
FAILURE_CODES = {1002, 1003, 1007, 1008, 1009, 1010, 1011}


def line(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def event(kind, **fields):
    line(kind + " " + json.dumps(fields))


async def handler(ws):
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.path).query)
    name = query.get("name", [""])[0]
    event(
        "OPEN",
        name=name,
        extensions=",".join(ext.name for ext in ws.extensions),
        header=ws.response_headers.get("Sec-WebSocket-Extensions", ""),
    )
    commanded_close = False
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("close:"):
                commanded_close = True
                rest = message[len("close:"):]
                if rest == "":
                    # close() always sends a code: write the empty frame.
                    await ws.write_close_frame(Close(1005, ""), b"")
                else:
                    code, _, reason = rest.partition(":")
                    await ws.close(int(code), reason)
                break
            if isinstance(message, str) and message.startswith("ping:"):
                payload = message[len("ping:"):]
                pong = await ws.ping(payload)
                await pong
                event("PONG", name=name, payload=payload)
                await ws.send("pong:" + payload)
                continue
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    except Exception as err:  # reported, then the connection is closed
        event("ERROR", name=name, message=repr(err), errorCode=type(err).__name__)
    await ws.wait_closed()
    if not commanded_close and ws.close_sent is not None and ws.close_sent.code in FAILURE_CODES:
        event("ERROR", name=name, message=f"failed the connection: {ws.close_sent}", errorCode=str(ws.close_sent.code))
    event("CLOSE", name=name, code=ws.close_code, reason=ws.close_reason)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    compression = None if os.environ.get("WS_COMPRESSION") == "none" else "deflate"
    async with websockets.serve(
        handler,
        "127.0.0.1",
        port,
        compression=compression,
        max_size=MAX_SIZE,
        ping_interval=None,
    ) as server:
        line(f"PORT {server.sockets[0].getsockname()[1]}")
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
