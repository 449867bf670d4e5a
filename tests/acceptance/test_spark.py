"""pandas_cio.spark on a local Spark (local[2]) against the fake service on 127.0.0.1.

The executors are Python workers started by the JVM on this machine, so they
reach the fake, which runs in the test process, over loopback. Every test here
needs pyspark and Java and is skipped cleanly without them.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import select
import shutil
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed")

from loopback import loopback_certificate
from pyspark import cloudpickle
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

import pandas_cio
import pandas_cio.spark as cio_spark
from pandas_cio.catalogue.operation import Operation
from pandas_cio.catalogue.operations import OPERATIONS
from pandas_cio.delivery.transport import RateLimit
from pandas_cio.errors import ColumnError
from pandas_cio.pipeline.send import run
from pandas_cio.spark._job import Job, Shipment, plan_send
from pandas_cio.testing import FakeCio

pytestmark = [
    pytest.mark.spark,
    # Every test needs the Spark session (a JVM, 5 s to start); three take 3 to 15 s.
    pytest.mark.slow,
    # pyspark 4 warns on import that it does not fully support pandas 3 yet.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    # pyspark's own pandas conversions still pass copy=, which pandas 3 deprecates.
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

SECRET = "sk-spark-test-6d1f0c93b2"
# A global rate low enough that the 50,000-row send must wait on it several times.
LOW_RATE = (120, 1.0)


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").exists():
        return True
    return shutil.which("java") is not None


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local[2] session for the whole run (starting a JVM costs seconds)."""
    if not _java_available():
        pytest.skip("Java is not installed; Spark tests need it")
    previous = os.environ.get("PYSPARK_PYTHON")
    # Python workers must run this interpreter, the one with pandas_cio installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pandas_cio-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def people(spark: SparkSession, rows: int, partitions: int) -> DataFrame:
    """People with a user id on every row but each thousandth (those are invalid)."""
    row = sf.col("id")
    return spark.range(rows, numPartitions=partitions).select(
        sf.when(row % 1000 == 999, sf.lit(None))
        .otherwise(sf.format_string("user-%d", row))
        .alias("uid"),
        row.alias("row"),
        (row % 50).alias("seats"),
        sf.when(row % 3 == 0, "pro").otherwise("free").alias("plan"),
    )


def test_fifty_thousand_rows_in_eight_partitions_are_delivered_once_per_row(
    spark: SparkSession, cio_fake: FakeCio, tmp_path: Path
) -> None:
    """Every valid row arrives once, every row gets a status, the global rate holds."""
    sdf = people(spark, 50_000, 8)
    assert sdf.rdd.getNumPartitions() == 8
    with pandas_cio.Client(
        cio_fake.api_key, base_url=cio_fake.url, rate_limit=LOW_RATE, max_batch_bytes=25_000
    ) as client:
        statuses = cio_spark.identify(sdf, user_id="uid", keys=["row"], client=client)
        statuses.write.parquet(str(tmp_path / "statuses"))  # the one action: one send
    result = pd.read_parquet(tmp_path / "statuses")

    assert list(result.columns) == ["uid", "row", *cio_spark.RESULT_COLUMNS]
    assert len(result) == 50_000 and result["row"].nunique() == 50_000
    invalid = result[result["status"] == "invalid"]
    assert sorted(invalid["row"]) == list(range(999, 50_000, 1000))
    assert invalid["error"].str.contains("uid").all()
    sent = result[result["status"] == "sent"]
    assert len(sent) == 50_000 - 50
    received = cio_fake.message_ids
    assert len(set(received)) == len(sent) == len(received)
    assert set(received) == set(sent["message_id"])
    # The limit was reached (more requests than one window allows) and never exceeded.
    assert len(cio_fake.requests) > LOW_RATE[0]
    assert cio_fake.max_requests_in_window(LOW_RATE[1]) <= LOW_RATE[0]


