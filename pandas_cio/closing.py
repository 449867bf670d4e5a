"""One way for the library's resources to be context managers."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """``with`` gives the object itself; leaving the block calls :meth:`close`.

    The client and the SQLite ledger hold connections a script must not leak
    when it stops early, so both are used as ``with Client() as client:``.
    """

    def close(self) -> None:
        """Release what the object holds; subclasses say what."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
