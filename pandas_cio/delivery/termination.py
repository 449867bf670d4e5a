"""Turn SIGTERM into an exception for the duration of a send, so the result survives.

A scheduler, a container stop or ``kill`` sends SIGTERM, whose default
handler ends the process at once: the rows already delivered would have no
status anywhere. While a send runs in the main thread, :func:`sigterm_raises`
replaces the default handler with one that raises :class:`Terminated` in the
main thread, which the pipeline turns into a
:class:`~pandas_cio.errors.TerminatedSendError` carrying the result, the way
Ctrl-C becomes an :class:`~pandas_cio.errors.InterruptedSendError`.

Only the default handler is replaced: a handler the application installed
(or ``SIG_IGN``) is its decision and stays. Outside the main thread Python
cannot install handlers, so nothing changes there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "sigterm_raises"]


class Terminated(BaseException):
    """SIGTERM arrived during a send (a BaseException, so no ``except Exception`` eats it)."""


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Raise :class:`Terminated` on the first SIGTERM while the block runs.

    The previous handler is restored when the block ends. A SIGTERM that
    arrives after the block ended but before the handler was restored is
    delivered again to the default handler, so it is never lost.
    """
    sigterm = getattr(signal, "SIGTERM", None)
    if (
        sigterm is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(sigterm) is not signal.SIG_DFL
    ):
        yield
        return
    state = {"armed": True, "late": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        if state["armed"]:
            # Once only: a second SIGTERM must not break the clean-up of the first.
            state["armed"] = False
            raise Terminated
        state["late"] = True

    signal.signal(sigterm, handler)
    try:
        yield
    finally:
        fired = not state["armed"]
        state["armed"] = False
        signal.signal(sigterm, signal.SIG_DFL)
        if state["late"] and not fired:
            # Arrived after the send ended: act as if this module was never here.
            os.kill(os.getpid(), sigterm)
