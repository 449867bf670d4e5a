"""A deadline for a whole attempt: connect, send the body, read the full answer.

Socket timeouts bound each read, not the attempt: a server that trickles its
answer one byte a second never trips a 30 s read timeout and holds a worker
forever. :class:`Watchdog` keeps one :class:`Ticket` per attempt in flight;
the connection pools mounted by the transport bind each attempt's urllib3
connection to its ticket, and when the deadline passes (or the send is
stopped) the watchdog shuts the socket down, which wakes the blocked read at
once with an error. The transport then reports the attempt as timed out.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

__all__ = ["Ticket", "Watchdog", "current_ticket", "watch_pools"]

# How often a ticket whose deadline passed before it had a socket (still
# connecting) is looked at again.
_RECHECK_SECONDS = 0.05
_local = threading.local()


class Ticket:
    """One attempt in flight: its deadline, its stop flag and (once bound) its connection.

    The clock starts when the attempt gets its connection, not when it waits
    for a rate-limit token before that.
    """

    __slots__ = (
        "_lock",
        "_watchdog",
        "connection",
        "deadline",
        "done",
        "expired",
        "seconds",
        "stop",
    )

    def __init__(self, watchdog: Watchdog, seconds: float, stop: threading.Event | None) -> None:
        self._watchdog = watchdog
        self.seconds = seconds
        self.stop = stop
        self.deadline: float | None = None
        self.connection: Any = None
        self.expired = False
        self.done = False
        self._lock = threading.Lock()

    def bind(self, connection: Any) -> None:
        """Remember the connection this attempt uses and start its clock (from the pool)."""
        with self._lock:
            self.connection = connection
            if self.expired:
                self._shut()
                return
            first = self.deadline is None
            if first:
                self.deadline = time.monotonic() + self.seconds
        if first:
            self._watchdog._schedule(self, self.deadline)  # type: ignore[arg-type]

    def expire(self) -> bool:
        """Mark the attempt out of time and cut its socket; False when it had no socket yet."""
        with self._lock:
            if self.done:
                return True
            self.expired = True
            return self._shut()

    def _shut(self) -> bool:
        sock = getattr(self.connection, "sock", None)
        if sock is None:
            return False
        # socket.socket.shutdown on the file descriptor, not SSLSocket.shutdown,
        # which would also drop the TLS state another thread is reading with.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        return True


def current_ticket() -> Ticket | None:
    """The ticket of the attempt running on this thread, if any."""
    return getattr(_local, "ticket", None)


class Watchdog:
    """Cuts attempts that outlive their deadline; one per adapter, with a lazy thread."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Ticket]] = []
        self._live: set[Ticket] = set()
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, seconds: float, stop: threading.Event | None) -> Ticket:
        """Open a ticket for an attempt on this thread; pair with :meth:`disarm`."""
        ticket = Ticket(self, seconds, stop)
        with self._wake:
            self._live.add(ticket)
        _local.ticket = ticket
        return ticket

    def _schedule(self, ticket: Ticket, when: float) -> None:
        with self._wake:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="cio-deadline-watchdog", daemon=True
                )
                self._thread.start()
            heapq.heappush(self._heap, (when, next(self._counter), ticket))
            # Deadlines mostly come in order: wake the thread only when this
            # one is now the earliest (one wake-up per request would cost CPU).
            if self._heap[0][2] is ticket:
                self._wake.notify()

    def disarm(self, ticket: Ticket) -> None:
        """The attempt ended (answered or failed); its socket is left alone from now on."""
        _local.ticket = None
        with ticket._lock:
            ticket.done = True
        with self._wake:
            self._live.discard(ticket)

    def abort(self, stop: threading.Event) -> int:
        """Cut every attempt in flight that belongs to ``stop``'s send; return how many."""
        with self._wake:
            chosen = [t for t in self._live if t.stop is stop]
        for ticket in chosen:
            if not ticket.expire():
                # Connecting or waiting for a token: look again until it is bound.
                self._schedule(ticket, time.monotonic() + _RECHECK_SECONDS)
        return len(chosen)

    def close(self) -> None:
        """Stop the watchdog thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    ticket = heapq.heappop(self._heap)[2]
                    if ticket.done:
                        continue
                    if not ticket.expire():  # still connecting: look again shortly
                        heapq.heappush(
                            self._heap,
                            (now + _RECHECK_SECONDS, next(self._counter), ticket),
                        )
                        break
                timeout = self._heap[0][0] - now if self._heap else None
                self._wake.wait(timeout)


def _bind(connection: Any) -> None:
    ticket = current_ticket()
    if ticket is not None:
        ticket.bind(connection)


class _Watched:
    """Mixed into a urllib3 pool class: binds each request's connection to the thread's ticket."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _bind(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


_WATCHED: dict[type, type] = {}


def watch_pools(manager: Any) -> Any:
    """Make a urllib3 pool manager build pools that bind connections to tickets.

    Each pool class the manager uses (plain, TLS, or a SOCKS proxy's) gets a
    subclass with the binding mixed in, so every kind of connection is covered.
    """
    classes = manager.pool_classes_by_scheme
    if getattr(manager, "_cio_watched", False):
        return manager
    patched = {}
    for scheme, cls in classes.items():
        if cls not in _WATCHED:
            _WATCHED[cls] = type(f"Watched{cls.__name__}", (_Watched, cls), {})
        patched[scheme] = _WATCHED[cls]
    manager.pool_classes_by_scheme = patched
    manager._cio_watched = True
    return manager
