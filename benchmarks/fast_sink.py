"""A lean stand-in for the service, for throughput runs: asyncio, one process, no GIL fight.

:class:`pandas_cio.testing.FakeCio` parses every body with orjson and re-encodes
every call to check its size; on a 2-CPU machine that work competes with the
sender for the second CPU and caps a benchmark near 100 requests per second.
This sink does what a benchmark needs and little more, on one asyncio loop:

- answers ``POST /v1/batch`` (and the single-call endpoints) with 200 ``{}``
  after ``--latency`` seconds, without holding up other connections;
- refuses a wrong ``Authorization`` header (401) and bodies over 500 KB (413);
- counts calls by their ``"messageId":"..."`` members and keeps the set of
  ids, so lost or duplicated rows show up;
- parses every ``--check-every``-th body fully with orjson (strict JSON, a
  ``batch`` list of objects), answering 400 when it is not.

It speaks the same line protocol as ``python -m pandas_cio.testing._serve``
(a ``{"url": ...}`` line on start; ``stats``, ``reset`` and ``quit`` on
standard input), so ``identify_throughput.py --sink fast`` drives it the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import re
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import orjson

MAX_BODY_BYTES = 500 * 1024
# Hex ids as pandas_cio derives them; an escaped quote inside an id would cut
# it short, which only matters for ids this benchmark never sends. The regex
# that handles escapes is ten times slower.
_MESSAGE_ID = re.compile(rb'"messageId":"([^"]*)"')
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _answer(status: int, reason: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


class Sink:
    """The sink's state, shared by the loop and the command thread."""

    def __init__(self, api_key: str, latency: float, check_every: int) -> None:
        self.authorization = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        self.latency = latency
        self.check_every = check_every
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.arrivals: list[float] = []
            self.ids: set[bytes] = set()
            self.calls = 0
            self.refused = 0
            self.checked = 0
            self.connections = 0

    def stats(self) -> dict[str, Any]:
        with self.lock:
            times = sorted(self.arrivals)
            best = start = 0
            for end, t in enumerate(times):
                while t - times[start] >= 3.0:
                    start += 1
                best = max(best, end - start + 1)
            return {
                "requests": len(times),
                "accepted_calls": self.calls,
                "unique_message_ids": len(self.ids),
                "refused": self.refused,
                "bodies_parsed": self.checked,
                "connections_opened": self.connections,
                "max_requests_in_3s": best,
            }

    def accept(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """Record one request; return the status and reason to answer."""
        arrived = time.monotonic()
        with self.lock:
            self.arrivals.append(arrived)
            number = len(self.arrivals)
        if headers.get("authorization") != self.authorization:
            return self._refuse(401, "Unauthorized")
        if headers.get("content-encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        if len(body) > MAX_BODY_BYTES:
            return self._refuse(413, "Payload Too Large")
        if self.check_every and number % self.check_every == 1:
            try:
                parsed = orjson.loads(body)
                batch = parsed.get("batch", [parsed])
                assert isinstance(batch, list) and all(isinstance(c, dict) for c in batch)
            except (orjson.JSONDecodeError, AssertionError, AttributeError):
                return self._refuse(400, "Bad Request")
            with self.lock:
                self.checked += 1
        ids = _MESSAGE_ID.findall(body)
        with self.lock:
            self.calls += len(ids)
            self.ids.update(ids)
        return 200, "OK"

    def _refuse(self, status: int, reason: str) -> tuple[int, str]:
        with self.lock:
            self.refused += 1
        return status, reason


async def _serve_connection(
    sink: Sink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with sink.lock:
        sink.connections += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, reason = sink.accept(headers, body)
            await asyncio.sleep(sink.latency)
            if status == 200:
                writer.write(_OK)
            else:
                writer.write(_answer(status, reason, orjson.dumps({"error": reason})))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        return
    finally:
        writer.close()


def _commands(sink: Sink, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            answer: dict[str, Any] = sink.stats()
        elif command == "reset":
            sink.reset()
            answer = {"ok": True}
        elif command == "quit":
            break
        else:
            answer = {"error": f"unknown command {command!r}"}
        sys.stdout.write(orjson.dumps(answer).decode() + "\n")
        sys.stdout.flush()
    loop.call_soon_threadsafe(stop.set)


async def _main(options: argparse.Namespace) -> None:
    sink = Sink(options.api_key, options.latency, options.check_every)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(sink, r, w),
        "127.0.0.1",
        options.port,
        backlog=256,
        limit=2**20,  # whole bodies in one buffer, no flow-control stalls
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(orjson.dumps({"url": f"http://127.0.0.1:{port}/v1"}).decode() + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_commands, args=(sink, loop, stop), daemon=True).start()
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="fake-test-key")
    parser.add_argument("--check-every", type=int, default=16, help="parse every n-th body")
    asyncio.run(_main(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
