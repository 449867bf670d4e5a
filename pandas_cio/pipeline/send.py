"""Run one operation over a frame: the one entry of the pipeline.

:func:`run` checks the options, opens the ledger's view of the send, runs the
stages (:mod:`.stages`: plan, validate, encode, batch, send) and adds the send
to the ledger's history. A line-item send (``lines=``, see :mod:`.grouping`)
goes through the same stages, its lines folded into one row per order first
(:mod:`.lines`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..catalogue.operation import Operation
from ..catalogue.operations import get_operation
from ..delivery.client import Client
from ..delivery.splitting import DEFAULT_MAX_SPLIT_REQUESTS
from ..errors import LedgerError, SendError
from ..ledger import LedgerArg, LedgerRun, open_run
from ..ledger.history import fingerprint, record_run, run_record
from ..ledger.mirror import DEFAULT_MAX_DELETES, mirror_for
from ..outcome.columns import STATUS
from ..outcome.gates import Gates, Limit
from ..prepare.plan import Missing, PayloadSpec
from ..prepare.stamping import resolve as resolve_timestamp
from .lines import LineItems, group_lines
from .options import DEFAULT_CHUNK_ROWS, Errors, SendOptions, Settings
from .stages import Stages

__all__ = ["DEFAULT_CHUNK_ROWS", "SendOptions", "run"]

logger = logging.getLogger("pandas_cio")


def run(
    frame: pd.DataFrame,
    operation: str,
    args: Mapping[str, Any],
    payload: PayloadSpec = None,
    *,
    client: Client | None = None,
    dry_run: bool = False,
    errors: Errors = "mark",
    missing: Missing = "omit",
    progress: bool | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ledger: LedgerArg | None = None,
    full_refresh: bool = False,
    max_split_requests: int = DEFAULT_MAX_SPLIT_REQUESTS,
    journeys: bool = True,
    mirror: str | None = None,
    mirror_max_deletes: Limit | None = DEFAULT_MAX_DELETES,
    max_invalid: Limit | None = None,
    max_too_large: Limit | None = None,
    lines: LineItems | None = None,
) -> pd.DataFrame:
    """Send every row of ``frame`` as one call of ``operation``; return the result frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input.
    operation : str
        A name from :data:`pandas_cio.catalogue.operations.OPERATIONS`.
    args : Mapping[str, Any]
        The operation's role arguments.
    payload : list, mapping or None
        Payload columns; None for every column no role uses.
    client : Client, optional
        Where to send; made from the environment (and closed) when None.
        Not needed for a dry run.
    dry_run : bool
        Validate, encode and batch, but send nothing. With a ledger, the
        result's ``attrs["cio"]["plan"]`` (and the report's first lines) say
        what the send would do (see :mod:`pandas_cio.ledger.history`).
    errors : {"mark", "raise"}
        What invalid rows do: get status ``invalid``, or raise
        :class:`~pandas_cio.errors.SchemaError` before anything is sent.
    missing : {"omit", "null"}
        Whether missing payload values are left out or sent as null.
    progress : bool, optional
        Show a progress bar (None: only for large sends someone watches).
    chunk_rows : int
        Rows encoded per slice.
    ledger : str, os.PathLike or Ledger, optional
        Skip rows the ledger records as delivered (status ``unchanged``) and
        record each confirmed batch (see :mod:`pandas_cio.ledger.store`). A path
        opens a :class:`~pandas_cio.ledger.store.SqliteLedger` for this send. Every
        send that is not a dry run adds a row to the ledger's history
        (``ledger.runs()``).
    full_refresh : bool
        Send every row whatever the ledger says, and record them.
    max_split_requests : int
        The most extra requests this send makes to isolate calls the service
        refuses in a batch it answers 400 (see :mod:`pandas_cio.delivery.splitting`);
        0 fails a refused batch's rows without splitting it.
    journeys : bool
        Apply the checks only Customer.io Journeys needs (see
        :func:`~pandas_cio.prepare.plan.make_plan`); False for workspaces that send
        to other destinations only.
    mirror : str, optional
        With a ledger, delete in Customer.io what the ledger holds and the
        frame lacks (see :mod:`pandas_cio.ledger.mirror`): ``"delete"`` or
        ``"suppress"`` for identify, ``"delete"`` for objects.upsert and
        devices.register, ``"unrelate"`` for objects.relate. The result
        then has the columns ``action`` and ``key``, and one row per
        deletion after the input's rows.
    mirror_max_deletes : int, float or None
        The most keys a mirror send may delete: a count, a fraction of the
        keys the ledger holds (default 0.25, never fewer than 10), or None.
    max_invalid, max_too_large : int, float or None
        Quality gates (see :mod:`pandas_cio.outcome.gates`): stop before any request
        when more rows than this count (int) or fraction (float) of the
        frame are ``invalid`` / ``too_large``.
    lines : LineItems, optional
        Send one call per order of line items (see :mod:`.lines`); the result
        still has one row per line, and the gates count lines.

    Returns
    -------
    pandas.DataFrame
        One row per input row with the input's index (with ``mirror=``, one
        more row per deletion after them).

    Raises
    ------
    AuthenticationError
        The service refused the key.
    InterruptedSendError
        Ctrl-C during the send.
    TerminatedSendError
        SIGTERM during the send (in the main thread, with the default handler).
    LedgerSendError
        The ledger failed during the send.
    ServiceUnavailableError
        The client's circuit breaker found the service down.
    QualityGateError
        A quality gate failed; nothing was sent.
    MirrorGuardError
        A mirror send would delete too much; nothing was sent.

    Each is a :class:`~pandas_cio.errors.SendError` whose ``.result`` holds
    every row's status as far as the send got (for the last two, the
    dry-run result).
    """
    settings = Settings(
        client=client,
        dry_run=dry_run,
        errors=errors,
        missing=missing,
        progress=progress,
        chunk_rows=chunk_rows,
        max_split_requests=max_split_requests,
        journeys=journeys,
    )
    op = get_operation(operation)
    started = dt.datetime.now(dt.UTC)
    grouped = None if lines is None else group_lines(frame, op, payload, lines)
    rows, payload = (frame, payload) if grouped is None else (grouped.orders, grouped.payload)
    mirrored = mirror_for(op, mirror, ledger, mirror_max_deletes)
    gates = Gates.of(max_invalid, max_too_large)
    # Events without timestamp= are stamped with this instant (pandas_cio.prepare.stamping).
    stamp = resolve_timestamp(op, rows, args, started=started, ledger=ledger is not None)
    sync = open_run(ledger, op, full_refresh=full_refresh, track_keys=mirrored is not None)
    send = Stages(rows, op, stamp, sync, mirrored, gates, settings, grouped=grouped, rerun=run)
    try:
        result = send.run(payload)
    except SendError as exc:
        if sync is not None and not dry_run:
            _remember(sync, op, exc.result, started, type(exc).__name__, frame)
        raise
    else:
        if sync is not None and not dry_run:
            _remember(sync, op, result, started, "completed", frame)
    finally:
        if sync is not None:
            sync.close()
    counts = result[STATUS].value_counts()
    logger.info("cio.%s: %s", op.name, ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return result


def _remember(
    sync: LedgerRun,
    op: Operation,
    result: pd.DataFrame,
    started: dt.datetime,
    outcome: str,
    frame: pd.DataFrame,
) -> None:
    """Add the send to the ledger's history; a failure is logged (pandas_cio.ledger.history)."""
    try:
        store = sync.store
    except LedgerError as exc:
        logger.warning("%s; this send is missing from the ledger's history", exc)
        return
    record = run_record(
        result,
        operation=op.name,
        started=started,
        ended=dt.datetime.now(dt.UTC),
        outcome=outcome,
        frame_print=fingerprint(frame),
    )
    record_run(store, op.name, record)
