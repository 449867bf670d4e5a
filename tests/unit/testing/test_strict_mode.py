"""The fake's Pipelines API: refused calls, permissive 200-and-drop, strict 400, refusal hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pandas_cio.testing import STRICT_HEADER, FakeCio

KEY = "strict-test-key"
STRICT = {STRICT_HEADER: "1"}


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    with FakeCio(KEY) as server:
        yield server


def post(
    fake: FakeCio, path: str, body: Any, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(fake.url + path, json=body, auth=(KEY, ""), headers=headers, timeout=5)


def good(i: int) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{i}", "event": "Clicked", "messageId": f"m{i}"}


SECRET = "hunter2-secret"

# One call per rule the Pipelines API checks, and a word its reason must name.
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"userId": "u", "event": "E", "messageId": "x"}, "type"),
    ({"type": "nope", "userId": "u", "messageId": "x"}, "type"),
    ({"type": "identify", "traits": {"email": SECRET}, "messageId": "x"}, "userId"),
    ({"type": "page", "properties": {"url": SECRET}, "messageId": "x"}, "anonymousId"),
    ({"type": "screen", "name": SECRET, "messageId": "x"}, "userId"),
    ({"type": "track", "userId": "u", "messageId": "x"}, "event"),
    ({"type": "track", "event": SECRET, "messageId": "x"}, "groupId"),
    ({"type": "alias", "userId": "u", "messageId": "x"}, "previousId"),
    ({"type": "identify", "userId": 7, "messageId": "x"}, "userId"),
    ({"type": "track", "userId": "u", "event": 3, "messageId": "x"}, "event"),
    ({"type": "identify", "userId": "u", "traits": [SECRET], "messageId": "x"}, "traits"),
    (
        {"type": "track", "userId": "u", "event": "E", "properties": SECRET, "messageId": "x"},
        "properties",
    ),
    (
        {"type": "track", "userId": "u", "event": "E", "context": [SECRET], "messageId": "x"},
        "context",
    ),
    (
        {"type": "identify", "userId": "u", "traits": {"blob": SECRET * 3000}, "messageId": "x"},
        "bytes",
    ),
]


@pytest.mark.parametrize(("call", "field"), REFUSED)
def test_permissive_answers_200_and_drops_refused_calls(
    fake: FakeCio, call: dict[str, Any], field: str
) -> None:
    """Without the header a refused call is dropped, recorded as the API's drop; the rest lands."""
    response = post(fake, "/batch", {"batch": [good(1), call, good(2)]})
    assert response.status_code == 200
    assert fake.message_ids == ["m1", "m2"]
    (drop,) = fake.journeys.dropped
    assert (drop.by, drop.action, drop.message_id) == ("pipelines_api", "pipelines_api", "x")
    assert field in drop.reason and SECRET not in drop.reason
    assert [e.person for e in fake.journeys.events()] == ["u1", "u2"]


@pytest.mark.parametrize(("call", "field"), REFUSED)
def test_strict_answers_400_and_accepts_nothing(
    fake: FakeCio, call: dict[str, Any], field: str
) -> None:
    """With X-Strict-Mode: 1 a refused call fails the whole request; its good calls do not land."""
    response = post(fake, "/batch", {"batch": [good(1), call, good(2)]}, STRICT)
    assert response.status_code == 400
    body = response.json()
    assert field in body["error"] and [e["message"] for e in body["errors"]] == [body["error"]]
    assert SECRET not in response.text
    assert fake.calls == [] and fake.message_ids == [] and fake.accepted_calls == 0
    assert fake.journeys.events() == [] and fake.journeys.dropped == []
    assert fake.requests[0].status == 400 and not fake.requests[0].accepted


def test_strict_valid_batch_is_accepted(fake: FakeCio) -> None:
    """Strict mode changes nothing for a batch the API accepts."""
    assert post(fake, "/batch", {"batch": [good(1), good(2)]}, STRICT).status_code == 200
    assert fake.message_ids == ["m1", "m2"]


@pytest.mark.parametrize("value", ["0", "", "false"])
def test_header_must_say_1_to_be_strict(fake: FakeCio, value: str) -> None:
    """Only X-Strict-Mode: 1 (or true) turns strict mode on."""
    bad = {"type": "track", "userId": "u"}
    assert post(fake, "/batch", {"batch": [bad]}, {STRICT_HEADER: value}).status_code == 200


def test_strict_single_endpoint(fake: FakeCio) -> None:
    """A single-call endpoint refuses in strict mode too."""
    assert post(fake, "/track", {"userId": "u"}, STRICT).status_code == 400
    assert post(fake, "/track", {"userId": "u"}).status_code == 200
    assert fake.calls == []


def test_strict_lists_distinct_reasons_at_most_20(fake: FakeCio) -> None:
    """The 400 body lists each distinct reason once, at most 20 of them."""
    batch = [{"type": "track", "userId": "u", "messageId": str(i)} for i in range(50)]
    batch += [
        {"type": "identify", "userId": "u", "traits": {"k": "x" * 33_000}, "messageId": "big"}
    ]
    body = post(fake, "/batch", {"batch": batch}, STRICT).json()
    assert [e["message"] for e in body["errors"]] == [
        "track call needs an 'event'",
        "call over 32768 bytes",
    ]


