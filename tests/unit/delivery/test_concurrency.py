"""The in-flight controller: its rules as a pure unit, and a send that it governs.

The unit tests feed :class:`pandas_cio.delivery.concurrency.Concurrency` sequences of
attempt outcomes with explicit clock readings; the integration tests send
through the real client to :class:`~pandas_cio.testing.FakeCio` with latency
and read the limits the controller reached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from frame_cases import client_for
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_cio.delivery import sender
from pandas_cio.delivery.concurrency import START, Concurrency, Gate
from pandas_cio.testing import FakeCio, Fault

# (seconds the attempt took, whether the service answered)
outcome = st.tuples(st.floats(0.0, 2.0, allow_nan=False), st.booleans())


def _run(c: Concurrency, outcomes: list[tuple[float, bool]]) -> list[int]:
    """Feed outcomes one after the other (each starts when the previous ends)."""
    now = 0.0
    limits = []
    for took, answered in outcomes:
        c.ended(now, now + took, answered)
        now += took + 0.001
        limits.append(c.limit)
    return limits


@settings(max_examples=150, deadline=None)
@given(cap=st.integers(1, 64), outcomes=st.lists(outcome, max_size=200))
def test_the_limit_stays_between_1_and_the_cap(cap: int, outcomes: list[Any]) -> None:
    for limit in _run(Concurrency(cap), outcomes):
        assert 1 <= limit <= cap


@settings(max_examples=150, deadline=None)
@given(cap=st.integers(1, 64), outcomes=st.lists(outcome, max_size=100))
def test_a_429_after_the_last_cut_shrinks_the_limit(cap: int, outcomes: list[Any]) -> None:
    c = Concurrency(cap)
    _run(c, outcomes)
    before = c.limit
    c.ended(started=1e6, now=1e6 + 0.05, answered=False)  # started after every cut
    assert c.limit <= max(1, (before + 1) // 2)
    if before > 1:
        assert c.limit < before


@settings(max_examples=100, deadline=None)
@given(cap=st.integers(1, 64), answers=st.integers(0, 300))
def test_steady_answers_never_shrink_the_limit(cap: int, answers: int) -> None:
    c = Concurrency(cap)
    limits = _run(c, [(0.05, True)] * answers)
    assert limits == sorted(limits)
    assert c.cuts == 0


def test_slow_start_doubles_per_round_trip_up_to_the_cap() -> None:
    c = Concurrency(32)
    assert c.limit == START
    _run(c, [(0.05, True)] * START)
    assert c.limit == 2 * START
    _run(c, [(0.05, True)] * 200)
    assert c.limit == 32


def test_after_a_cut_growth_is_one_per_round_trip() -> None:
    c = Concurrency(64)
    assert c.limit == 16
    c.ended(started=100.0, now=100.05, answered=False)
    assert c.limit == 8
    c_now = 101.0
    for _ in range(9):  # a round trip's answers: 8 in flight, then 9
        c.ended(c_now, c_now + 0.05, True)
        c_now += 0.01
    assert c.limit == 9


def test_attempts_sent_before_a_cut_do_not_cut_again() -> None:
    c = Concurrency(64)
    _run(c, [(0.05, True)] * 16)  # 32 in flight
    for _ in range(10):  # ten 429s of requests that were all in flight together
        c.ended(started=50.0, now=50.1, answered=False)
    assert c.limit == 16
    assert c.cuts == 1


def test_rising_latency_cuts_the_limit() -> None:
    c = Concurrency(64)
    _run(c, [(0.05, True)] * 16)
    before = c.limit
    _run(c, [(0.5, True)] * 3)  # ten times slower: a queue is building
    assert c.limit < before
    assert c.cuts >= 1


def test_fixed_mode_keeps_the_cap() -> None:
    c = Concurrency(12, adaptive=False)
    assert _run(c, [(0.05, True), (3.0, False), (0.01, True)]) == [12, 12, 12]


def test_the_gate_holds_threads_above_the_limit() -> None:
    c = Concurrency(4)  # limit 4
    gate = Gate(c)
    for _ in range(4):
        gate.enter()
    entered = threading.Event()

    def fifth() -> None:
        gate.enter()
        entered.set()

    thread = threading.Thread(target=fifth, daemon=True)
    thread.start()
    assert not entered.wait(0.2)
    gate.leave()
    assert entered.wait(5)
    gate.open()
    thread.join(5)


# Against the fake


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Concurrency]]:
    """Every Concurrency a send makes, to read its limit and cuts afterwards."""
    made: list[Concurrency] = []

    class Recorded(Concurrency):
        def __init__(self, cap: int, *, adaptive: bool = True) -> None:
            super().__init__(cap, adaptive=adaptive)
            self.highest = self.limit
            made.append(self)

        def ended(self, started: float, now: float, answered: bool) -> None:
            super().ended(started, now, answered)
            self.highest = max(self.highest, self.limit)

    monkeypatch.setattr(sender, "Concurrency", Recorded)
    yield made


def _people(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"u{i}" for i in range(n)], "plan": ["pro"] * n})


def test_a_slow_link_gets_more_requests_in_flight(recorded: list[Concurrency]) -> None:
    with (
        FakeCio(keep_calls=False, latency=0.05) as fake,
        client_for(fake, max_batch_bytes=400, workers=40) as client,
    ):
        result = _people(400).cio.identify(user_id="id", client=client, progress=False)
    assert (result["status"] == "sent").all()
    (c,) = recorded
    assert c.highest > START  # grew beyond the start
    assert c.highest <= 40  # and never past the cap
    assert len(set(fake.message_ids)) == 400


def test_429s_shrink_the_limit_and_every_row_lands(recorded: list[Concurrency]) -> None:
    with (
        FakeCio(keep_calls=False, latency=0.02, seed=3) as fake,
        client_for(fake, max_batch_bytes=400) as client,
    ):
        fake.inject(Fault(status=429, retry_after="0", probability=0.2))
        result = _people(300).cio.identify(user_id="id", client=client, progress=False)
    assert (result["status"] == "sent").all()
    assert any(r.status == 429 for r in fake.requests)
    (c,) = recorded
    assert c.cuts >= 1
    assert len(set(fake.message_ids)) == 300


def test_fixed_workers_are_all_used(recorded: list[Concurrency]) -> None:
    fake = FakeCio(keep_calls=False, latency=0.05)
    with fake, client_for(fake, max_batch_bytes=400, workers=6, adaptive=False) as client:
        result = _people(200).cio.identify(user_id="id", client=client, progress=False)
    assert (result["status"] == "sent").all()
    (c,) = recorded
    assert not c.adaptive and c.limit == 6
    assert client.settings.adaptive is False
