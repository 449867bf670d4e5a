"""HTTP plumbing of the fake service: a threading server and its request handler.

The handler knows how to read bodies and write, abort or drop answers; what to
answer is decided by the callback the server is built with, so this module
knows nothing about the Customer.io contract.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Handler", "Server"]

logger = logging.getLogger("pandas_cio.testing")

# Many concurrent clients connect at once in throughput tests; the default
# backlog of 5 makes extra connection attempts wait for SYN retransmits.
_LISTEN_BACKLOG = 128

# Longest chunk-size or trailer line read from a chunked body; guards against
# a client that never sends a line end.
_MAX_LINE = 65537


class Server(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to ``dispatch``.

    Parameters
    ----------
    address : tuple of (str, int)
        Host and port to listen on; port 0 picks a free one.
    dispatch : callable
        Called with the :class:`Handler` of each request; it must answer,
        abort or drop.
    on_connection : callable
        Called with a connection's socket and True when it opens, False when
        it closes, so the owner can end kept-alive connections on stop.
    """

    daemon_threads = True
    # Handler threads are daemons and may be hanging on purpose; never join them.
    block_on_close = False
    request_queue_size = _LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        dispatch: Callable[[Handler], None],
        on_connection: Callable[[socket.socket, bool], None],
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.dispatch = dispatch
        self.on_connection = on_connection
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log handler errors at DEBUG instead of printing tracebacks to stderr."""
        # Clients that time out or close pooled connections are routine in tests.
        # socketserver calls this from inside its except block, so exc_info is set.
        logger.debug("error while serving %s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    """One connection's requests, kept alive between them (HTTP/1.1)."""

    server: Server
    protocol_version = "HTTP/1.1"
    server_version = "pandas-cio-fake"
    # Responses go out in one write, but error answers from the base class
    # (malformed requests) use two; with Nagle on, the second write would wait
    # for a delayed ACK of about 40 ms.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """Name the fake in the ``Server`` header, without the Python version."""
        return self.server_version

    def setup(self) -> None:
        """Prepare the connection and report it open."""
        super().setup()
        self.server.on_connection(self.connection, True)

    def finish(self) -> None:
        """Flush and close the connection's files and report it closed."""
        try:
            super().finish()
        finally:
            self.server.on_connection(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to the ``pandas_cio.testing`` logger at DEBUG."""
        logger.debug(format, *args)

    def do_POST(self) -> None:
        """Hand the request to the server's dispatch callback."""
        self.server.dispatch(self)

    # Other methods reach dispatch too, which answers them as the contract says.

    def do_GET(self) -> None:
        """Hand the request to the server's dispatch callback."""
        self.server.dispatch(self)

    def do_PUT(self) -> None:
        """Hand the request to the server's dispatch callback."""
        self.server.dispatch(self)

    def do_DELETE(self) -> None:
        """Hand the request to the server's dispatch callback."""
        self.server.dispatch(self)

    def read_body(self, limit: int | None = None) -> bytes:
        """Read the raw request body, or at most ``limit`` bytes of it.

        Parameters
        ----------
        limit : int or None
            Stop after this many bytes; None reads the whole body.

        Returns
        -------
        bytes
            The body as sent, still compressed if it was.
        """
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None:
            length = min(length, limit)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self, limit: int | None) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(_MAX_LINE)
            chunk_size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if chunk_size == 0:
                # Trailer section: header lines up to an empty one.
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(chunk_size))
            self.rfile.readline(_MAX_LINE)
            size += chunk_size
            if limit is not None and size >= limit:
                return b"".join(parts)[:limit]

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Send a complete JSON response, keeping the connection open.

        Parameters
        ----------
        status : int
            HTTP status code.
        body : bytes
            JSON body.
        headers : dict of str to str, optional
            Extra headers, such as ``Retry-After``.
        """
        # One write for status line, headers and body: a second small write
        # costs a system call per response, a tenth of the time of a request.
        head = [
            f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
            f"Server: {self.server_version}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status)

    def abort(self) -> None:
        """Close the connection with a TCP reset instead of an orderly close."""
        # SO_LINGER on with a zero timeout makes close() send RST, so the client
        # sees ECONNRESET rather than a clean end of stream.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        # The client or stop() may have closed it already; either way it is gone.
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
