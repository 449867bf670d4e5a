"""The executor side: one Spark task runs the ordinary pandas pipeline over its partition.

:class:`PartitionSender` is the function handed to ``mapInPandas``. It is a
plain picklable object that imports nothing from pyspark, so it can be tested
(and reasoned about) as a pandas function: Arrow batches of the partition in,
one status row per input row out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from ..delivery.auth import ApiKey
from ..delivery.client import Client
from ..errors import AuthenticationError, InterruptedSendError, SendError
from ..outcome.columns import ATTEMPTS, BATCH, ERROR, HTTP_STATUS, MESSAGE_ID, STATUS
from ..outcome.columns import RESULT_COLUMNS as RESULT_COLUMNS
from ..outcome.results import Status
from ..pipeline import DEFAULT_CHUNK_ROWS, run
from ..prepare.plan import Missing, PayloadSpec
from ..prepare.roles import Col, Lit
from ._settings import ClientSettings

__all__ = ["RESULT_COLUMNS", "KeyHolder", "PartitionSender"]


class KeyHolder(Protocol):
    """Anything with a ``value`` that is the key: a Spark broadcast variable."""

    @property
    def value(self) -> ApiKey:
        """The key."""
        ...


@dataclass(frozen=True)
class PartitionSender:
    """Send one partition through :func:`pandas_cio.pipeline.send.run`; yield its status rows.

    Attributes
    ----------
    operation : str
        The operation's name.
    args : Mapping[str, Col | Lit]
        Role arguments, already resolved on the driver to columns or constants.
    payload : list, mapping or None
        Payload columns, as for the accessor.
    keys : tuple of str
        Input columns copied into each status row.
    epoch_columns : tuple of str
        Columns that arrive as microseconds since the epoch (Spark ``timestamp``
        columns, shipped that way so that no session time zone shifts them) and
        become UTC date-times again here.
    settings : ClientSettings or None
        How to build the task's client; None for a dry run.
    key : KeyHolder or None
        The broadcast holding the API key; None for a dry run.
    start_delay : float
        Seconds to wait before the first request (see :mod:`._settings`).
    missing : {"omit", "null"}
        What missing payload values become.
    chunk_rows : int
        Rows encoded per slice.
    journeys : bool
        Apply the checks Customer.io Journeys needs.
    """

    operation: str
    args: Mapping[str, Col | Lit]
    payload: PayloadSpec
    keys: tuple[str, ...]
    epoch_columns: tuple[str, ...] = ()
    settings: ClientSettings | None = None
    key: KeyHolder | None = None
    start_delay: float = 0.0
    missing: Missing = "omit"
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    journeys: bool = True

    def _client(self) -> Client | None:
        if self.settings is None or self.key is None:
            return None
        return Client.from_settings(self.settings, self.key.value)

    def __call__(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Send every Arrow batch of the partition; yield one status frame per batch.

        A send that stops early with a partial result (the circuit breaker
        gave up on the service, say) yields that result, and the task's
        remaining rows are marked ``failed`` with the same reason without
        being sent: the status table says what happened to every row. A
        refused key or an interrupt still fails the task.
        """
        client = self._client()
        with client if client is not None else contextlib.nullcontext():
            if client is not None and self.start_delay > 0:
                time.sleep(self.start_delay)
            offset = 0
            stopped: str | None = None
            for frame in frames:
                frame = self._restore_timestamps(frame)
                if stopped is None:
                    try:
                        result = self._run(frame, client)
                    except (AuthenticationError, InterruptedSendError):
                        raise
                    except SendError as exc:
                        result, stopped = exc.result, _reason(exc)
                else:
                    result = _not_sent(self._run(frame, None), stopped)
                statuses = self._statuses(frame, result, offset)
                if len(statuses) and statuses[BATCH].notna().any():
                    offset = int(statuses[BATCH].max()) + 1
                yield statuses

    def _run(self, frame: pd.DataFrame, client: Client | None) -> pd.DataFrame:
        return run(
            frame,
            self.operation,
            self.args,
            self.payload,
            client=client,
            dry_run=client is None,
            missing=self.missing,
            progress=False,
            chunk_rows=self.chunk_rows,
            journeys=self.journeys,
        )

    def _restore_timestamps(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.epoch_columns:
            return frame
        restored = {c: pd.to_datetime(frame[c], unit="us", utc=True) for c in self.epoch_columns}
        return frame.assign(**restored)

    def _statuses(self, frame: pd.DataFrame, result: pd.DataFrame, offset: int) -> pd.DataFrame:
        """Key columns, then the result columns (``RESULT_COLUMNS``) in Arrow-friendly dtypes."""
        columns: dict[str, pd.Series] = {
            key: frame[key].reset_index(drop=True) for key in self.keys
        }
        result = result.reset_index(drop=True)
        # Batch numbers restart with every run(); the offset keeps them unique
        # within the task, so (task, batch) names one request.
        columns[STATUS] = result[STATUS].astype("string")
        columns[ERROR] = result[ERROR]
        columns[MESSAGE_ID] = result[MESSAGE_ID]
        columns[BATCH] = result[BATCH] + offset
        columns[HTTP_STATUS] = result[HTTP_STATUS].astype("Int32")
        columns[ATTEMPTS] = result[ATTEMPTS].astype("int32")
        return pd.DataFrame(columns)


def _reason(exc: SendError) -> str:
    """The reason a stopped send gave its unsent rows (the most common one), or its message."""
    failed = exc.result.loc[exc.result[STATUS] == Status.FAILED, ERROR].dropna()
    return str(failed.mode().iloc[0]) if len(failed) else str(exc)


def _not_sent(result: pd.DataFrame, reason: str) -> pd.DataFrame:
    """A dry run's result with every row that would have gone marked failed for ``reason``."""
    ready = result[STATUS] == Status.DRY_RUN
    result.loc[ready, STATUS] = Status.FAILED.value
    result.loc[ready, ERROR] = reason
    result.loc[ready, ATTEMPTS] = 0
    result.loc[ready, BATCH] = pd.NA  # batch numbers name requests; none was made
    return result
