"""Per-call rejection: a batch refused with HTTP 400 is split until the bad calls are alone.

The service under test is a ``responses`` mock of strict mode: a ``/batch``
request holding any call whose traits carry the marker plan is answered 400
and none of its calls is accepted (all or nothing per request, as the
service does); any other request is accepted. It records every request's
messageIds, so each test can check the result frame against what was
accepted and what was asked.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.delivery.splitting import Splitter
from pandas_cio.delivery.transport import default_retry
from pandas_cio.ledger.store import SqliteLedger
from pandas_cio.outcome.results import SendStats
from pandas_cio.prepare.batching import ENVELOPE_BYTES, Batch, Calls

BATCH_URL = "https://cdp.customer.io/v1/batch"
KEY = "pk_us_split-test-secret"
REFUSE = "refuse-me"
REASON = "invalid call in batch: traits failed validation"


class StrictService:
    """A strict-mode /batch endpoint: 400 for any request with a marked call, else 200.

    Parameters
    ----------
    fail_first_attempt : bool
        Answer 503 to the first attempt of every body that is not a whole
        batch (a split half), to check that retries behave during splitting.
    """

    def __init__(self, fail_first_attempt: bool = False) -> None:
        self.fail_first_attempt = fail_first_attempt
        self.requests: list[tuple[int, list[str]]] = []  # (status, messageIds)
        self.accepted: list[str] = []
        self._seen: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self.whole: set[tuple[str, int]] = set()  # (first messageId, calls) of whole batches

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        calls = orjson.loads(request.body)["batch"]
        ids = [call["messageId"] for call in calls]
        refused = any(call.get("traits", {}).get("plan") == REFUSE for call in calls)
        with self._lock:
            body = (ids[0], len(ids))
            first = body not in self._seen
            self._seen.add(body)
            if self.fail_first_attempt and first and body not in self.whole:
                self.requests.append((503, ids))
                return 503, {}, '{"error":"try again"}'
            if refused:
                self.requests.append((400, ids))
                return 400, {}, orjson.dumps({"error": REASON}).decode()
            self.requests.append((200, ids))
            self.accepted.extend(ids)
        return 200, {}, "{}"


@pytest.fixture
def strict() -> Iterator[StrictService]:
    """The strict service, mocked for the default US endpoint."""
    service = StrictService()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BATCH_URL, callback=service)
        yield service


def client(**options: Any) -> pandas_cio.Client:
    """A client of the mocked endpoint with millisecond backoffs."""
    retry = default_retry(3).new(backoff_factor=0.001, backoff_jitter=0.0)
    options.setdefault("workers", 4)
    return pandas_cio.Client(KEY, retry=retry, **options)


def people(rows: int, refused: list[int]) -> pd.DataFrame:
    """Distinct people; the rows at ``refused`` carry the plan the service refuses."""
    frame = pd.DataFrame(
        {
            "id": [f"person-{i:06d}" for i in range(rows)],
            "plan": np.where(np.arange(rows) % 3 == 0, "pro", "free").astype(object),
            "seats": np.arange(rows) % 97,
        }
    )
    frame.loc[refused, "plan"] = REFUSE
    return frame


def assert_exact(result: pd.DataFrame, frame: pd.DataFrame, service: StrictService) -> None:
    """Sent rows are exactly the accepted calls, each once; attempts add up to the requests."""
    sent = result.loc[result["status"] == "sent", "message_id"]
    assert Counter(service.accepted) == Counter(sent.tolist())
    # Each request carried its calls once: the rows' attempts count exactly those.
    carried = Counter(m for _, ids in service.requests for m in ids)
    attempts = dict(zip(result["message_id"], result["attempts"], strict=True))
    assert carried == Counter({m: n for m, n in attempts.items() if n})
    assert result.attrs["cio"]["requests"] == len(service.requests)


def test_seven_refused_rows_in_twenty_thousand_are_isolated(strict: StrictService) -> None:
    """20,000 rows, 7 refused: exactly those 7 rejected with the reason, 19,993 sent."""
    refused = [5, 1_812, 1_813, 7_000, 12_345, 19_990, 19_999]
    frame = people(20_000, refused)
    with client() as c:
        result = frame.cio.identify(user_id="id", client=c)
    rejected = result.index[result["status"] == "rejected"]
    assert sorted(rejected) == refused
    assert (result["status"] == "sent").sum() == 19_993
    assert result.loc[rejected, "error"].str.contains(REASON, regex=False).all()
    assert result.loc[rejected, "error"].str.contains("HTTP 400").all()
    assert (result.loc[rejected, "http_status"] == 400).all()
    assert_exact(result, frame, strict)
    stats = result.attrs["cio"]
    # Bounded: about 2 log2(n) extra bodies per refused call.
    largest = int(result.groupby("batch").size().max())
    per_call = 2 * math.ceil(math.log2(max(largest, 2) * 2))
    assert 0 < stats["split_batches"] <= len(refused) * per_call
    assert stats["requests"] == stats["batches"] + stats["split_batches"]
    # Rows sharing a batch number shared one request (split halves get numbers of their own).
    by_batch = result.groupby("batch")["message_id"].agg(frozenset)
    asked = {frozenset(ids) for _, ids in strict.requests}
    assert set(by_batch) <= asked
    report = result.cio.report()
    assert not report.ok
    assert report.counts["rejected"] == 7
    assert report.split_batches == stats["split_batches"]
    assert "split batches" in str(report)
    assert REFUSE not in str(report) and KEY not in str(report)


def test_retryable_failures_during_splitting_are_retried(strict: StrictService) -> None:
    """Every split half answered 503 first: retried, and the outcome is still exact."""
    strict.fail_first_attempt = True
    frame = people(3_000, [10, 2_500])
    with client(max_batch_bytes=60_000) as c:
        planned = frame.cio.identify(user_id="id", client=c, dry_run=True)
        batches = planned.groupby("batch")["message_id"]
        strict.whole = set(zip(batches.first(), batches.size(), strict=True))
        result = frame.cio.identify(user_id="id", client=c)
    assert sorted(result.index[result["status"] == "rejected"]) == [10, 2_500]
    assert (result["status"] == "sent").sum() == 2_998
    assert_exact(result, frame, strict)
    stats = result.attrs["cio"]
    assert stats["retries"] == stats["split_batches"] > 0


def test_split_requests_are_capped_per_send(strict: StrictService) -> None:
    """Past max_split_requests, a refused batch's undecided rows fail, saying why."""
    frame = people(2_000, [3, 1_500])
    with client(max_batch_bytes=60_000) as c:
        result = frame.cio.identify(user_id="id", client=c, max_split_requests=4)
    stats = result.attrs["cio"]
    assert stats["split_batches"] <= 4
    assert stats["requests"] == stats["batches"] + stats["split_batches"]
    failed = result[result["status"] == "failed"]
    assert len(failed) > 0
    assert failed["error"].str.contains("max_split_requests").all()
    # Re-sending as is would be refused again: the reason says how to find the bad call.
    assert failed["error"].str.contains("with a higher max_split_requests= to find it").all()
    assert failed["error"].str.contains(REASON, regex=False).all()
    assert set(result["status"].astype(str)) <= {"sent", "failed", "rejected"}
    assert {3, 1_500} <= set(result.index[result["status"] != "sent"])
    assert_exact(result, frame, strict)


