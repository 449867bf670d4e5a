"""Repeats of a person or object in one frame: the last row is sent, earlier ones say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.delivery.transport import default_retry
from pandas_cio.pipeline.send import run
from pandas_cio.prepare.plan import make_plan
from pandas_cio.prepare.supersede import superseded
from pandas_cio.testing import FakeCio, messy
from pandas_cio.testing.strategies import arguments_for, valid_frames


def final_state(fake: FakeCio, key: str = "userId") -> dict[Any, Any]:
    """What the service ends with: each key's traits from the last call it accepted."""
    return {call[key]: call.get("traits") for call in fake.calls}


def test_the_last_row_of_a_person_is_sent(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """An old and a new row of u1: the new one is sent, the old one names it."""
    people = pd.DataFrame(
        {"id": ["u1", "u2", "u1"], "plan": ["free", "pro", "team"]}, index=["a", "b", "c"]
    )
    result = people.cio.identify(user_id="id", client=cio_client)
    assert result["status"].tolist() == ["superseded", "sent", "sent"]
    assert result.loc["a", "error"] == (
        "superseded by row 'c', a later row of the same person (only the last is sent)"
    )
    assert pd.isna(result.loc["a", "message_id"])
    assert final_state(cio_fake) == {"u1": {"plan": "team"}, "u2": {"plan": "pro"}}
    assert "1 superseded by later rows" in result.cio.report().headline()
    assert result.cio.report().ok


def test_an_invalid_row_does_not_replace_a_valid_one() -> None:
    """A later row that fails validation leaves the earlier valid row to be sent."""
    people = pd.DataFrame({"id": ["u1", "u1"], "at": ["2026-01-01T00:00:00Z", "not a date"]})
    result = people.cio.identify(user_id="id", timestamp="at", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]


def test_keys_are_ids_as_sent() -> None:
    """1, 1.0 and "1" are one person; an anonymous id counts only without a userId."""
    people = pd.DataFrame(
        {
            "id": pd.array([1, None, None, 1, None], dtype=object),
            "anon": [None, "a1", "a2", "a1", "a1"],
            "n": [0, 1, 2, 3, 4],
        }
    )
    people.loc[3, "id"] = 1.0
    plan = make_plan(get_operation("identify"), people, {"user_id": "id", "anonymous_id": "anon"})
    rows, reasons, _ = superseded(plan, people, np.arange(5))
    # Row 0 (user 1) is replaced by row 3; row 1 (anonymous a1) by row 4, not by row 3.
    assert rows.tolist() == [0, 1]
    assert [r.split(",")[0] for r in reasons] == ["superseded by row 3", "superseded by row 4"]


def test_objects_are_keyed_by_type_and_id_and_relationships_by_person() -> None:
    """Object type 1 given or not is one type; a relationship's key includes its person."""
    objects = pd.DataFrame({"id": ["acme", "acme", "acme"], "type": [None, "1", "2"]})
    plan = make_plan(
        get_operation("objects.upsert"), objects, {"object_id": "id", "object_type_id": "type"}
    )
    rows, reasons, _ = superseded(plan, objects, np.arange(3))
    assert rows.tolist() == [0] and "same object" in reasons[0]
    links = pd.DataFrame({"uid": ["u1", "u2", "u1"], "org": ["acme", "acme", "acme"]})
    plan = make_plan(get_operation("objects.relate"), links, {"user_id": "uid", "object_id": "org"})
    rows, reasons, _ = superseded(plan, links, np.arange(3))
    assert rows.tolist() == [0] and "same relationship" in reasons[0]


def test_a_later_row_too_large_to_send_says_so_on_the_earlier(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """When the row sent instead is too large, the superseded row's reason says it was not sent."""
    people = pd.DataFrame({"id": ["u1", "u1"], "bio": ["short", "x" * 40_000]})
    # journeys=False: with the Journeys checks a 40 KB attribute is invalid
    # (over 1,000 bytes), and an invalid row supersedes nothing.
    result = people.cio.identify(user_id="id", journeys=False, client=cio_client)
    assert result["status"].tolist() == ["superseded", "too_large"]
    assert result.loc[0, "error"].endswith(
        "; row 1 was not sent either (too_large): fix it and send again"
    )
    assert cio_fake.calls == []


def test_events_are_never_superseded() -> None:
    """Two rows of one person in track are two events, both sent."""
    frame = pd.DataFrame({"id": ["u1", "u1"]})
    result = frame.cio.track(user_id="id", event="Viewed", dry_run=True)
    assert (result["status"] == "dry_run").all()


def test_new_rows_win_under_faults(cio_fake: FakeCio) -> None:
    """Each person twice (old, then new traits) under 30% faults: the service ends with the new.

    Before, both rows were sent and retries let the old row arrive last for many people.
    """
    n = 400
    ids = [f"user-{i}" for i in range(n)]
    old = pd.DataFrame({"id": ids, "plan": "old", "score": np.arange(n)})
    new = pd.DataFrame({"id": ids, "plan": "new", "score": np.arange(n) + n})
    frame = pd.concat([old, new], ignore_index=True)
    cio_fake.inject(*messy.flaky(rate=0.3), *messy.hangs(rate=0.05, seconds=0.5))
    retry = default_retry(12).new(backoff_factor=0.001, backoff_jitter=0.0)
    client = pandas_cio.Client(
        cio_fake.api_key,
        base_url=cio_fake.url,
        retry=retry,
        max_batch_bytes=2_000,
        workers=6,
        timeout=(1.0, 0.2),
    )
    with client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"].iloc[:n] == "superseded").all()
    assert (result["status"].iloc[n:] == "sent").all()
    assert result["attempts"].max() > 1  # retries happened
    state = final_state(cio_fake)
    assert state == {i: {"plan": "new", "score": n + k} for k, i in enumerate(ids)}


def test_a_ledger_sees_only_the_last_row(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Re-run with a ledger: the last row is unchanged, the earlier one still superseded."""
    path = tmp_path / "l.sqlite"
    people = pd.DataFrame({"id": ["u1", "u1"], "plan": ["free", "pro"]})
    people.cio.identify(user_id="id", client=cio_client, ledger=path)
    again = people.cio.identify(user_id="id", client=cio_client, ledger=path)
    assert again["status"].tolist() == ["superseded", "unchanged"]
    assert len(cio_fake.calls) == 1


def test_the_cli_neither_rejects_nor_fails_on_superseded_rows(
    cio_fake: FakeCio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas-cio identify: a person twice exits 0 and --rejects holds no superseded row."""
    from pandas_cio.cli import main as cli

    source, rejects = tmp_path / "people.csv", tmp_path / "rejects.csv"
    source.write_text("id,plan\nu1,free\nu2,pro\nu1,team\n")
    monkeypatch.setenv("CIO_API_KEY", cio_fake.api_key)
    monkeypatch.delenv("CIO_REGION", raising=False)
    argv = ["identify", str(source), "--user-id", "id", "--rejects", str(rejects)]
    assert cli.main([*argv, "--base-url", cio_fake.url]) == 0
    assert pd.read_csv(rejects).empty
    assert final_state(cio_fake) == {"u1": {"plan": "team"}, "u2": {"plan": "pro"}}


@pytest.mark.parametrize("operation", ["identify", "objects.upsert", "objects.relate"])
@given(data=st.data())
def test_drawn_valid_frames_have_each_key_once(operation: str, data: st.DataObject) -> None:
    """testing.valid_frames draws each person or object once, so every row is accepted."""
    frame = data.draw(valid_frames(operation, max_rows=8))
    result = run(frame, operation, arguments_for(operation), dry_run=True, progress=False)
    assert (result["status"] == "dry_run").all(), result["error"].dropna().tolist()


def test_an_invalid_later_row_leaves_the_earlier_row_to_be_sent(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A later row that breaks a Journeys limit supersedes nothing: the valid earlier row goes."""
    people = pd.DataFrame({"id": ["u1", "u1"], "bio": ["short", "x" * 1_001]})
    result = people.cio.identify(user_id="id", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert "bio" in result.loc[1, "error"]
    assert cio_fake.journeys.person("u1")["bio"] == "short"