def test_strict_body_over_500kb_is_400() -> None:
    """A body over the request limit fails in strict mode, and is dropped whole otherwise."""
    with FakeCio(KEY, max_body_bytes=2000) as fake:
        batch = {"batch": [good(i) for i in range(40)]}
        assert post(fake, "/batch", batch, STRICT).status_code == 400
        assert post(fake, "/batch", batch).status_code == 200
        assert fake.dropped_bodies == 1 and fake.calls == []
        assert len(fake.journeys.dropped) == 40


def test_oversized_call_counts_as_dropped_call(fake: FakeCio) -> None:
    """A call over 32 KB is still counted in dropped_calls in permissive mode."""
    big = {"type": "identify", "userId": "u", "traits": {"k": "x" * 33_000}, "messageId": "big"}
    assert post(fake, "/batch", {"batch": [big, good(1)]}).status_code == 200
    assert fake.dropped_calls == 1 and fake.message_ids == ["m1"]


def test_refuse_hook_from_constructor_and_method() -> None:
    """refuse= and refuse() make the service refuse chosen calls, with the hook's reason."""
    with FakeCio(
        KEY, refuse=lambda c: "u3 is blocked" if c.get("userId") == "u3" else None
    ) as fake:
        fake.refuse(lambda c: "no m5" if c.get("messageId") == "m5" else None)
        batch = {"batch": [good(i) for i in range(7)]}
        response = post(fake, "/batch", batch, STRICT)
        assert response.status_code == 400
        assert [e["message"] for e in response.json()["errors"]] == ["u3 is blocked", "no m5"]
        assert post(fake, "/batch", batch).status_code == 200
        assert fake.message_ids == ["m0", "m1", "m2", "m4", "m6"]
        assert [(d.message_id, d.reason) for d in fake.journeys.dropped] == [
            ("m3", "u3 is blocked"),
            ("m5", "no m5"),
        ]
        fake.clear_refusals()
        fake.reset()
        assert post(fake, "/batch", batch, STRICT).status_code == 200
        assert len(fake.message_ids) == 7


def test_reset_resets_the_journeys_model(fake: FakeCio) -> None:
    """FakeCio.reset() empties fake.journeys as well."""
    post(fake, "/batch", {"batch": [good(1)]})
    assert fake.journeys.people
    fake.reset()
    assert fake.journeys.people == {} and fake.journeys.events() == []


def test_journeys_off_without_keep_calls() -> None:
    """keep_calls=False turns the model off (memory stays flat); journeys=True turns it back on."""
    with FakeCio(KEY, keep_calls=False) as fake:
        post(fake, "/batch", {"batch": [good(1)]})
        assert fake.journeys.people == {} and fake.accepted_calls == 1
    with FakeCio(KEY, keep_calls=False, journeys=True) as fake:
        post(fake, "/batch", {"batch": [good(1)]})
        assert list(fake.journeys.people) == ["u1"]


def test_batch_context_reaches_the_model(fake: FakeCio) -> None:
    """A /batch request's own context applies to its calls in the model."""
    call = {"type": "track", "userId": "u", "event": "Device Created or Updated", "messageId": "d"}
    body = {"batch": [call], "context": {"device": {"token": "tok", "type": "ios"}}}
    assert post(fake, "/batch", body).status_code == 200
    assert list(fake.journeys.devices) == [("u", "tok")]


def bisect_send(fake: FakeCio, batch: list[dict[str, Any]]) -> tuple[set[str], int]:
    """Send in strict mode, halving each refused request; return refused messageIds, requests."""
    refused: set[str] = set()
    requests_made = 0
    pending = [batch]
    while pending:
        part = pending.pop()
        requests_made += 1
        if post(fake, "/batch", {"batch": part}, STRICT).status_code == 200:
            continue
        if len(part) == 1:
            refused.add(part[0]["messageId"])
            continue
        middle = len(part) // 2
        pending += [part[:middle], part[middle:]]
    return refused, requests_made


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(1, 24), data=st.data())
def test_bisection_isolates_refused_calls_exactly(
    fake: FakeCio, size: int, data: st.DataObject
) -> None:
    """All-or-nothing 400s let a client bisect: each good call lands once, the refused are found."""
    fake.reset()
    bad = data.draw(st.sets(st.integers(0, size - 1), max_size=3))
    batch = [
        good(i) if i not in bad else {"type": "track", "userId": "u", "messageId": f"m{i}"}
        for i in range(size)
    ]
    refused, _ = bisect_send(fake, batch)
    assert refused == {f"m{i}" for i in bad}
    assert sorted(fake.message_ids) == sorted(f"m{i}" for i in range(size) if i not in bad)
    assert len(fake.journeys.event_ids) == size - len(bad)
