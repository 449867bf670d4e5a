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

For people and tools there is :func:`serve` (``pandas-cio fake``, or
``python -m pandas_cio.testing``): it prints the URL, the key and the
environment lines to paste, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import orjson

from pandas_cio.testing._server import FakeCio
from pandas_cio.testing._types import Fault

__all__ = ["DEFAULT_KEY", "banner", "main", "serve", "stats"]

#: The key :func:`serve` accepts unless told another: a fake's key, never a real one.
DEFAULT_KEY = "fake-test-key"

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


def banner(url: str, api_key: str) -> str:
    """Return what :func:`serve` prints on start: the URL, the key and the lines to paste.

    Parameters
    ----------
    url : str
        The running fake's base URL.
    api_key : str
        The key it accepts.

    Returns
    -------
    str
        Lines ending in a newline.
    """
    lines = [
        "pandas-cio fake: a local stand-in for Customer.io's Data Pipelines API",
        f"  url  {url}",
        f"  key  {api_key}",
        "",
        "Paste these into another shell, then run pandas-cio commands or Python there:",
        f"  export CIO_API_KEY={shlex.quote(api_key)}",
        f"  export CIO_BASE_URL={shlex.quote(url)}",
    ]
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines) + "\n"


@contextmanager
def _signals(signum: int, handler: Any) -> Iterator[None]:
    """Handle ``signum`` with ``handler`` inside the block (only the main thread can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def serve(
    api_key: str = DEFAULT_KEY,
    *,
    port: int = 0,
    latency: float = 0.0,
    fail_rate: float = 0.0,
    json_line: bool = False,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run a :class:`FakeCio` in the foreground until Ctrl-C, SIGTERM or ``stop`` is set.

    This is ``pandas-cio fake`` and ``python -m pandas_cio.testing``: it prints
    the fake's URL, its key and the two ``export`` lines that point
    pandas_cio and the ``pandas-cio`` command at it, then serves.

    Parameters
    ----------
    api_key : str
        The key the fake accepts (it refuses others with 401).
    port : int
        Port on 127.0.0.1; 0 picks a free one.
    latency : float
        Seconds the fake waits before each answer.
    fail_rate : float
        Share of ``/batch`` requests, between 0 and 1, answered with HTTP 503
        (the client retries them), to see retries and failures.
    json_line : bool
        Print one JSON line ``{"url": ..., "api_key": ...}`` instead of the
        text, for a tool that starts the fake and reads where it is.
    out : text stream, optional
        Where to print (default: standard output).
    stop : threading.Event, optional
        Set it to stop serving from another thread.

    Returns
    -------
    dict
        The fake's counters when it stopped (see :func:`stats`).

    Examples
    --------
    In a shell (``pandas-cio fake --port 8765``), or from Python::

        import threading
        from pandas_cio.testing import serve

        stop = threading.Event()
        threading.Thread(target=serve, kwargs={"port": 8765, "stop": stop}).start()
        ...
        stop.set()
    """
    out = sys.stdout if out is None else out
    stop = threading.Event() if stop is None else stop
    fake = FakeCio(api_key, port=port, latency=latency, keep_calls=False)
    if fail_rate:
        fake.inject(Fault(status=503, probability=fail_rate, paths=("/batch",)))
    fake.start()
    try:
        # SIGTERM (a service manager, `kill`) ends the loop as Ctrl-C does.
        with _signals(signal.SIGTERM, lambda *_: stop.set()):
            if json_line:
                _say(out, {"url": fake.url, "api_key": api_key})
            else:
                out.write(banner(fake.url, api_key))
                out.flush()
            try:
                while not stop.wait(0.5):  # a timed wait: Ctrl-C and signals get through
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        # A second Ctrl-C while stopping (it takes a moment) must not leave a traceback.
        with _signals(signal.SIGINT, signal.SIG_IGN):
            counters = stats(fake)
            fake.stop()
    if not json_line:
        requests, calls = counters["requests"], counters["accepted_calls"]
        out.write(
            f"stopped: {requests:,} request{'' if requests == 1 else 's'}, "
            f"{calls:,} call{'' if calls == 1 else 's'} accepted\n"
        )
        out.flush()
    return counters


if __name__ == "__main__":
    sys.exit(main())
