"""The operations of ``df.cio`` on a Spark DataFrame, sent by the executors.

Install with ``pip install "pandas-cio[spark]"`` (pyspark >= 3.5, pyarrow)::

    import pandas_cio.spark as cio_spark

    statuses = cio_spark.identify(people, user_id="id", keys=["country"])
    statuses.write.mode("overwrite").saveAsTable("cio_identify_status")

How it works
------------
Built on ``mapInPandas``: each task turns its partition into pandas frames
(Arrow batches) and runs the ordinary pipeline of :mod:`pandas_cio.pipeline.send`
over them, with the same operation names and arguments as the accessor. It
yields one status row per input row: the row's key columns (the columns its
roles name, such as ``user_id``, plus any ``keys=[...]``) and the result
columns ``status, error, message_id, batch, http_status, attempts``.
``batch`` numbers the requests of one task.

The returned frame is lazy, like every Spark transformation: rows are sent
when an action runs it, and every action runs it again. Write it once
(``.write...saveAsTable`` or ``.parquet``) and read the table for counts; a
re-run only re-sends the same messageIds, which the service deduplicates, but
it spends the rate budget twice.

Arguments are checked on the driver before any task starts: unknown columns,
missing roles and key columns named like a result column raise there. A
string for a role that takes constants (``event="Signed Up"``) is decided
once, on the driver, to be a column or a constant. Spark ``timestamp``
columns reach pandas as exact instants (UTC), whatever the session time
zone; ``timestamp_ntz`` columns are read as UTC, as naive times are in pandas.

The rate limit is global
------------------------
The service allows 3,000 requests per 3 seconds for the whole workspace, but
each task has its own client. The budget is therefore shared out: each task
gets ``rate // max_concurrent_tasks`` requests per window, where
``max_concurrent_tasks`` defaults to the smaller of the frame's number of
partitions and ``spark.sparkContext.defaultParallelism`` (the cores Spark
runs tasks on). Each task's share is also paced in bursts of a few dozen
requests, and a task waits one burst interval before its first request, so a
task that starts the moment another ends on the same core cannot double that
core's share within a window (see :func:`share_rate`). A 200-partition job on
16 cores thus sends at most 3,000 requests per 3 s, not 200 times that.

Set ``max_concurrent_tasks`` yourself when Spark may run more tasks at once
than ``defaultParallelism`` says: on an autoscaling cluster use the most cores
it may grow to, and when other jobs send to the same workspace lower the
client's ``rate_limit`` to your part of it. Speculative execution
(``spark.speculation``) runs extra copies of slow tasks; leave it off for sends.

Credentials
-----------
A :class:`~pandas_cio.Client` is never pickled. The driver resolves the key
(from ``client=``, or ``CIO_API_KEY`` when no client is given) and ships it
in a broadcast variable holding an :class:`~pandas_cio.delivery.auth.ApiKey`, whose
repr hides it; the other settings travel as a :class:`ClientSettings`, which
holds no key. The key is therefore in no query plan, no pickled task, no log
line and no repr. (Spark writes broadcast blocks to its local directories;
set ``spark.io.encryption.enabled`` where those disks are shared.)

On Databricks, read the key from a secret scope on the driver and pass it in::

    client = pandas_cio.Client(dbutils.secrets.get(scope="cio", key="api_key"))
    statuses = cio_spark.track(events, user_id="user_id", event="event", client=client)

Spark Connect sessions (Databricks serverless, shared access mode) have no
broadcast variables, and the library will not put the key in the plan
instead, so they are refused with a clear error; use a classic (dedicated
access mode or jobs) cluster.

Retries and ordering
--------------------
When a task fails, Spark runs it again, and the retry re-sends the partition.
messageIds are deterministic (a hash of operation and content), so the
retry's calls carry the same ids and the service keeps one copy of each. The
service does not promise to apply calls in the order they were sent, and
tasks run in no set order: give calls a ``timestamp=`` when their order
matters, rather than relying on partition order.

Each task's client is built from the driver client's
:class:`~pandas_cio.delivery.settings.ClientSettings`, so every option
(``ca_bundle=``, ``proxies=``, ``strict=``, ``attempt_timeout=``, the circuit
breaker) holds on the executors too. When a task's send stops early with a
partial result (the breaker gave up on a service that looked down), the task
writes that result and marks its remaining rows ``failed`` with the same
reason, unsent; a refused key still fails the job.

Structured Streaming
--------------------
:func:`foreach_batch` makes a ``foreachBatch`` function in one line::

    send = cio_spark.foreach_batch("track", user_id="user_id", event="event",
                                   results_path="/mnt/cio/track_status")
    events_stream.writeStream.foreachBatch(send).option(
        "checkpointLocation", "/mnt/cio/track_checkpoint").start()

It sends each micro-batch and overwrites ``results_path/batch_id=N`` with its
statuses, so a micro-batch Spark replays after a failure is re-sent with the
same messageIds and its statuses are replaced, not doubled. For a Delta
status table, write your own function around :func:`send` with the Delta
writer's ``txnAppId``/``txnVersion`` options, which make the append idempotent.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("pandas_cio.spark needs pyspark: pip install 'pandas-cio[spark]'") from None

from collections.abc import Callable, Sequence
from typing import Any

from pyspark.sql import DataFrame

from ..catalogue.operation import Operation
from ..catalogue.operations import OPERATIONS, get_operation
from ..delivery.client import Client
from ..errors import UnknownArgumentError
from ..pipeline import DEFAULT_CHUNK_ROWS
from ..prepare.plan import Missing
from ..suggest import unknown_keywords_message
from ._job import Job, Shipment, plan_send
from ._settings import ClientSettings, TaskRate, share_rate
from ._stream import BatchSender
from ._task import RESULT_COLUMNS

__all__ = [
    "RESULT_COLUMNS",
    "BatchSender",
    "ClientSettings",
    "TaskRate",
    "foreach_batch",
    "identify",
    "send",
    "share_rate",
    "track",
]


# The keywords of send() and foreach_batch() that are not the operation's.
_SEND_KEYWORDS = (
    "keys",
    "client",
    "max_concurrent_tasks",
    "dry_run",
    "missing",
    "chunk_rows",
    "journeys",
)
_BATCH_KEYWORDS = (*_SEND_KEYWORDS, "results_path", "results_format")


def _check_keywords(where: str, op: Operation, args: dict[str, Any], own: Sequence[str]) -> None:
    """Refuse keywords the operation does not take, naming the function as it was called.

    Checked here, on the driver, so that the error names the Spark function
    and suggests the closest keywords before any job is planned.
    """
    valid = [role.arg for role in op.roles]
    if op.payload_arg:
        valid.append(op.payload_arg)
    unknown = [name for name in args if name not in valid]
    if unknown:
        raise UnknownArgumentError(unknown_keywords_message(where, unknown, [*valid, *own]))


def _split_payload(op: Operation, args: dict[str, Any]) -> Any:
    """Take the payload argument (``traits=``, ``properties=``) out of ``args``."""
    return args.pop(op.payload_arg, None) if op.payload_arg else None


# The keywords a Job takes as they are; client and dry_run become its shipment.
_JOB_OPTIONS = tuple(k for k in _SEND_KEYWORDS if k not in ("client", "dry_run"))


def _job(where: str, allowed: Sequence[str], given: dict[str, Any]) -> Job:
    """Check a public function's arguments (its ``locals()``) and make the send's :class:`Job`."""
    op = get_operation(given["operation"])
    args = dict(given["args"])
    _check_keywords(where, op, args, allowed)
    payload = _split_payload(op, args)
    shipment = None if given["dry_run"] else Shipment.from_client(given["client"])
    return Job(op.name, args, payload, shipment, **{name: given[name] for name in _JOB_OPTIONS})


def send(
    sdf: DataFrame,
    operation: str,
    /,
    *,
    keys: Sequence[str] = (),
    client: Client | None = None,
    max_concurrent_tasks: int | None = None,
    dry_run: bool = False,
    missing: Missing = "omit",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    journeys: bool = True,
    **args: Any,
) -> DataFrame:
    """Send every row of a Spark DataFrame as one call of ``operation``, from the executors.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        The input.
    operation : str
        A name from :data:`pandas_cio.catalogue.operations.OPERATIONS` (``"identify"``,
        ``"track"``, ``"devices.register"``...).
    keys : sequence of str
        Columns to copy into the status rows besides those the roles name.
    client : Client, optional
        Whose settings and key to use (its connections stay on the driver);
        when None, one is made from ``CIO_API_KEY`` / ``CIO_REGION``.
    max_concurrent_tasks : int, optional
        Tasks that may send at once, which share the client's rate limit;
        default the smaller of the number of partitions and the default
        parallelism.
    dry_run : bool
        Validate, encode and batch on the executors; send nothing, need no key.
    missing : {"omit", "null"}
        Leave missing values out of calls, or send them as null.
    chunk_rows : int
        Rows encoded per slice in each task.
    journeys : bool
        Check what Customer.io Journeys needs, as the accessor does (default
        True); False for workspaces that send to other destinations only.
    **args
        The operation's arguments, as for the accessor: roles (``user_id="id"``,
        ``event="Signed Up"``...) and the payload (``traits=[...]``).

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy: one status row per input row, key columns then
        :data:`RESULT_COLUMNS`. Rows are sent when an action runs it.

    Examples
    --------
    >>> statuses = send(people, "identify", user_id="id", keys=["email"])  # doctest: +SKIP
    >>> statuses.write.mode("overwrite").parquet("cio_status/")  # doctest: +SKIP
    """
    job = _job(f"pandas_cio.spark.send(sdf, {operation!r})", _SEND_KEYWORDS, locals())
    planned = plan_send(sdf, job)
    return planned.statuses


def foreach_batch(
    operation: str,
    /,
    *,
    results_path: str,
    results_format: str = "parquet",
    keys: Sequence[str] = (),
    client: Client | None = None,
    max_concurrent_tasks: int | None = None,
    dry_run: bool = False,
    missing: Missing = "omit",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    journeys: bool = True,
    **args: Any,
) -> BatchSender:
    """Return a ``writeStream.foreachBatch`` function that sends each micro-batch.

    Parameters
    ----------
    operation : str
        The operation's name.
    results_path : str
        Directory of the status rows: micro-batch ``N`` overwrites
        ``results_path/batch_id=N`` (replays replace, never double).
    results_format : str
        Spark file format of the status rows.
    keys, client, max_concurrent_tasks, dry_run, missing, chunk_rows, journeys, **args
        As for :func:`send`. The key is read once, now, on the driver.

    Returns
    -------
    BatchSender
        Call it as ``sender(batch_df, batch_id)``.

    Examples
    --------
    >>> send_events = foreach_batch(  # doctest: +SKIP
    ...     "track", user_id="user_id", event="event", results_path="/tmp/cio_status")
    >>> stream.writeStream.foreachBatch(send_events).start()  # doctest: +SKIP
    """
    job = _job(f"pandas_cio.spark.foreach_batch({operation!r})", _BATCH_KEYWORDS, locals())
    return BatchSender(job, results_path=results_path, results_format=results_format)


def _docstring(op: Operation) -> str:
    roles = "\n".join(
        f"{role.arg} : {'column or constant' if role.constant else 'column'}"
        f"{', required' if role.required else ', optional'}"
        for role in op.roles
    )
    payload = (
        f"\n{op.payload_arg} : list of columns or {{column: key}} mapping, optional\n"
        "    Default: every column no other argument uses."
        if op.payload_arg
        else ""
    )
    return (
        f"{op.summary or op.name}\n\nSpark version of the ``{op.name}`` operation: "
        f"``send(sdf, {op.name!r}, **args)``.\n\nParameters\n----------\n"
        f"sdf : pyspark.sql.DataFrame\n{roles}{payload}\n**options\n    See :func:`send`.\n"
    )


def _operation_function(name: str) -> Callable[..., DataFrame]:
    """Make ``pandas_cio.spark.<name>`` from the operations table."""
    op = get_operation(name)

    def operation(sdf: DataFrame, /, **args: Any) -> DataFrame:
        # Checked here too, so that the error names the function that was called.
        own = {key: value for key, value in args.items() if key not in _SEND_KEYWORDS}
        _check_keywords(f"pandas_cio.spark.{name}()", op, own, _SEND_KEYWORDS)
        return send(sdf, name, **args)

    operation.__name__ = operation.__qualname__ = name.rsplit(".", 1)[-1]
    operation.__doc__ = _docstring(op)
    return operation


class _Group:
    """``pandas_cio.spark.devices``: the operations whose names start with ``devices.``."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Callable[..., DataFrame]:
        full = f"{self._prefix}.{name}"
        if full not in OPERATIONS:
            raise AttributeError(f"no Spark operation {full!r}")
        return _operation_function(full)

    def __dir__(self) -> list[str]:
        start = self._prefix + "."
        return sorted(n.removeprefix(start) for n in OPERATIONS if n.startswith(start))


# The two operations of the examples are module attributes for
# discoverability; every other one comes from the table through __getattr__.
identify = _operation_function("identify")
track = _operation_function("track")


def __getattr__(name: str) -> Any:
    """Every other operation of the table: ``pandas_cio.spark.page``, ``.devices.register``..."""
    if name in OPERATIONS and name.isidentifier():
        return _operation_function(name)
    if any(op.startswith(name + ".") for op in OPERATIONS):
        return _Group(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    generated = {n.split(".", 1)[0] for n in OPERATIONS if n.split(".", 1)[0].isidentifier()}
    return sorted(set(__all__) | generated)
