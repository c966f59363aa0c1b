#!/usr/bin/python3
"""A client for the interoperability tests of the Go package, on the
websockets library of Python (its asyncio API of versions 10 to 13).

Usage: /usr/bin/python3 client.py URL [exchange|await-close]

exchange (the default) runs a scripted exchange against an echo server:
messages of both types and several sizes, fragmented messages, pings, and a
close with code 4000 and reason "done". await-close waits for the server to
close the connection, reporting the messages that come first.

It prints one line per result on stdout, as ../node/client.js does:

  EXTENSIONS "<names of the extensions in force>"
  HEADER "<Sec-WebSocket-Extensions of the server's response>"
  OK <check>                   a check passed
  FAIL <check>: <detail>       a check failed
  MESSAGE text "<data>"        (await-close) a text message arrived
  MESSAGE binary <length>      (await-close) a binary message arrived
  CLOSE <code> "<reason>"      the close code and reason the client got
  DONE pass=<n> fail=<n>

and exits 0 only if every check passed. permessage-deflate is offered, with
the library's defaults, unless the environment variable WS_COMPRESSION is
"none".
"""

import asyncio
import json
import os
import sys

import websockets

MAX_SIZE = 64 * 1024 * 1024
TIMEOUT = 50  # seconds for the whole run


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, check):
        self.passed += 1
        line(f"OK {check}")

    def fail(self, check, detail):
        self.failed += 1
        line(f"FAIL {check}: {detail}")


def line(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def pattern(n, text):
    """Returns n bytes of the pattern of ../node/common.js."""
    if text:
        alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    else:
        alphabet = bytes(range(251))  # 251 is prime
    return bytes(alphabet[(i * 7 + (i >> 8)) % len(alphabet)] for i in range(n))


def check_message(report, check, got, want):
    if type(got) is not type(want):
        report.fail(check, f"got {type(got).__name__}, want {type(want).__name__}")
    elif got != want:
        report.fail(check, f"got {len(got)} items that differ from the {len(want)} sent")
    else:
        report.ok(check)


async def exchange(ws, report):
    echoes = [
        ("echo/text", "hello from python"),
        ("echo/text-utf8", "héllo wörld ✓ 🚀"),
        ("echo/binary", bytes([0, 1, 2, 0xFE, 0xFF])),
        ("echo/empty-text", ""),
        ("echo/empty-binary", b""),
    ]
    for n in (125, 126, 65535, 65536, 1 << 20):
        echoes.append((f"echo/binary-{n}", pattern(n, False)))
    for n in (65536, 1 << 20):
        echoes.append((f"echo/text-{n}", pattern(n, True).decode()))
    for check, data in echoes:
        await ws.send(data)
        check_message(report, check, await ws.recv(), data)

    # Fragmented messages: an iterable is sent as one message, a frame per item.
    text = ["fragmented: ünïcödé ", "across ", "frames ✓"]
    await ws.send(text)
    check_message(report, "fragmented/text", await ws.recv(), "".join(text))
    whole = pattern(3 * 40 * 1024, False)
    binary = [whole[i * 40 * 1024 : (i + 1) * 40 * 1024] for i in range(3)]
    await ws.send(binary)
    check_message(report, "fragmented/binary", await ws.recv(), b"".join(binary))

    # Pings: the pong must carry the ping's payload, or it does not count.
    for check, payload in (
        ("ping/payload", b"ping-from-python"),
        ("ping/empty", b""),
        ("ping/125", pattern(125, False)),
    ):
        pong = await ws.ping(payload)
        try:
            await asyncio.wait_for(pong, 10)
            report.ok(check)
        except asyncio.TimeoutError:
            report.fail(check, "no pong with the payload within 10s")

    await ws.close(4000, "done")
    if ws.close_code == 4000:
        report.ok("close")
    else:
        report.fail("close", f"server answered with code {ws.close_code}, want 4000")


async def await_close(ws, report):
    try:
        async for message in ws:
            if isinstance(message, bytes):
                line(f"MESSAGE binary {len(message)}")
            else:
                line(f"MESSAGE text {json.dumps(message)}")
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    if ws.close_code == 1006:
        report.fail("close", "connection ended without a close frame")
    else:
        report.ok("close")


async def run(url, mode, report):
    compression = None if os.environ.get("WS_COMPRESSION") == "none" else "deflate"
    ws = await websockets.connect(url, compression=compression, max_size=MAX_SIZE, ping_interval=None)
    try:
        line(f"EXTENSIONS {json.dumps(','.join(ext.name for ext in ws.extensions))}")
        line(f"HEADER {json.dumps(ws.response_headers.get('Sec-WebSocket-Extensions', ''))}")
        await (exchange if mode == "exchange" else await_close)(ws, report)
    finally:
        await ws.close()
        line(f"CLOSE {ws.close_code} {json.dumps(ws.close_reason)}")


def main():
    if len(sys.argv) < 2 or (len(sys.argv) > 2 and sys.argv[2] not in ("exchange", "await-close")):
        sys.stderr.write("usage: client.py URL [exchange|await-close]\n")
        sys.exit(2)
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "exchange"
    report = Report()
    try:
        asyncio.run(asyncio.wait_for(run(url, mode, report), TIMEOUT))
    except Exception as err:  # reported as a failure
        report.fail(mode, repr(err))
    line(f"DONE pass={report.passed} fail={report.failed}")
    sys.exit(0 if report.failed == 0 and report.passed > 0 else 1)


if __name__ == "__main__":
    main()
