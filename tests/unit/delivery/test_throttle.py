"""The throttle holds and Retry-After is honoured, as the server counts them.

The service allows 3,000 requests per 3 seconds, retries included. These
tests send thousands of small requests (tiny ``max_batch_bytes``) through the
real client to the local fake and then ask the fake for the most requests
that arrived in any window (:meth:`FakeCio.max_requests_in_window`). The
client pads its own window by :attr:`RateLimit.margin`; the check is against
the server's count, which is what the service enforces.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from frame_cases import client_for

from pandas_cio import RateLimit
from pandas_cio.testing import FakeCio, Fault, messy

# One call per request: thousands of requests from a few thousand rows.
TINY_BATCH_BYTES = 200


def rows(n: int) -> pd.DataFrame:
    """n distinct people, about 100 bytes of call each."""
    return pd.DataFrame({"id": [f"u{i}" for i in range(n)], "plan": ["pro"] * n})


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A fake that keeps only ids and counts (thousands of requests)."""
    with FakeCio(keep_calls=False, seed=5) as server:
        yield server


@pytest.mark.slow
def test_service_limit_holds_over_six_thousand_requests(fake: FakeCio) -> None:
    """3,000 per 3 s over 6,000+ requests, 10% refused and retried: no window exceeds it."""
    fake.inject(*messy.throttled(rate=0.05, retry_after="0"), Fault(status=503, probability=0.05))
    frame = rows(6_000)
    with client_for(
        fake, rate_limit=RateLimit(3_000, 3.0), max_batch_bytes=TINY_BATCH_BYTES, workers=16
    ) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"] == "sent").all()
    assert len(fake.requests) >= 6_000
    assert result.attrs["cio"]["retries"] > 0
    assert fake.max_requests_in_window(3.0) <= 3_000


def test_lowered_limit_holds_with_retries(fake: FakeCio) -> None:
    """At 100 per 0.5 s, with 20% of requests refused and retried, no window exceeds 100."""
    fake.inject(*messy.flaky(rate=0.2, resets=False))
    frame = rows(240)
    with client_for(
        fake, rate_limit=RateLimit(100, 0.5), max_batch_bytes=TINY_BATCH_BYTES, workers=8
    ) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"] == "sent").all()
    assert len(fake.requests) > 200
    assert any(r.status == 429 for r in fake.requests)
    assert fake.max_requests_in_window(0.5) <= 100
    assert set(fake.message_ids) == set(result["message_id"])


def test_small_batches_mark_big_rows_too_large(fake: FakeCio) -> None:
    """With tiny batches, a row too big for one is too_large; the others are sent."""
    frame = rows(20)
    frame["bio"] = ["short"] * 19 + ["x" * 1_000]
    with client_for(
        fake, rate_limit=RateLimit(3_000, 3.0), max_batch_bytes=TINY_BATCH_BYTES
    ) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert result["status"].iloc[-1] == "too_large"
    assert (result["status"].iloc[:-1] == "sent").all()
    assert result["error"].iloc[-1].startswith("call is 1,")


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured(form: str) -> None:
    """After a 429 with Retry-After of 1 s, the retry reaches the server at least 1 s later."""
    header = "1" if form == "seconds" else messy.retry_after_date(1)
    with FakeCio() as fake:
        fake.inject(Fault(status=429, retry_after=header, count=1))
        frame = rows(5)
        with client_for(
            fake, rate_limit=RateLimit(3_000, 3.0), max_batch_bytes=TINY_BATCH_BYTES, workers=1
        ) as client:
            result = frame.cio.identify(user_id="id", client=client)
        first, retry = fake.requests[:2]
    assert (result["status"] == "sent").all()
    assert (first.status, retry.status) == (429, 200)
    assert result["attempts"].max() == 2
    # An HTTP date has whole seconds, rounded up from the moment it was made.
    floor = 1.0 if form == "seconds" else 0.9
    assert retry.arrived - first.arrived >= floor
