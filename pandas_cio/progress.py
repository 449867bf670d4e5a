"""An optional progress bar over a send (tqdm), quiet unless someone is watching."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["Progress"]

# Below this many rows a send finishes before a bar would be worth drawing.
AUTO_MIN_ROWS = 20_000


def _watched() -> bool:
    """True in a terminal or a Jupyter kernel, False in cron, CI and pipes."""
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Count delivered rows on a tqdm bar, or do nothing.

    Parameters
    ----------
    total : int
        Rows that will be sent.
    enabled : bool or None
        True forces a bar, False hides it, None shows one for large sends
        when a person is watching (a terminal or a notebook).
    description : str
        The bar's label.
    """

    def __init__(self, total: int, enabled: bool | None, description: str) -> None:
        if enabled is None:
            enabled = total >= AUTO_MIN_ROWS and _watched()
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit="row", unit_scale=True)

    def update(self, rows: int) -> None:
        """Advance the bar by ``rows``."""
        if self._bar is not None:
            self._bar.update(rows)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
