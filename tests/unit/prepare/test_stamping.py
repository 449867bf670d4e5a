"""Events without timestamp= are stamped with the send's start; a ledger asks for a timestamp."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import pandas_cio
import pandas_cio.pipeline.send
import pandas_cio.prepare.roles
from pandas_cio.prepare.ulid import time_ms
from pandas_cio.testing import FakeCio

LOGINS = pd.DataFrame({"id": ["u1", "u2"], "device": ["ios", "web"]})


def test_an_event_without_timestamp_is_a_new_occurrence_each_run(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A daily Logged In gets new ids each run; before, day two repeated day one's ids."""
    first = LOGINS.cio.track(user_id="id", event="Logged In", client=cio_client)
    second = LOGINS.cio.track(user_id="id", event="Logged In", client=cio_client)
    assert set(first["message_id"]).isdisjoint(second["message_id"])
    assert len(set(cio_fake.message_ids)) == 4
    stamp = first.attrs["cio"]["timestamp"]
    calls = cio_fake.calls[:2]
    assert {c["timestamp"] for c in calls} == {stamp}
    started = pd.Timestamp(stamp)
    assert all(time_ms(c["messageId"]) == started.value // 1_000_000 for c in calls)


def test_state_calls_are_not_stamped(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """identify and objects carry no timestamp and keep their ids across runs (time part 0)."""
    first = LOGINS.cio.identify(user_id="id", client=cio_client)
    second = LOGINS.cio.identify(user_id="id", client=cio_client)
    pd.testing.assert_series_equal(first["message_id"], second["message_id"])
    assert all("timestamp" not in c for c in cio_fake.calls)
    assert first["message_id"].str.startswith("0000000000").all()
    assert first.attrs["cio"]["timestamp"] is None


def test_a_ledger_refuses_events_without_timestamp(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, tmp_path: Path
) -> None:
    """With ledger= and no timestamp= the send stops before sending and says what to pass."""
    with pytest.raises(pandas_cio.ConfigurationError, match=r'timestamp=.*timestamp="now"'):
        LOGINS.cio.track(
            user_id="id", event="Logged In", client=cio_client, ledger=tmp_path / "l.sqlite"
        )
    assert cio_fake.requests == []
    # identify is state: no timestamp needed.
    result = LOGINS.cio.identify(user_id="id", client=cio_client, ledger=tmp_path / "l.sqlite")
    assert (result["status"] == "sent").all()


def test_the_ledger_never_skips_todays_event_for_yesterdays(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, tmp_path: Path
) -> None:
    """timestamp="now" with a ledger: each run is new, never unchanged (before: unchanged)."""
    path = tmp_path / "l.sqlite"
    args = {"user_id": "id", "event": "Logged In", "timestamp": "now"}
    LOGINS.cio.track(**args, client=cio_client, ledger=path)
    again = LOGINS.cio.track(**args, client=cio_client, ledger=path)
    assert (again["status"] == "sent").all()
    assert len(set(cio_fake.message_ids)) == 4


def test_a_timestamp_column_makes_reruns_idempotent_with_a_ledger(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, tmp_path: Path
) -> None:
    """With timestamp= a column, the second run is unchanged; a row without one is invalid."""
    path = tmp_path / "l.sqlite"
    frame = LOGINS.assign(at=pd.to_datetime(["2026-02-01T10:00:00Z", None], utc=True))
    args = {"user_id": "id", "event": "Logged In", "timestamp": "at"}
    first = frame.cio.track(**args, client=cio_client, ledger=path)
    assert first["status"].tolist() == ["sent", "invalid"]
    assert first.loc[1, "error"].startswith("timestamp: missing; with ledger=")
    again = frame.cio.track(**args, client=cio_client, ledger=path)
    assert again["status"].tolist() == ["unchanged", "invalid"]
    # Without a ledger the row is sent; the service times it on arrival.
    plain = frame.cio.track(**args, client=cio_client)
    assert plain["status"].tolist() == ["sent", "sent"]
    assert "timestamp" not in cio_fake.calls[-1]


def test_one_timestamp_for_every_row(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """A date-time constant is every call's timestamp, and the stamp of a re-send."""
    when = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    result = LOGINS.cio.track(user_id="id", event="Logged In", timestamp=when, client=cio_client)
    assert {c["timestamp"] for c in cio_fake.calls} == {"2026-05-01T09:30:00.000Z"}
    assert result.attrs["cio"]["timestamp"] == "2026-05-01T09:30:00.000Z"
    # Re-sending with a stamped send's own stamp gives its ids again.
    stamped = LOGINS.cio.track(user_id="id", event="Logged In", dry_run=True)
    stamp = pandas_cio.lit(stamped.attrs["cio"]["timestamp"])
    again = LOGINS.cio.track(user_id="id", event="Logged In", timestamp=stamp, dry_run=True)
    pd.testing.assert_series_equal(again["message_id"], stamped["message_id"])


def test_a_constant_that_is_not_a_date_time_is_refused() -> None:
    """timestamp=lit("soon") names what was typed and what it takes."""
    with pytest.raises(pandas_cio.ColumnError, match=r"timestamp='soon' must be a column"):
        LOGINS.cio.track(
            user_id="id", event="Logged In", timestamp=pandas_cio.lit("soon"), dry_run=True
        )


def test_a_column_named_now_is_a_column() -> None:
    """timestamp="now" names a column called now, as every column role does."""
    frame = LOGINS.assign(now=pd.to_datetime(["2026-02-01", "2026-02-02"], utc=True))
    result = frame.cio.track(user_id="id", event="Logged In", timestamp="now", dry_run=True)
    assert result.attrs["cio"]["timestamp"] is None
    expected = [t.value // 1_000_000 for t in frame["now"]]
    assert [time_ms(m) for m in result["message_id"]] == expected


def test_spark_jobs_stamp_once_on_the_driver() -> None:
    """A Spark job ships one stamp to every task, so a retried task keeps its ids."""
    pytest.importorskip("pyspark")
    from pandas_cio.catalogue.operations import get_operation
    from pandas_cio.spark._job import _resolve_args

    empty = pd.DataFrame(columns=pd.Index(["uid", "at"], dtype=object))
    args = _resolve_args(get_operation("track"), empty, {"user_id": "uid", "event": "E"})
    assert isinstance(args["timestamp"], pandas_cio.prepare.roles.Lit)
    frame = pd.DataFrame({"uid": ["u1", "u2"]})
    first = pandas_cio.pipeline.send.run(frame, "track", args, dry_run=True)
    retried = pandas_cio.pipeline.send.run(frame, "track", args, dry_run=True)
    pd.testing.assert_series_equal(first["message_id"], retried["message_id"])
    column = _resolve_args(get_operation("track"), empty, {"user_id": "uid", "timestamp": "at"})
    assert column["timestamp"] == pandas_cio.prepare.roles.Col("at")


def test_a_resend_with_the_first_ids_keeps_them(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """The README's recipe: re-sending stamped events with the result's ids repeats those ids."""
    first = LOGINS.cio.track(user_id="id", event="Logged In", client=cio_client)
    failed = first["status"] == "sent"  # as if they had failed
    again = LOGINS.assign(mid=first["message_id"])[failed].cio.track(
        user_id="id", event="Logged In", message_id="mid", client=cio_client
    )
    pd.testing.assert_series_equal(again["message_id"], first["message_id"])
    assert len(set(cio_fake.message_ids)) == 2


def test_a_stamped_event_resent_with_its_ids_lands_once(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """Re-sending stamped events keeps them single only with the first send's ids.

    The first send's calls reached the service (as a request whose answer was
    lost would have). A plain re-send stamps anew: new ids, so Journeys holds
    each event twice. Passing the first result's ids makes the copies drop.
    """
    events = pd.DataFrame({"uid": ["u1", "u2"], "event_name": ["Signed Up", "Upgraded"]})
    first = events.cio.track(user_id="uid", event="event_name", client=cio_client)
    assert (first["status"] == "sent").all()

    again = events.assign(mid=first["message_id"]).cio.track(
        user_id="uid", event="event_name", message_id="mid", client=cio_client
    )
    assert again["message_id"].tolist() == first["message_id"].tolist()
    assert len(cio_fake.journeys.events("u1")) == 1
    assert len(cio_fake.journeys.events("u2")) == 1

    plain = events.cio.track(user_id="uid", event="event_name", client=cio_client)
    assert set(plain["message_id"]).isdisjoint(first["message_id"])
    assert len(cio_fake.journeys.events("u1")) == 2  # the hazard the README warns of
