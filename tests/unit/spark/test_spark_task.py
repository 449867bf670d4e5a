"""The Spark integration's pure parts, without a JVM: rate sharing, settings, the partition task."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("pyspark", reason="pyspark is not installed")

import pandas_cio
from pandas_cio.delivery.auth import ApiKey
from pandas_cio.delivery.transport import RateLimit, default_retry, make_limiter
from pandas_cio.errors import ConfigurationError
from pandas_cio.prepare.roles import Col, Lit
from pandas_cio.spark import RESULT_COLUMNS, ClientSettings, TaskRate, share_rate
from pandas_cio.spark._task import PartitionSender
from pandas_cio.testing import FakeCio

SECRET = "spark-task-secret-0123456789"


@dataclass(frozen=True)
class Holder:
    """Stands in for a Spark broadcast variable."""

    value: ApiKey


def _paced_sends(rate: TaskRate, task_lengths: list[int]) -> list[int]:
    """Send times (ms) of tasks run back to back on one core, each as fast as its pacing allows.

    Mirrors the limiter: a request at ``t`` is admitted when fewer than
    ``burst`` requests of the same task have timestamps in ``[t - slice, t]``.
    """
    times: list[int] = []
    now = 0
    for length in task_lengths:
        now += round(rate.start_delay * 1000)
        own: list[int] = []
        for _ in range(length):
            if len(own) >= rate.burst:
                now = max(now, own[-rate.burst] + rate.slice_ms + 1)
            own.append(now)
        times.extend(own)
    return times


def _max_in_window(times: list[int], window_ms: int) -> int:
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


@given(
    requests=st.integers(1, 3000),
    seconds=st.sampled_from([0.5, 1.0, 3.0]),
    margin=st.sampled_from([0.0, 0.1, 0.25]),
    tasks=st.integers(1, 64),
    lengths=st.lists(st.integers(1, 400), min_size=1, max_size=4),
)
def test_back_to_back_tasks_on_one_core_stay_within_the_share(
    requests: int, seconds: float, margin: float, tasks: int, lengths: list[int]
) -> None:
    """Tasks that follow each other on a core never put more than the share in a window."""
    rate = RateLimit(requests, seconds, margin)
    if requests // tasks < 1:
        with pytest.raises(ConfigurationError, match="max_concurrent_tasks"):
            share_rate(rate, tasks)
        return
    paced = share_rate(rate, tasks)
    share = requests // tasks
    times = _paced_sends(paced, lengths)
    # The client-side window includes the margin, the allowance for arrival jitter.
    assert _max_in_window(times, round((seconds + margin) * 1000)) <= share
    assert paced.per_window(seconds + margin) <= share
    assert 1 <= paced.burst <= share


def test_the_default_share_keeps_most_of_the_throughput() -> None:
    """Pacing costs little: eight tasks together get at least 95% of 3,000 per 3.25 s."""
    paced = share_rate(RateLimit(), 8)
    per_second = 8 * paced.burst / (paced.slice_ms / 1000)
    assert per_second >= 0.95 * 3000 / 3.25
    assert per_second <= 3000 / 3.0


def test_the_task_limit_is_what_the_limiter_enforces() -> None:
    """The RateLimit a task's client gets becomes a limiter of burst per slice_ms."""
    paced = share_rate(RateLimit(120, 1.0), 2)
    limiter = make_limiter(paced.limit)
    try:
        (bucket,) = limiter.buckets()
        rates = [(rate.limit, rate.interval) for rate in bucket.rates]
    finally:
        limiter.close()
    assert rates == [(paced.burst, paced.slice_ms)]


def test_max_concurrent_tasks_must_be_positive() -> None:
    """Zero tasks is a configuration error, not a division by zero."""
    with pytest.raises(ConfigurationError, match="at least 1"):
        share_rate(RateLimit(), 0)


def test_settings_carry_everything_but_the_key() -> None:
    """ClientSettings copies a client's settings, pickles, and never holds or shows the key."""
    with pandas_cio.Client(SECRET, base_url="http://127.0.0.1:9/v1", workers=3, gzip=True) as c:
        settings = ClientSettings.from_client(c)
    assert (settings.workers, settings.gzip, settings.base_url) == (3, True, c.base_url)
    data = pickle.dumps(settings)
    assert SECRET.encode() not in data
    assert SECRET not in repr(settings)
    loaded = pickle.loads(data)
    # urllib3's Retry has no equality; compare the policy's fields instead.
    assert replace(loaded, retry=settings.retry) == settings
    assert loaded.retry.status_forcelist == settings.retry.status_forcelist
    assert loaded.retry.total == settings.retry.total
    key = pickle.loads(pickle.dumps(ApiKey(SECRET)))
    assert key.reveal() == SECRET and SECRET not in repr(key)


