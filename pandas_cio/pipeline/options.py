"""The options of a send: the keywords every accessor method takes, checked once.

:class:`SendOptions` is what the front doors pass through; :class:`Settings`
is the part of them the stages read, checked when it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from ..delivery.client import Client
from ..ledger import LedgerArg
from ..outcome.gates import Limit
from ..prepare.plan import Missing

__all__ = ["DEFAULT_CHUNK_ROWS", "Errors", "SendOptions", "Settings"]

# Rows encoded per slice: large enough that per-slice overhead vanishes (it is
# flat from about 20,000 rows), small enough that a slice's working set stays
# near 25 MB and that encoding one takes less time than the requests already
# in flight need to finish, so the workers never wait for the encoder.
DEFAULT_CHUNK_ROWS = 20_000

Errors = Literal["mark", "raise"]


class SendOptions(TypedDict, total=False):
    """Keyword options every accessor method takes (see :func:`pandas_cio.pipeline.run`)."""

    client: Client | None
    dry_run: bool
    errors: Errors
    missing: Missing
    progress: bool | None
    chunk_rows: int
    ledger: LedgerArg | None
    full_refresh: bool
    max_split_requests: int
    journeys: bool
    mirror: str | None
    mirror_max_deletes: Limit | None
    max_invalid: Limit | None
    max_too_large: Limit | None


@dataclass(frozen=True)
class Settings:
    """What the stages of one send read from its options (see :func:`~.send.run`)."""

    client: Client | None
    dry_run: bool
    errors: Errors
    missing: Missing
    progress: bool | None
    chunk_rows: int
    max_split_requests: int
    journeys: bool

    def __post_init__(self) -> None:
        if self.errors not in ("mark", "raise"):
            raise ValueError(f"errors= must be 'mark' or 'raise', not {self.errors!r}")
