"""A progress display over a send: a live line in Jupyter, a tqdm bar in a terminal.

In a Jupyter kernel the display is one output, updated in place through an
IPython display handle (no ipywidgets needed). Each update carries
``text/html`` (a small bar) and ``text/plain`` (the same as text), and the last
update is the final state, so a saved notebook, GitHub and an HTML export all
show ``cio.track: 100,000 of 100,000 rows, 1.2 s`` rather than a frozen widget
or nothing. In a terminal it is a plain tqdm bar on stderr. Left to itself
(``progress=None``) it appears only for large sends someone watches, and never
in CI logs or pipes; ``progress=True`` asks for it anywhere.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

__all__ = ["AUTO_MIN_ROWS", "NotebookLine", "Progress", "render"]

# Below this many rows a send finishes before a bar would be worth drawing.
AUTO_MIN_ROWS = 20_000
# Seconds between two redraws in a notebook: each redraw is a message to the
# front end, and a send can finish a batch every millisecond.
NOTEBOOK_INTERVAL = 0.2
# A terminal bar redraws often; a bar written to a file or a CI log (asked for
# with progress=True) writes a line only this often, so the log stays readable.
LOG_INTERVAL = 10.0
_BAR_CHARS = 20

Bundle = dict[str, str]


class _View(Protocol):
    def update(self, rows: int) -> None: ...

    def close(self, stopped: bool) -> None: ...


def _in_ci() -> bool:
    """True when the CI variable says so (GitHub Actions, GitLab, most runners set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel), not plain IPython."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel depends on IPython
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _watched() -> bool:
    """True in a terminal or a Jupyter kernel; False in CI, cron and pipes."""
    if _in_ci():
        return False
    if _in_notebook():
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def render(
    description: str, done: int, total: int, seconds: float, final: bool, stopped: bool = False
) -> Bundle:
    """Return the display of one moment of a send, as a MIME bundle.

    Parameters
    ----------
    description : str
        The label, e.g. ``"cio.track"``.
    done, total : int
        Rows sent (or settled) so far, and rows to send.
    seconds : float
        Seconds since the send started.
    final : bool
        The send has ended: no percentage, just the outcome.
    stopped : bool
        The send ended early (an error or Ctrl-C).

    Returns
    -------
    dict
        ``text/plain`` and ``text/html`` for the same text.
    """
    share = min(done / total, 1.0) if total else 1.0
    counted = f"{done:,} of {total:,} rows"
    if final and stopped:
        words = f"{description}: stopped at {counted}, {seconds:.1f} s"
    elif final:
        words = f"{description}: {counted}, {seconds:.1f} s"
    else:
        words = f"{description}: {counted} ({share:.0%}), {seconds:.1f} s"
    filled = round(share * _BAR_CHARS)
    plain = f"[{'#' * filled}{'-' * (_BAR_CHARS - filled)}] {words}"
    colour = "#c0392b" if stopped else "#2e7d32"
    page = (
        '<div class="pandas-cio-progress" style="font-family: monospace; margin: 2px 0">'
        '<span style="display: inline-block; width: 12em; height: 0.8em; '
        'background: #e0e0e0; vertical-align: middle; margin-right: 0.6em">'
        f'<span style="display: block; width: {share * 100:.1f}%; height: 100%; '
        f'background: {colour}"></span></span>'
        f"<span>{html.escape(words)}</span></div>"
    )
    return {"text/plain": plain, "text/html": page}


def _display_handle() -> Callable[[Bundle], None]:
    """Return a function that shows a bundle in the running cell, then updates it in place."""
    from IPython.display import display

    handle: list[Any] = []

    def publish(bundle: Bundle) -> None:
        if handle:
            handle[0].update(bundle, raw=True)
        else:
            handle.append(display(bundle, raw=True, display_id=True))  # type: ignore[no-untyped-call]

    return publish


class NotebookLine:
    """One output in a notebook cell, redrawn in place at most every ``interval`` seconds.

    Parameters
    ----------
    total : int
        Rows to send.
    description : str
        The label.
    publish : callable, optional
        Shows a bundle (first call) or replaces the one shown (later calls);
        default: an IPython display handle.
    clock : callable
        Seconds, monotonic.
    interval : float
        Least seconds between two redraws; the final state is always drawn.
    """

    def __init__(
        self,
        total: int,
        description: str,
        publish: Callable[[Bundle], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = NOTEBOOK_INTERVAL,
    ) -> None:
        self._total = total
        self._description = description
        self._publish = publish if publish is not None else _display_handle()
        self._clock = clock
        self._interval = interval
        self._done = 0
        self._start = clock()
        self._drawn = self._start
        self._publish(render(description, 0, total, 0.0, final=False))

    def update(self, rows: int) -> None:
        """Count ``rows`` more, and redraw when the last redraw is old enough."""
        self._done += rows
        now = self._clock()
        if now - self._drawn >= self._interval:
            self._drawn = now
            self._publish(
                render(self._description, self._done, self._total, now - self._start, final=False)
            )

    def close(self, stopped: bool) -> None:
        """Draw the final state: rows counted and seconds taken."""
        seconds = self._clock() - self._start
        self._publish(
            render(self._description, self._done, self._total, seconds, True, stopped=stopped)
        )


class _TerminalBar:
    """A tqdm bar on stderr; in a file or a log, a line every ``LOG_INTERVAL`` seconds."""

    def __init__(self, total: int, description: str) -> None:
        # tqdm.std, not tqdm.auto: outside a notebook auto picks std anyway,
        # and this never reaches for ipywidgets.
        from tqdm import tqdm

        tty = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self._bar = tqdm(
            total=total,
            desc=description,
            unit="row",
            unit_scale=True,
            file=sys.stderr,
            mininterval=0.1 if tty else LOG_INTERVAL,
            dynamic_ncols=tty,
        )

    def update(self, rows: int) -> None:
        self._bar.update(rows)

    def close(self, stopped: bool) -> None:
        self._bar.close()


class Progress:
    """Count delivered rows on a display, or do nothing.

    Parameters
    ----------
    total : int
        Rows that will be sent.
    enabled : bool or None
        True forces a display, False hides it, None shows one for sends of
        ``AUTO_MIN_ROWS`` rows or more when a person is watching (a terminal
        or a notebook, and not CI).
    description : str
        The display's label.
    """

    def __init__(self, total: int, enabled: bool | None, description: str) -> None:
        if enabled is None:
            enabled = total >= AUTO_MIN_ROWS and _watched()
        self._view: _View | None = None
        if enabled:
            self._view = (
                NotebookLine(total, description)
                if _in_notebook()
                else _TerminalBar(total, description)
            )

    def update(self, rows: int) -> None:
        """Advance the display by ``rows``."""
        if self._view is not None:
            self._view.update(rows)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._view is not None:
            self._view.close(stopped=exc_type is not None)