def test_no_splitting_fails_the_refused_batch(strict: StrictService) -> None:
    """max_split_requests=0 keeps the old behaviour: the refused batch's rows are failed."""
    frame = people(500, [42])
    with client() as c:
        result = frame.cio.identify(user_id="id", client=c, max_split_requests=0)
    assert (result["status"] == "failed").all()
    assert result.attrs["cio"]["split_batches"] == 0
    assert len(strict.requests) == 1


def test_rejected_rows_are_not_recorded_in_the_ledger(strict: StrictService) -> None:
    """A rejected row is not delivered: the next run with the ledger sends only it again."""
    frame = people(1_000, [7])
    with client() as c, SqliteLedger(":memory:") as ledger:
        first = frame.cio.identify(user_id="id", client=c, ledger=ledger)
        strict.requests.clear()
        again = frame.cio.identify(user_id="id", client=c, ledger=ledger)
    assert first["status"].value_counts()[["sent", "rejected"]].tolist() == [999, 1]
    assert again.loc[7, "status"] == "rejected"
    assert (again["status"].drop(index=7) == "unchanged").all()
    assert strict.requests == [(400, [first.loc[7, "message_id"]])]


def test_cli_writes_rejected_rows_to_rejects_and_exits_1(
    strict: StrictService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command reports rejected rows, puts them in --rejects, and exits 1."""
    source, out, rejects = tmp_path / "people.csv", tmp_path / "out.csv", tmp_path / "rej.csv"
    people(300, [100, 200]).to_csv(source, index=False)
    monkeypatch.setenv("CIO_API_KEY", KEY)
    monkeypatch.delenv("CIO_REGION", raising=False)
    status = cli.main(
        ["identify", str(source), "--user-id", "id", "--out", str(out), "--rejects", str(rejects)]
    )
    printed = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "rejected" in printed and "split batches" in printed
    assert pd.read_csv(rejects)["_cio_row"].tolist() == [100, 200]
    assert set(pd.read_csv(rejects)["_cio_status"]) == {"rejected"}
    assert pd.read_csv(out)["status"].value_counts().to_dict() == {"sent": 298, "rejected": 2}


@settings(max_examples=20)
@given(
    rows=st.integers(1, 80),
    refused=st.sets(st.integers(0, 79), max_size=6),
    batch_bytes=st.sampled_from([700, 2_000, 8_000]),
)
def test_any_refused_set_is_isolated_exactly(
    rows: int, refused: set[int], batch_bytes: int
) -> None:
    """Whatever rows are refused and however they are batched, those and only those are rejected."""
    refused = {r for r in refused if r < rows}
    frame = people(rows, sorted(refused))
    service = StrictService()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BATCH_URL, callback=service)
        with client(max_batch_bytes=batch_bytes, workers=2) as c:
            result = frame.cio.identify(user_id="id", client=c)
    assert set(result.index[result["status"] == "rejected"]) == refused
    assert (result["status"] == "sent").sum() == rows - len(refused)
    assert_exact(result, frame, service)


@given(sizes=st.lists(st.integers(1, 40), min_size=2, max_size=30), as_buffer=st.booleans())
def test_halves_partition_a_batch_with_exact_sizes(sizes: list[int], as_buffer: bool) -> None:
    """A batch's halves hold its calls in order, and each size is its body's length."""
    calls = [b'{"k":"' + b"x" * n + b'"}' for n in sizes]
    joined = sum(len(c) + 1 for c in calls) - 1
    held = Calls.of(calls) if as_buffer else tuple(calls)
    batch = Batch(3, tuple(range(10, 10 + len(calls))), held, ENVELOPE_BYTES + joined)
    first, second = batch.halves()
    assert first.positions + second.positions == batch.positions
    assert list(first.calls) + list(second.calls) == calls
    assert abs(len(first.positions) - len(second.positions)) <= 1
    for half in (first, second):
        body = half.body("2026-01-01T00:00:00.000Z")
        assert len(body) == half.size
        assert orjson.loads(body)["batch"] == [orjson.loads(c) for c in half.calls]


def test_feed_sends_halves_first_and_numbers_in_send_order() -> None:
    """Queued halves go before new batches; every batch sent gets the next number."""
    stats = SendStats()
    splitter = Splitter(stats)
    whole = [Batch(n, (n,), (b"{}",), ENVELOPE_BYTES + 2) for n in range(3)]
    pair = Batch(9, (7, 8), (b"{}", b"{}"), ENVELOPE_BYTES + 5)
    feed = splitter.feed(iter(whole))
    assert next(feed).positions == (0,)
    assert splitter.split(pair)
    sent = [(b.number, b.positions) for b in feed]
    assert sent == [(1, (7,)), (2, (8,)), (3, (1,)), (4, (2,))]
    assert stats.split_batches == 2
    with pytest.raises(ValueError, match="one call"):
        whole[0].halves()


def test_cli_max_split_requests_zero_fails_the_refused_batch(
    strict: StrictService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--max-split-requests 0: one request, its rows failed, exit 1; a negative value is usage."""
    source, out = tmp_path / "people.csv", tmp_path / "out.csv"
    people(50, [10]).to_csv(source, index=False)
    monkeypatch.setenv("CIO_API_KEY", KEY)
    monkeypatch.delenv("CIO_REGION", raising=False)
    argv = ["identify", str(source), "--user-id", "id", "--out", str(out)]
    assert cli.main([*argv, "--max-split-requests", "0"]) == cli.EXIT_NOT_ALL_SENT
    assert len(strict.requests) == 1
    assert set(pd.read_csv(out)["status"]) == {"failed"}
    assert cli.main([*argv, "--max-split-requests", "-1"]) == cli.EXIT_USAGE
    assert "--max-split-requests" in capsys.readouterr().err
    assert len(strict.requests) == 1


def test_ctrl_c_while_isolating_keeps_every_status_exact(
    strict: StrictService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted mid-split: sent rows are exactly the accepted ones; the rest say why."""
    from pandas_cio.outcome.progress import Progress

    decided = {"n": 0}

    def interrupt_on_fifth(self: Progress, rows: int) -> None:
        decided["n"] += 1
        if decided["n"] == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "update", interrupt_on_fifth)
    frame = people(4_000, list(range(0, 4_000, 97)))
    with (
        client(max_batch_bytes=20_000) as c,
        pytest.raises(pandas_cio.InterruptedSendError) as info,
    ):
        frame.cio.identify(user_id="id", client=c)
    result = info.value.result
    assert_exact(result, frame, strict)
    assert result["status"].notna().all()
    assert result.loc[result["status"] != "sent", "error"].notna().all()
    assert (result["status"] == "failed").sum() > 0


def test_strict_fake_isolates_seven_refused_calls_in_twenty_thousand() -> None:
    """Against FakeCio in strict mode: 7 refused, 19,993 sent and landed in Journeys."""
    from pandas_cio.testing import FakeCio

    refused = [5, 1_812, 1_813, 7_000, 12_345, 19_990, 19_999]
    frame = people(20_000, refused)

    def refuse(call: dict[str, Any]) -> str | None:
        traits = call.get("traits") or {}
        return "traits.plan is not an allowed plan" if traits.get("plan") == REFUSE else None

    with FakeCio(refuse=refuse) as fake:
        retry = default_retry(3).new(backoff_factor=0.001, backoff_jitter=0.0)
        with pandas_cio.Client(fake.api_key, base_url=fake.url, retry=retry) as c:
            result = frame.cio.identify(user_id="id", client=c)
        statuses = result["status"]
        assert sorted(result.index[statuses == "rejected"]) == refused
        assert (statuses == "sent").sum() == 19_993
        rejected = result.loc[statuses == "rejected", "error"]
        assert rejected.str.contains("not an allowed plan", regex=False).all()
        # Nothing dropped silently: every sent row landed, no refused call did.
        sent_ids = set(result.loc[statuses == "sent", "message_id"])
        assert sent_ids == set(fake.message_ids)
        assert fake.journeys.dropped == []
        assert all(fake.journeys.person(f"person-{i:06d}") is None for i in refused)
        assert fake.journeys.person("person-000000") is not None
        stats = result.attrs["cio"]
        assert stats["requests"] == len(fake.requests) == stats["batches"] + stats["split_batches"]
        assert 0 < stats["split_batches"] < 7 * 2 * 12
