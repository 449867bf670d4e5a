"""Run a :class:`~pandas_cio.testing.FakeCio` as a separate process.

A fake in its own process does not compete with the sender for the GIL, so a
throughput benchmark measures the sender, not the fake. The parent talks to
the child over its standard streams, one line each way:

- on start the child prints one JSON line ``{"url": ...}`` (the key is the
  one given with ``--api-key``, so it is never echoed);
- ``stats`` prints one JSON line of counters (see :func:`stats`);
- ``reset`` forgets every record and prints ``{"ok": true}``;
- ``quit`` or the end of standard input stops the fake and exits.

Run it as::

    python -m pandas_cio.testing._serve --latency 0.05
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import orjson

from pandas_cio.testing._server import FakeCio

__all__ = ["main", "stats"]

# The service's rate-limit window, reported with every stats answer.
_WINDOW_SECONDS = 3.0


def stats(fake: FakeCio) -> dict[str, Any]:
    """Return the fake's counters as plain values.

    Parameters
    ----------
    fake : FakeCio
        A fake, running or stopped.

    Returns
    -------
    dict
        ``requests``, ``accepted_calls``, ``unique_message_ids``,
        ``dropped_calls``, ``dropped_bodies``, ``connections_opened`` and
        ``max_requests_in_3s`` (the most requests in any 3-second window).
    """
    ids = fake.message_ids
    return {
        "requests": len(fake.requests),
        "accepted_calls": fake.accepted_calls,
        "unique_message_ids": len(set(ids)),
        "dropped_calls": fake.dropped_calls,
        "dropped_bodies": fake.dropped_bodies,
        "connections_opened": fake.connections_opened,
        "max_requests_in_3s": fake.max_requests_in_window(_WINDOW_SECONDS),
    }


def _say(out: TextIO, value: dict[str, Any]) -> None:
    out.write(orjson.dumps(value).decode() + "\n")
    out.flush()


def main(
    argv: Sequence[str] | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    """Start a fake, answer commands from ``stdin`` until it ends, then stop.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).
    stdin, out : text streams
        Where commands come from and answers go.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m pandas_cio.testing._serve")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--api-key", default="fake-test-key")
    parser.add_argument(
        "--keep-calls", action="store_true", help="keep every call (memory grows with rows)"
    )
    options = parser.parse_args(argv)
    fake = FakeCio(
        options.api_key,
        port=options.port,
        latency=options.latency,
        keep_calls=options.keep_calls,
    )
    with fake:
        _say(out, {"url": fake.url})
        for line in stdin:
            command = line.strip()
            if command == "stats":
                _say(out, stats(fake))
            elif command == "reset":
                fake.reset()
                _say(out, {"ok": True})
            elif command == "quit":
                break
            elif command:
                _say(out, {"error": f"unknown command {command!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