def test_spark_sends_the_calls_pandas_sends(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run on Spark gives every row the status and messageId the accessor gives it."""
    monkeypatch.delenv("CIO_API_KEY", raising=False)  # a dry run needs no key
    frame = pd.DataFrame(
        {
            "uid": [f"u{i}" if i % 17 else None for i in range(300)],
            "price": [i / 4 if i % 5 else None for i in range(300)],
            "qty": range(300),
            "gift": [i % 2 == 0 for i in range(300)],
            "at": pd.date_range("2024-03-30 22:00", periods=300, freq="37min", tz="UTC"),
        }
    )
    sdf = spark.createDataFrame(frame)
    assert sdf.rdd.getNumPartitions() > 1
    on_spark = cio_spark.track(
        sdf, user_id="uid", event="Item Bought", timestamp="at", keys=["qty"], dry_run=True
    ).toPandas()
    on_pandas = frame.cio.track(user_id="uid", event="Item Bought", timestamp="at", dry_run=True)

    merged = on_spark.merge(
        frame.assign(status=on_pandas["status"].astype(str), message_id=on_pandas["message_id"]),
        on="qty",
        suffixes=("_spark", "_pandas"),
    )
    assert len(merged) == 300
    assert (merged["status_spark"] == merged["status_pandas"]).all()
    assert set(merged["status_spark"]) == {"dry_run", "invalid"}
    done = merged[merged["status_spark"] == "dry_run"]
    assert (done["message_id_spark"] == done["message_id_pandas"]).all()


def test_timestamps_are_exact_in_any_session_time_zone(
    spark: SparkSession, cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A timestamp in the hour New York repeats is sent as its own UTC instant."""
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        sdf = spark.sql(
            "SELECT 'u1' AS uid, TIMESTAMP'2024-11-03 05:30:00Z' AS at, "
            "TIMESTAMP_NTZ'2024-01-01 10:00:00' AS local_at"
        )
        statuses = cio_spark.track(
            sdf, user_id="uid", event="Seen", timestamp="at", client=cio_client
        )
        (row,) = statuses.select("status", sf.unix_micros("at").alias("micros")).collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    (call,) = cio_fake.calls
    assert row["status"] == "sent"
    assert row["micros"] == pd.Timestamp("2024-11-03T05:30:00Z").value // 1000
    assert call["timestamp"] == "2024-11-03T05:30:00.000Z"
    assert call["properties"] == {"local_at": "2024-01-01T10:00:00.000Z"}


def test_the_key_stays_out_of_plans_tasks_and_reprs(spark: SparkSession) -> None:
    """The key reaches executors only through the broadcast, never the plan or a pickled task."""
    secrets = [SECRET.encode(), base64.b64encode(f"{SECRET}:".encode())]
    with FakeCio(api_key=SECRET) as fake, pandas_cio.Client(SECRET, base_url=fake.url) as client:
        shipment = Shipment.from_client(client)
        planned = plan_send(
            people(spark, 200, 2),
            Job(
                "identify",
                {"user_id": "uid"},
                None,
                shipment,
                max_concurrent_tasks=None,
                chunk_rows=1000,
            ),
        )
        plans = planned.statuses._jdf.queryExecution().toString()
        task = cloudpickle.dumps(planned.sender)
        shown = [repr(shipment), repr(planned.sender), repr(client), plans]
        for secret in secrets:
            assert secret not in task
            assert not any(secret.decode() in text for text in shown)
        assert planned.key is not None and planned.key.value.reveal() == SECRET
        statuses = planned.statuses.groupBy("status").count().collect()
        assert {r["status"]: r["count"] for r in statuses} == {"sent": 200}
        assert len(set(fake.message_ids)) == 200


def test_a_refused_key_fails_the_job_with_a_clear_error(
    spark: SparkSession, cio_fake: FakeCio
) -> None:
    """A key the service refuses stops the job with the library's message, not the key."""
    wrong = "wrong-key-7f3a9c51"
    with pandas_cio.Client(wrong, base_url=cio_fake.url) as client:
        statuses = cio_spark.identify(people(spark, 100, 1), user_id="uid", client=client)
        with pytest.raises(Exception, match="refused the API key") as failure:
            statuses.collect()
    assert wrong not in str(failure.value)
    assert cio_fake.message_ids == []


def test_arguments_are_checked_on_the_driver(spark: SparkSession) -> None:
    """Bad arguments raise before any task starts, naming the column."""
    sdf = people(spark, 10, 1).withColumn("status", sf.lit("x"))
    with pytest.raises(ColumnError, match="did you mean 'uid'"):
        cio_spark.identify(sdf, user_id="uidd", dry_run=True)
    with pytest.raises(ColumnError, match="clash"):
        cio_spark.identify(sdf, user_id="uid", keys=["status"], dry_run=True)
    with pytest.raises(ColumnError, match="list of column names"):
        cio_spark.identify(sdf, user_id="uid", keys="row", dry_run=True)
    with pytest.raises(TypeError, match=r"spark\.identify\(\) got an unexpected keyword .*.event."):
        cio_spark.identify(sdf, user_id="uid", event="x", dry_run=True)
    with pytest.raises(KeyError, match="unknown operation"):
        cio_spark.send(sdf, "no.such.operation", dry_run=True)
    with pytest.raises(TypeError, match=r"pyspark\.sql\.DataFrame"):
        cio_spark.identify(sdf.toPandas(), user_id="uid", dry_run=True)


def test_the_journeys_checks_can_be_turned_off_on_spark(spark: SparkSession) -> None:
    """journeys=False reaches the driver's plan and the tasks, as for the accessor."""
    sdf = spark.createDataFrame(
        pd.DataFrame({"uid": ["u1", "u2"], "title": ["Pricing", "Docs"]})
    ).coalesce(1)
    with pytest.raises(ColumnError, match="needs url="):
        cio_spark.page(sdf, user_id="uid", name="title", dry_run=True)
    statuses = cio_spark.page(sdf, user_id="uid", name="title", dry_run=True, journeys=False)
    assert statuses.toPandas()["status"].tolist() == ["dry_run", "dry_run"]
    # In a task, a row Journeys would drop is invalid only while the checks are on.
    long_event = spark.createDataFrame(pd.DataFrame({"uid": ["u1"], "ev": ["e" * 101]}))
    on = cio_spark.track(long_event, user_id="uid", event="ev", dry_run=True)
    off = cio_spark.track(long_event, user_id="uid", event="ev", dry_run=True, journeys=False)
    assert on.toPandas()["status"].tolist() == ["invalid"]
    assert off.toPandas()["status"].tolist() == ["dry_run"]


def test_the_rate_is_shared_by_the_tasks_that_run_at_once(spark: SparkSession) -> None:
    """Each task gets rate // min(partitions, parallelism), or // max_concurrent_tasks."""
    rate = RateLimit(3000, 3.0)
    with pandas_cio.Client(SECRET, base_url="http://127.0.0.1:9/v1", rate_limit=rate) as c:
        shipment = Shipment.from_client(c)

    def task_limit(partitions: int, tasks: int | None) -> RateLimit:
        planned = plan_send(
            people(spark, 100, partitions),
            Job(
                "identify",
                {"user_id": "uid"},
                None,
                shipment,
                max_concurrent_tasks=tasks,
                chunk_rows=1000,
            ),
        )
        assert planned.sender.settings is not None
        return planned.sender.settings.rate_limit

    parallelism = spark.sparkContext.defaultParallelism
    assert task_limit(8, None) == cio_spark.share_rate(rate, min(8, parallelism)).limit
    assert task_limit(1, None) == cio_spark.share_rate(rate, 1).limit
    assert task_limit(8, 200) == cio_spark.share_rate(rate, 200).limit


def _minimal_args(op: Operation) -> dict[str, Any]:
    """Arguments for the roles an operation needs, each naming a column of ``EVERY_ROLE``."""
    args: dict[str, Any] = {}
    if op.identity in ("user", "user_or_anonymous"):
        args["user_id"] = "uid"
    elif op.identity == "anonymous":
        args["anonymous_id"] = "uid"
    if any(role.arg == "timestamp" for role in op.roles):
        # One time on both sides: events without one are stamped by each send.
        args["timestamp"] = "at"
    for role in op.roles:
        if role.required and role.arg not in args:
            if role.kind == "enum":
                args[role.arg] = pandas_cio.lit(role.choices[0])
            elif role.kind in ("object", "json"):
                args[role.arg] = pandas_cio.lit({"k": "v"})
            else:
                args[role.arg] = {"integer": "number", "timestamp": "at"}.get(role.kind, "text")
    return args


EVERY_ROLE = pd.DataFrame(
    {
        "uid": ["u1", "u2", "u3"],
        "text": "some text",
        "number": [7, 8, 9],
        "at": pd.Timestamp("2024-05-01T10:00:00Z"),
        # page() needs a url (Journeys names page views by it); a column called url is read.
        "url": "https://example.com/pricing",
    }
)


def _spark_function(name: str) -> Any:
    """``pandas_cio.spark.<name>`` for names that read as attributes, else None."""
    if name.isidentifier():
        return getattr(cio_spark, name)
    group, _, leaf = name.partition(".")
    if group.isidentifier() and leaf.isidentifier():
        return getattr(getattr(cio_spark, group), leaf)
    return None


def _send_named(name: str, sdf: DataFrame, **args: Any) -> DataFrame:
    return cio_spark.send(sdf, name, **args)


def test_every_operation_of_the_table_runs_on_spark_as_on_pandas(spark: SparkSession) -> None:
    """Each operation, through its generated function, gives on Spark what pandas gives."""
    sdf = spark.createDataFrame(EVERY_ROLE).coalesce(1)
    frames, expected, shapes = [], [], set()
    for name, op in sorted(OPERATIONS.items()):
        args = _minimal_args(op)
        function = _spark_function(name)
        if function is not None:
            assert f"``{name}``" in function.__doc__
        else:  # names such as "semantic:Order Completed" are reached through send()
            function = functools.partial(_send_named, name)
        try:
            on_pandas = run(EVERY_ROLE, name, args, None, dry_run=True)
        except ColumnError:
            # Arguments pandas refuses (a required property without a column) are
            # refused on the driver as well, before any Spark task starts.
            with pytest.raises(ColumnError):
                cio_spark.send(sdf, name, dry_run=True, **args)
            continue
        statuses = function(sdf, dry_run=True, keys=["uid"], **args)
        assert statuses.columns[-len(cio_spark.RESULT_COLUMNS) :] == list(cio_spark.RESULT_COLUMNS)
        # Every operation is planned; one of each call type and naming style also
        # runs, which keeps the job small (a Spark task per operation is slow).
        shape = (op.call_type, name.isidentifier(), "." in name)
        if shape in shapes:
            continue
        shapes.add(shape)
        expected.append(on_pandas.assign(operation=name, uid=EVERY_ROLE["uid"]))
        frames.append(
            statuses.select(sf.lit(name).alias("operation"), "uid", "status", "message_id")
        )
    union = functools.reduce(DataFrame.unionByName, frames)
    on_spark = union.toPandas().sort_values(["operation", "uid"], ignore_index=True)
    on_pandas = pd.concat(expected).sort_values(["operation", "uid"], ignore_index=True)
    assert set(on_spark["operation"]) >= {"identify", "page", "alias"}
    assert on_spark["operation"].nunique() == len(shapes) >= 6
    assert on_spark["status"].tolist() == on_pandas["status"].astype(str).tolist()
    assert on_spark["message_id"].tolist() == on_pandas["message_id"].tolist()
    # The minimal arguments are valid for every operation they can be made for.
    assert set(on_spark["status"]) == {"dry_run"}


def test_a_file_stream_is_sent_once_per_row_even_when_replayed(
    spark: SparkSession, cio_fake: FakeCio, cio_client: pandas_cio.Client, tmp_path: Path
) -> None:
    """foreach_batch sends each micro-batch; a replay re-sends the same ids, no extra statuses."""
    source = tmp_path / "events"
    source.mkdir()
    for part in range(3):
        pd.DataFrame(
            {
                "uid": [f"u{part}-{i}" for i in range(40)],
                "sku": "A-1",
                "n": range(40),
                "at": pd.Timestamp("2026-01-01T00:00:00Z"),
            }
        ).to_parquet(source / f"part-{part}.parquet")
    results = tmp_path / "statuses"
    send = cio_spark.foreach_batch(
        "track",
        user_id="uid",
        event="Item Viewed",
        # A replayed micro-batch keeps its ids only when its events carry their time.
        timestamp="at",
        results_path=str(results),
        client=cio_client,
    )
    assert cio_fake.api_key not in repr(send)

    def run_stream(checkpoint: str) -> None:
        stream = spark.readStream.schema("uid string, sku string, n long, at timestamp")
        query = (
            stream.option("maxFilesPerTrigger", 1)
            .parquet(str(source))
            .writeStream.foreachBatch(send)
            .trigger(availableNow=True)
            .option("checkpointLocation", str(tmp_path / checkpoint))
            .start()
        )
        assert query.awaitTermination(300), "the stream did not finish in 5 minutes"

    run_stream("checkpoint")
    first = pd.read_parquet(results)
    assert len(first) == 120 and (first["status"] == "sent").all()
    assert sorted(first["batch_id"].astype(int).unique()) == [0, 1, 2]
    assert len(cio_fake.message_ids) == len(set(cio_fake.message_ids)) == 120

    run_stream("fresh-checkpoint")  # Spark replays every micro-batch
    again = pd.read_parquet(results)
    assert len(again) == 120
    assert set(again["message_id"]) == set(first["message_id"])
    assert len(cio_fake.message_ids) == 240 and len(set(cio_fake.message_ids)) == 120


# Network options on the executors


@pytest.fixture
def tls_service(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTPS service on loopback with its own CA: URL, certificate path, paths it served."""
    cert, key = loopback_certificate(tmp_path)
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1", cert, served
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def connect_proxy() -> Iterator[tuple[str, list[str]]]:
    """A CONNECT proxy on loopback that tunnels to loopback; yields its URL and the tunnels."""
    tunnels: list[str] = []

    class Tunnel(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            target = head.split(b" ", 2)[1].decode()
            tunnels.append(target)
            host, port = target.rsplit(":", 1)
            if host != "127.0.0.1":
                return
            with socket.create_connection((host, int(port))) as upstream:
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                sockets = [self.request, upstream]
                while True:
                    readable, _, _ = select.select(sockets, [], [], 5)
                    if not readable:
                        return
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is self.request else self.request).sendall(data)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tunnels
    finally:
        server.shutdown()
        server.server_close()


def test_executors_use_the_clients_ca_bundle_and_proxies(
    spark: SparkSession,
    tls_service: tuple[str, Path, list[str]],
    connect_proxy: tuple[str, list[str]],
) -> None:
    """ca_bundle= and proxies= reach the executors' clients (they were silently dropped)."""
    url, cert, served = tls_service
    proxy, tunnels = connect_proxy
    with pandas_cio.Client(
        SECRET, base_url=url, ca_bundle=str(cert), proxies={"https": proxy}
    ) as client:
        statuses = cio_spark.identify(people(spark, 40, 2), user_id="uid", client=client)
        result = statuses.toPandas()
    # The service is reachable only with that CA (self-signed), through the proxy (recorded).
    assert set(result["status"]) == {"sent"}, result["error"].dropna().unique()
    assert served and all(path == "/v1/batch" for path in served)
    assert tunnels and set(tunnels) == {url.split("//")[1].split("/")[0]}
