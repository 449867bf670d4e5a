"""The driver side: check the arguments, share the rate, ship the key, call ``mapInPandas``.

Everything that can be wrong with a call (an unknown column, a missing role, a
key column named like a result column, no API key) is found here, on the
driver, before a task starts, so that the user sees one clear exception
instead of a Python traceback wrapped in a Java one from every executor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd
from pyspark import Broadcast, SparkContext
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf
from pyspark.sql.types import (
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from ..catalogue.kinds import KINDS
from ..catalogue.operation import Operation
from ..catalogue.operations import get_operation
from ..delivery.auth import ApiKey
from ..delivery.client import Client
from ..errors import ColumnError, ConfigurationError
from ..outcome.columns import ATTEMPTS, BATCH, ERROR, HTTP_STATUS, MESSAGE_ID, STATUS
from ..pipeline import DEFAULT_CHUNK_ROWS
from ..prepare.plan import Missing, PayloadSpec, make_plan
from ..prepare.roles import Col, Lit, resolve_column, resolve_value
from ..prepare.stamping import resolve as resolve_timestamp
from ._settings import ClientSettings, share_rate
from ._task import RESULT_COLUMNS, PartitionSender

__all__ = ["RESULT_FIELDS", "Job", "Planned", "Shipment", "plan_send", "spark_context"]

#: The Spark types of the result columns, after the key columns.
_SPARK_TYPES = {
    STATUS: (StringType(), False),
    ERROR: (StringType(), True),
    MESSAGE_ID: (StringType(), True),
    BATCH: (LongType(), True),
    HTTP_STATUS: (IntegerType(), True),
    ATTEMPTS: (IntegerType(), False),
}
RESULT_FIELDS = tuple(StructField(name, *_SPARK_TYPES[name]) for name in RESULT_COLUMNS)
# Role kinds whose columns are not copied into status rows: nested payloads
# (context, integrations) identify nothing and can be large.
_NOT_KEYS = frozenset(kind for kind, row in KINDS.items() if row.nested)


@dataclasses.dataclass(frozen=True)
class Shipment:
    """What the driver sends to executors for one job: settings and the key.

    The key stays an :class:`~pandas_cio.delivery.auth.ApiKey` on the driver and goes
    into a broadcast variable only when a job is planned; it is never part of
    the settings, the plan or a repr.
    """

    settings: ClientSettings
    key: ApiKey

    @classmethod
    def from_client(cls, client: Client | None) -> Shipment:
        """Take a client's settings and key; with None, use a client made from the environment."""
        if client is not None:
            return cls(ClientSettings.from_client(client), client.api_key)
        with Client() as made:
            return cls(ClientSettings.from_client(made), made.api_key)


class Planned(NamedTuple):
    """A planned send: the lazy status frame, what its tasks run, the key's broadcast."""

    statuses: DataFrame
    sender: PartitionSender
    key: Broadcast[ApiKey] | None


def spark_context(sdf: DataFrame) -> SparkContext:
    """Return the frame's SparkContext, or explain why there is none (Spark Connect)."""
    if not isinstance(sdf, DataFrame):
        raise TypeError(f"expected a pyspark.sql.DataFrame, got {type(sdf).__name__}")
    try:
        return sdf.sparkSession.sparkContext
    except Exception as exc:  # Spark Connect raises its own error type here.
        raise ConfigurationError(
            "pandas_cio.spark needs a classic Spark session with a SparkContext (broadcast "
            "variables carry the API key to executors); Spark Connect sessions, such as "
            "Databricks serverless or shared access mode, are not supported"
        ) from exc


def _quoted(name: str) -> Column:
    # Backticks keep a column named "a.b" from being read as field b of struct a.
    return sf.col("`" + name.replace("`", "``") + "`")


def _resolve_args(op: Operation, empty: pd.DataFrame, args: Mapping[str, Any]) -> dict[str, Any]:
    """Decide, once and on the driver, whether each role names a column or a constant.

    Executors then get explicit :class:`Col`/:class:`Lit` values, so a string
    that is a constant here is a constant there, whatever columns a partition has.
    Events without ``timestamp=`` are stamped here too (pandas_cio.prepare.stamping):
    one stamp for the whole job, so a retried task re-sends the same ids.
    """
    stamp = resolve_timestamp(op, empty, args, started=dt.datetime.now(dt.UTC), ledger=False)
    resolved: dict[str, Any] = {}
    if stamp.constant is not None:
        resolved["timestamp"] = Lit(stamp.constant)
    roles = {role.arg: role for role in op.roles}
    for name, value in stamp.args.items():
        role = roles.get(name)
        if value is None or role is None:
            resolved[name] = value  # make_plan reports unknown arguments
        elif role.constant:
            resolved[name] = resolve_value(empty, name, value)
        else:
            resolved[name] = Col(resolve_column(empty, name, value))
    return {name: value for name, value in resolved.items() if value is not None}