def _frames(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def test_a_partition_is_sent_and_reported_row_by_row() -> None:
    """The task sends every valid row once and yields key columns plus result columns per row."""
    n = 1_000
    ids = pd.array([f"u{i}" if i % 100 else None for i in range(n)], dtype="string")
    frame = pd.DataFrame({"uid": ids, "plan": "pro", "seats": np.arange(n)})
    with FakeCio(api_key=SECRET) as fake, pandas_cio.Client(SECRET, base_url=fake.url) as c:
        paced = share_rate(RateLimit(1000, 1.0), 2)
        settings = ClientSettings.from_client(c)
        sender = PartitionSender(
            "identify",
            {"user_id": Col("uid")},
            None,
            ("uid",),
            settings=replace(settings, max_batch_bytes=5_000),
            key=Holder(ApiKey(SECRET)),
            start_delay=paced.start_delay,
        )
        out = pd.concat(list(sender(_frames(frame, 300))), ignore_index=True)
        received = fake.message_ids
        requests = len(fake.requests)
    assert list(out.columns) == ["uid", *RESULT_COLUMNS]
    assert len(out) == n and out["uid"].equals(frame["uid"])
    sent = out[out["status"] == "sent"]
    assert len(sent) == n - 10 and sorted(received) == sorted(sent["message_id"])
    invalid = out[out["status"] == "invalid"]
    assert len(invalid) == 10 and invalid["error"].str.contains("uid").all()
    # Batch numbers continue across the Arrow batches of one task: one number, one request.
    assert requests > 4
    assert sorted(sent["batch"].unique()) == list(range(requests))


def test_epoch_columns_become_utc_times_again() -> None:
    """Spark timestamps shipped as epoch microseconds are sent as the same UTC instant."""
    instant = pd.Timestamp("2024-11-03T05:30:00Z")
    micros = (instant - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(microseconds=1)
    frame = pd.DataFrame(
        {"uid": ["u1", "u2"], "ts": pd.array([micros, None], dtype="Int64"), "n": [1, 2]}
    )
    sender = PartitionSender(
        "track",
        {"user_id": Col("uid"), "event": Lit("Seen"), "timestamp": Col("ts")},
        None,
        ("uid", "ts"),
        epoch_columns=("ts",),
    )
    (out,) = list(sender([frame]))
    assert out["status"].tolist() == ["dry_run", "dry_run"]
    assert out.loc[0, "ts"] == instant and pd.isna(out.loc[1, "ts"])
    with FakeCio(api_key=SECRET) as fake, pandas_cio.Client(SECRET, base_url=fake.url) as c:
        live = PartitionSender(
            "track",
            sender.args,
            None,
            ("uid",),
            epoch_columns=("ts",),
            settings=ClientSettings.from_client(c),
            key=Holder(ApiKey(SECRET)),
        )
        list(live([frame.iloc[:1]]))
        assert fake.calls[0]["timestamp"] == "2024-11-03T05:30:00.000Z"


def test_an_empty_partition_yields_no_status_rows() -> None:
    """A partition without rows gives an empty status frame with every column."""
    sender = PartitionSender("identify", {"user_id": Col("uid")}, None, ("uid",))
    empty = pd.DataFrame({"uid": pd.Series([], dtype="str"), "n": pd.Series([], dtype="int64")})
    (out,) = list(sender([empty]))
    assert out.empty and list(out.columns) == ["uid", *RESULT_COLUMNS]


def test_settings_shipped_to_a_task_keep_ca_bundle_and_proxies() -> None:
    """The settings a task rebuilds its client from carry every option (they dropped two)."""
    proxies = {"https": "http://127.0.0.1:3128"}
    with pandas_cio.Client(SECRET, ca_bundle="/tmp/corp-ca.pem", proxies=proxies) as c:
        shipped = pickle.loads(pickle.dumps(ClientSettings.from_client(c)))
    assert SECRET not in repr(shipped) and shipped.api_key is None
    with pandas_cio.Client.from_settings(shipped, ApiKey(SECRET)) as rebuilt:
        assert rebuilt._session.verify == "/tmp/corp-ca.pem"
        assert rebuilt._session.proxies == proxies
        assert rebuilt.settings == replace(shipped, api_key=rebuilt.api_key)


def test_a_send_stopped_early_marks_the_rest_of_the_task_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SendError with a partial result (the breaker) is yielded; later rows fail unsent."""
    from pandas_cio.errors import SendError
    from pandas_cio.spark import _task
    from pandas_cio.testing import Fault

    real = _task.run

    def stopping(frame: pd.DataFrame, *args: object, **kwargs: object) -> pd.DataFrame:
        result = real(frame, *args, **kwargs)  # type: ignore[arg-type]
        if not kwargs["dry_run"]:
            raise SendError("the service looked down", result)
        return result

    monkeypatch.setattr(_task, "run", stopping)
    frame = pd.DataFrame({"uid": [f"u{i}" if i % 50 else None for i in range(300)]})
    with FakeCio(api_key=SECRET) as fake, pandas_cio.Client(SECRET, base_url=fake.url) as c:
        fake.inject(Fault(status=503))
        sender = PartitionSender(
            "identify",
            {"user_id": Col("uid")},
            None,
            ("uid",),
            settings=replace(ClientSettings.from_client(c), retry=default_retry(0)),
            key=Holder(ApiKey(SECRET)),
        )
        first, *rest = list(sender(_frames(frame, 100)))
        requests = len(fake.requests)
    assert requests == first["batch"].nunique() == 1  # only the first frame was sent
    assert set(first["status"]) == {"failed", "invalid"}
    for out in rest:
        failed = out[out["status"] == "failed"]
        assert len(failed) == 98 and failed["error"].eq("HTTP 503 after 1 attempt").all()
        assert failed["batch"].isna().all() and (failed["attempts"] == 0).all()
        assert (out["status"] == "invalid").sum() == 2