def _key_columns(
    op: Operation, empty: pd.DataFrame, resolved: Mapping[str, Col | Lit], keys: Sequence[str]
) -> tuple[str, ...]:
    chosen: dict[str, None] = {}
    for name, ref in resolved.items():
        if isinstance(ref, Col) and op.role(name).kind not in _NOT_KEYS:
            chosen.setdefault(str(ref.name), None)
    if isinstance(keys, str):
        raise ColumnError("keys= takes a list of column names")
    for key in keys:
        chosen.setdefault(str(resolve_column(empty, "keys", key)), None)
    clash = sorted(set(chosen) & set(RESULT_COLUMNS))
    if clash:
        raise ColumnError(
            f"columns {clash} would clash with the status frame's result columns "
            f"{list(RESULT_COLUMNS)}; rename them before sending"
        )
    return tuple(chosen)


@dataclasses.dataclass(frozen=True)
class Job:
    """One Spark send as the driver resolved it: what to send, and how.

    The public functions (:func:`pandas_cio.spark.send`,
    :func:`~pandas_cio.spark.foreach_batch`) take these as keywords and make
    one; everything after them passes the one value along.

    Parameters
    ----------
    operation : str
        The operation's name.
    args : Mapping[str, Any]
        Role arguments as the caller gave them.
    payload : list, mapping or None
        Payload columns.
    shipment : Shipment or None
        Settings and key; None for a dry run.
    keys : sequence of str
        Extra columns to copy into the status rows (checked by :func:`plan_send`).
    max_concurrent_tasks : int or None
        Tasks that share the rate limit; None: the smaller of the number of
        partitions and the default parallelism.
    missing : {"omit", "null"}
        What missing payload values become.
    chunk_rows : int
        Rows encoded per slice in each task.
    journeys : bool
        Apply the checks Customer.io Journeys needs, on the driver and in the tasks.
    """

    operation: str
    args: Mapping[str, Any]
    payload: PayloadSpec
    shipment: Shipment | None
    keys: Sequence[str] = ()
    max_concurrent_tasks: int | None = None
    missing: Missing = "omit"
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    journeys: bool = True


def plan_send(sdf: DataFrame, job: Job) -> Planned:
    """Build the lazy status frame of one send, and the function its tasks run.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        The input.
    job : Job
        What to send and how.

    Returns
    -------
    Planned
        The lazy status frame, the function its tasks run, and the broadcast
        holding the key (None for a dry run), to destroy once the frame is
        written when the caller knows it is.
    """
    operation, args, payload, shipment = job.operation, job.args, job.payload, job.shipment
    keys, missing, journeys = job.keys, job.missing, job.journeys
    max_concurrent_tasks, chunk_rows = job.max_concurrent_tasks, job.chunk_rows
    sc = spark_context(sdf)
    op = get_operation(operation)
    empty = pd.DataFrame(columns=pd.Index(sdf.columns, dtype=object))
    resolved = _resolve_args(op, empty, args)
    # The job's stamp is a constant timestamp that pipeline.run applies in each
    # task; the driver's plan only needs the columns, and a column-only role
    # refuses a constant.
    columns_only = {
        name: value
        for name, value in resolved.items()
        if not (name == "timestamp" and isinstance(value, Lit))
    }
    plan = make_plan(op, empty, columns_only, payload, missing=missing, journeys=journeys)
    key_columns = _key_columns(op, empty, resolved, keys)

    wanted = set(map(str, plan.columns)) | set(key_columns)
    fields = [f for f in sdf.schema.fields if f.name in wanted]
    # Spark hands timestamps to pandas as naive wall-clock times of the session
    # time zone, which loses the hour repeated when clocks go back; microseconds
    # since the epoch are exact, and the task turns them back into UTC times.
    epoch = tuple(f.name for f in fields if isinstance(f.dataType, TimestampType))
    projected = sdf.select(
        [
            sf.unix_micros(_quoted(f.name)).alias(f.name) if f.name in epoch else _quoted(f.name)
            for f in fields
        ]
    )

    settings = key = None
    start_delay = 0.0
    if shipment is not None:
        tasks = max_concurrent_tasks
        if tasks is None:
            tasks = max(1, min(sdf.rdd.getNumPartitions(), sc.defaultParallelism))
        share = share_rate(shipment.settings.rate_limit, tasks)
        settings = dataclasses.replace(shipment.settings, rate_limit=share.limit)
        start_delay = share.start_delay
        key = sc.broadcast(shipment.key)
    sender = PartitionSender(
        op.name,
        resolved,
        payload,
        key_columns,
        epoch_columns=epoch,
        settings=settings,
        key=key,
        start_delay=start_delay,
        missing=missing,
        chunk_rows=chunk_rows,
        journeys=journeys,
    )
    schema = StructType([sdf.schema[k] for k in key_columns] + list(RESULT_FIELDS))
    return Planned(projected.mapInPandas(sender, schema), sender, key)
