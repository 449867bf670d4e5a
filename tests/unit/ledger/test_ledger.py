"""The delivery ledger: the store, the skip rules, and a send with a ledger end to end."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frame_cases import people
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
import pandas_cio.ledger.store
from pandas_cio.catalogue.operations import OPERATIONS, get_operation
from pandas_cio.delivery.transport import default_retry
from pandas_cio.ledger import (
    Ledger,
    LedgerEntry,
    LedgerError,
    LedgerRun,
    SqliteLedger,
    call_key,
    open_run,
)
from pandas_cio.ledger.schema import pack_id, unpack_id
from pandas_cio.pipeline.send import run
from pandas_cio.prepare.batching import Calls
from pandas_cio.testing import FakeCio, Fault


class MemoryLedger:
    """A second store, written only against the Ledger protocol (the plug-in example)."""

    def __init__(self) -> None:
        self.ids: set[tuple[str, str]] = set()
        self.last: dict[tuple[str, str], str] = {}
        self.records = 0
        self.flushes = 0

    def delivered(self, operation: str, message_ids: Sequence[str]) -> set[str]:
        return {m for m in message_ids if (operation, m) in self.ids}

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        return {k: self.last[operation, k] for k in keys if (operation, k) in self.last}

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        self.records += 1
        for message_id, key in entries:
            self.ids.add((operation, message_id))
            if key is not None:
                self.last[operation, key] = message_id

    def flush(self) -> None:
        self.flushes += 1


class BrokenLedger(MemoryLedger):
    """A store whose writes fail, as a full disk or a lost connection would."""

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        raise LedgerError("the warehouse is unreachable")


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """Each implementation of the protocol, empty."""
    if request.param == "memory":
        yield MemoryLedger()
        return
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        yield ledger


# The store


def test_store_round_trip(store: Ledger) -> None:
    """Recorded messageIds read back as delivered and the last one per key as latest."""
    store.record("identify", [LedgerEntry("m1", "k1"), LedgerEntry("m2", "k1")])
    store.record("track", [LedgerEntry("e1", None)])
    store.flush()
    assert store.delivered("identify", ["m1", "m2", "m3"]) == {"m1", "m2"}
    assert store.latest("identify", ["k1", "k2"]) == {"k1": "m2"}
    assert store.delivered("track", ["e1", "m1"]) == {"e1"}


def test_store_scopes_by_operation(store: Ledger) -> None:
    """A call delivered by one operation says nothing about another operation."""
    store.record("identify", [LedgerEntry("m1", "k1")])
    store.flush()
    assert store.delivered("objects.upsert", ["m1"]) == set()
    assert store.latest("objects.upsert", ["k1"]) == {}


def test_store_record_is_idempotent(store: Ledger) -> None:
    """Recording the same batch twice (a resend after a crash) changes nothing."""
    entries = [LedgerEntry(f"m{i}", f"k{i}") for i in range(5)]
    store.record("identify", entries)
    store.flush()
    store.record("identify", entries)
    store.flush()
    assert store.delivered("identify", [e.message_id for e in entries]) == {
        e.message_id for e in entries
    }
    assert store.latest("identify", ["k3"]) == {"k3": "m3"}


def test_sqlite_lookups_span_many_sql_chunks(tmp_path: Path) -> None:
    """Lookups of more ids than one SQL statement binds still answer for every id."""
    ids = [f"m{i}" for i in range(2_500)]
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record("track", [LedgerEntry(m, None) for m in ids[::2]])
        ledger.flush()
        assert ledger.delivered("track", ids) == set(ids[::2])
        assert len(ledger) == 1_250


def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    """What one SqliteLedger recorded, a later one on the same file reads."""
    path = tmp_path / "sub" / "dir" / "ledger.sqlite"
    with SqliteLedger(path) as first:
        first.record("identify", [LedgerEntry("m1", "k1")])
    with SqliteLedger(str(path)) as second:
        assert second.latest("identify", ["k1"]) == {"k1": "m1"}
        mode = second._connection().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_sqlite_lookups_see_records_after_flush(tmp_path: Path) -> None:
    """Journaled rows count in len() at once and reach lookups at flush (or close)."""
    message_id = "0123456789abcdef0123456789abcdef"  # a library id, stored as 16 bytes
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record("identify", [LedgerEntry(message_id, "k"), LedgerEntry("own-id", "j")])
        assert len(ledger) == 2
        assert ledger.latest("identify", ["k", "j"]) == {}
        ledger.flush()
        assert ledger.latest("identify", ["k", "j"]) == {"k": message_id, "j": "own-id"}
        assert ledger.delivered("identify", [message_id, message_id.upper()]) == {message_id}
        assert len(ledger) == 2


@given(st.text(max_size=40) | st.text("0123456789abcdefABCDEF ", min_size=32, max_size=32))
def test_stored_message_ids_read_back_unchanged(message_id: str) -> None:
    """Whatever a messageId holds, packing it for storage and unpacking gives it back."""
    packed = pack_id(message_id)
    assert unpack_id(packed) == message_id
    library_id = len(message_id) == 32 and set(message_id) <= set("0123456789abcdef")
    assert isinstance(packed, bytes) == library_id  # only the library's ids are compacted


def test_sqlite_folds_in_what_a_killed_writer_journaled(tmp_path: Path) -> None:
    """Rows recorded by a process that died before flushing are visible on the next open."""
    path = tmp_path / "l.sqlite"
    dying = SqliteLedger(path)
    dying.record("identify", [LedgerEntry("m1", "k1")])
    dying.record("identify", [LedgerEntry("m2", "k1")])
    dying._connection().close()  # as a SIGKILL would: no flush, no close
    with SqliteLedger(path) as ledger:
        assert ledger.latest("identify", ["k1"]) == {"k1": "m2"}
        assert ledger.delivered("identify", ["m1", "m2"]) == {"m1", "m2"}


def test_sqlite_flushes_by_itself_during_a_long_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After MERGE_ROWS journaled rows the ledger folds them in without waiting for the end."""
    monkeypatch.setattr(pandas_cio.ledger.store, "MERGE_ROWS", 10)
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record("track", [LedgerEntry(f"m{i}", None) for i in range(6)])
        assert ledger.delivered("track", ["m0"]) == set()
        ledger.record("track", [LedgerEntry(f"m{i}", None) for i in range(6, 12)])
        assert ledger.delivered("track", ["m0", "m11"]) == {"m0", "m11"}


def test_sqlite_to_frame(tmp_path: Path) -> None:
    """to_frame lists every delivery with its key and whether it is its key's latest."""
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record("identify", [LedgerEntry("m1", "k1"), LedgerEntry("m2", "k1")])
        ledger.record("track", [LedgerEntry("e1", None)])
        frame = ledger.to_frame().set_index("message_id")
        only = ledger.to_frame("track")
    assert list(frame.columns) == ["operation", "key", "delivered_at", "latest"]
    assert frame.loc["m2", "latest"] and not frame.loc["m1", "latest"]
    assert pd.isna(frame.loc["e1", "latest"]) and pd.isna(frame.loc["e1", "key"])
    assert (
        str(frame["delivered_at"].dtype).startswith("datetime64")
        and frame["delivered_at"].dt.tz is not None
    )
    assert only["message_id"].tolist() == ["e1"]


def test_sqlite_refuses_another_database(tmp_path: Path) -> None:
    """A path to some other SQLite database is refused, not written into."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id TEXT)")
    conn.close()
    with pytest.raises(LedgerError, match="not a pandas_cio ledger"):
        SqliteLedger(path)


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """A file that is not SQLite at all raises LedgerError naming the path."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, " * 100)
    with pytest.raises(LedgerError, match=r"notes\.txt"):
        SqliteLedger(path)


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    """A ledger written by a newer schema version is refused with a clear message."""
    path = tmp_path / "l.sqlite"
    SqliteLedger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LedgerError, match="newer pandas_cio"):
        SqliteLedger(path)


def test_sqlite_closed_ledger_raises(tmp_path: Path) -> None:
    """Using a closed ledger raises LedgerError; closing twice is fine."""
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    ledger.close()
    ledger.close()
    assert "closed" in repr(ledger)
    with pytest.raises(LedgerError, match="closed"):
        ledger.delivered("track", ["m1"])


def test_sqlite_write_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    """A writer that cannot get the file within the timeout gets a LedgerError saying so."""
    path = tmp_path / "l.sqlite"
    ledger = SqliteLedger(path, timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write in progress
    try:
        with pytest.raises(LedgerError, match=r"another writer held it for more than 0\.05 s"):
            ledger.record("track", [LedgerEntry("m1", None)])
        with pytest.raises(LedgerError, match="another writer"):
            SqliteLedger(path, timeout=0.05)
        assert ledger.delivered("track", ["m1"]) == set()  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ledger.record("track", [LedgerEntry("m1", None)])
    ledger.flush()
    assert ledger.delivered("track", ["m1"]) == {"m1"}
    ledger.close()


def test_memory_ledger_satisfies_the_protocol() -> None:
    """The protocol is runtime-checkable, so a plug-in store is accepted by shape."""
    assert isinstance(MemoryLedger(), Ledger)
    assert not isinstance(object(), Ledger)


# Keys


def test_call_key_by_call_type() -> None:
    """identify is keyed by the person, group by object (and person), events by nothing."""
    assert call_key({"type": "identify", "userId": "u1", "anonymousId": "a"}) == "user:u1"
    assert call_key({"type": "identify", "anonymousId": "a"}) == "anonymous:a"
    upsert = {"type": "group", "groupId": "acme", "traits": {"object_type_id": "2"}}
    assert call_key(upsert) == '["2","acme"]'
    relate = {**upsert, "userId": "u1"}
    assert call_key(relate) == '["2","acme","user:u1"]'
    for kind in ("track", "page", "screen", "alias"):
        assert call_key({"type": kind, "userId": "u1"}) is None


def test_call_key_reads_a_missing_object_type_as_1() -> None:
    """An object sent with and without object_type_id 1 has one key, as in the service."""
    bare = {"type": "group", "groupId": "acme", "traits": {"name": "Acme"}}
    typed = {"type": "group", "groupId": "acme", "traits": {"object_type_id": "1"}}
    assert call_key(bare) == call_key(typed)


ids = st.text(min_size=1, max_size=8)


@given(st.tuples(ids, ids, ids), st.tuples(ids, ids, ids))
def test_call_key_is_injective(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    """Different (object type, object, person) never share a key, whatever the ids hold."""
    (ta, ga, ua), (tb, gb, ub) = a, b

    def group(t: str, g: str, u: str) -> str | None:
        return call_key(
            {"type": "group", "groupId": g, "userId": u, "traits": {"object_type_id": t}}
        )

    assert (group(ta, ga, ua) == group(tb, gb, ub)) == (a == b)


# Skip rules (LedgerRun without a network)


class _Builder:
    """Just enough of ResultBuilder to see which positions were skipped."""

    def __init__(self) -> None:
        self.skipped: list[int] = []

        class Stats:
            calls = 0
            call_bytes = 0

        self.stats = Stats()

    def mark(self, positions: list[int], status: pandas_cio.Status) -> None:
        assert status == pandas_cio.Status.UNCHANGED
        self.skipped.extend(positions)


def _identify(user: str, plan: str) -> bytes:
    import orjson

    call = {"type": "identify", "userId": user, "traits": {"plan": plan}}
    return orjson.dumps({**call, "messageId": f"{user}:{plan}"})


def _changed(sync: LedgerRun, calls: list[bytes], builder: _Builder) -> list[int]:
    """The positions of ``calls`` the gate lets through (ids and keys read here, by decoding)."""
    import orjson

    decoded = [orjson.loads(c) for c in calls]
    ids = [d["messageId"] for d in decoded]
    keys = [call_key(d) for d in decoded]
    positions = np.arange(len(calls), dtype=np.int64)
    kept, _ = sync.filter_run(positions, Calls.of(calls), ids, keys, builder)  # type: ignore[arg-type]
    return list(kept.tolist())


def _pass(sync: LedgerRun, calls: list[bytes]) -> list[int]:
    """Run calls through the gate, confirm every batch, return the positions let through."""
    sent = _changed(sync, calls, _Builder())
    sync.record(sent)
    return sent


def test_keyed_change_and_change_back_are_both_sent() -> None:
    """A trait that changes and changes back is sent each time (per key, not per id)."""
    store = MemoryLedger()
    sync = LedgerRun(store, "identify")
    assert _pass(sync, [_identify("u", "free")]) == [0]
    assert _pass(LedgerRun(store, "identify"), [_identify("u", "free")]) == []
    assert _pass(LedgerRun(store, "identify"), [_identify("u", "pro")]) == [0]
    assert _pass(LedgerRun(store, "identify"), [_identify("u", "free")]) == [0]


def test_later_row_of_a_sent_key_is_not_skipped() -> None:
    """Rows B then A of one key, with A delivered last time, are both sent: A ends last."""
    store = MemoryLedger()
    _pass(LedgerRun(store, "identify"), [_identify("u", "A")])
    sent = _pass(LedgerRun(store, "identify"), [_identify("u", "B"), _identify("u", "A")])
    assert sent == [0, 1]
    assert store.latest("identify", ["user:u"]) == {"user:u": "u:A"}


def test_event_like_calls_skip_by_message_id() -> None:
    """For track calls a row is unchanged exactly when its messageId was delivered before."""
    import orjson

    def event(i: int) -> bytes:
        return orjson.dumps({"type": "track", "userId": "u", "event": "E", "messageId": f"e{i}"})

    store = MemoryLedger()
    assert _pass(LedgerRun(store, "track"), [event(1), event(2)]) == [0, 1]
    assert _pass(LedgerRun(store, "track"), [event(2), event(3), event(1)]) == [1]


def test_full_refresh_sends_all_and_still_records() -> None:
    """full_refresh ignores the ledger for skipping but records what it sends."""
    store = MemoryLedger()
    _pass(LedgerRun(store, "identify"), [_identify("u", "A")])
    assert _pass(LedgerRun(store, "identify", full_refresh=True), [_identify("v", "B")]) == [0]
    assert _pass(LedgerRun(store, "identify", full_refresh=True), [_identify("u", "A")]) == [0]
    assert store.latest("identify", ["user:v"]) == {"user:v": "v:B"}


def test_unconfirmed_calls_are_not_recorded() -> None:
    """Only positions passed to record() reach the store."""
    store = MemoryLedger()
    sync = LedgerRun(store, "identify")
    calls = [_identify("u", "A"), _identify("v", "B")]
    assert _changed(sync, calls, _Builder()) == [0, 1]
    sync.record([1])
    assert store.latest("identify", ["user:u", "user:v"]) == {"user:v": "v:B"}


def test_open_run_checks_its_arguments() -> None:
    """A ledger that is neither a path nor a Ledger, or full_refresh alone, is refused."""
    identify = get_operation("identify")
    assert open_run(None, identify) is None
    with pytest.raises(TypeError, match="ledger="):
        open_run(42, identify)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="full_refresh"):
        open_run(None, identify, full_refresh=True)


# Sends with a ledger, end to end over HTTP


def test_second_run_sends_nothing(fake: FakeCio, client: pandas_cio.Client, tmp_path: Path) -> None:
    """Re-running an unchanged frame makes no request and marks every row unchanged."""
    path = tmp_path / "ledger.sqlite"
    frame = people(200)
    first = frame.cio.identify(user_id="id", client=client, ledger=path)
    assert (first["status"] == "sent").all()
    requests = len(fake.requests)
    second = frame.cio.identify(user_id="id", client=client, ledger=path)
    assert (second["status"] == "unchanged").all()
    assert len(fake.requests) == requests
    assert second["message_id"].tolist() == first["message_id"].tolist()
    assert second.attrs["cio"]["calls"] == 0 and second.attrs["cio"]["call_bytes"] == 0
    assert second.cio.report().counts["unchanged"] == len(frame)


def test_changed_rows_are_the_only_ones_sent(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Changing some rows' traits sends exactly those rows, with new messageIds."""
    path = tmp_path / "ledger.sqlite"
    frame = people(200)
    frame.cio.identify(user_id="id", client=client, ledger=path)
    fake.reset()
    changed = frame.copy()
    rows = [3, 50, 199]
    changed.loc[rows, "score"] = -1
    result = changed.cio.identify(user_id="id", client=client, ledger=path)
    assert result.index[result["status"] == "sent"].tolist() == rows
    assert sorted(fake.message_ids) == sorted(result.loc[rows, "message_id"])
    assert result.attrs["cio"]["calls"] == len(rows)


def test_new_rows_are_sent(fake: FakeCio, client: pandas_cio.Client, tmp_path: Path) -> None:
    """People added since the last run are sent; the others are unchanged."""
    path = tmp_path / "ledger.sqlite"
    frame = people(100)
    frame.iloc[:60].cio.identify(user_id="id", client=client, ledger=path)
    result = frame.cio.identify(user_id="id", client=client, ledger=path)
    assert (result["status"].iloc[:60] == "unchanged").all()
    assert (result["status"].iloc[60:] == "sent").all()


def test_failed_batches_are_not_recorded(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Rows whose batch failed are not in the ledger, so the next run sends them."""
    path = tmp_path / "ledger.sqlite"
    frame = people(200)
    fake.inject(Fault(status=500, count=1))
    with pandas_cio.Client(
        fake.api_key, base_url=fake.url, retry=default_retry(0), workers=1, max_batch_bytes=2_000
    ) as one_by_one:
        first = frame.cio.identify(user_id="id", client=one_by_one, ledger=path)
    failed = first.index[first["status"] == "failed"]
    assert len(failed) > 0 and (first["status"] != "failed").sum() > 0
    second = frame.cio.identify(user_id="id", client=client, ledger=path)
    assert second.index[second["status"] == "sent"].tolist() == failed.tolist()
    with SqliteLedger(path) as ledger:
        assert set(ledger.to_frame()["message_id"]) == set(first["message_id"])


def test_dry_run_with_a_ledger_reports_but_records_nothing(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A dry run says which rows are unchanged and which would go, and records nothing."""
    path = tmp_path / "ledger.sqlite"
    frame = people(50)
    frame.iloc[:20].cio.identify(user_id="id", client=client, ledger=path)
    result = frame.cio.identify(user_id="id", ledger=path, dry_run=True)
    assert result["status"].value_counts()[["unchanged", "dry_run"]].tolist() == [20, 30]
    with SqliteLedger(path) as ledger:
        assert len(ledger) == 20


def test_full_refresh_resends_everything(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """full_refresh=True sends unchanged rows again (same messageIds)."""
    path = tmp_path / "ledger.sqlite"
    frame = people(30)
    first = frame.cio.identify(user_id="id", client=client, ledger=path)
    fake.reset()
    again = frame.cio.identify(user_id="id", client=client, ledger=path, full_refresh=True)
    assert (again["status"] == "sent").all()
    assert sorted(fake.message_ids) == sorted(first["message_id"])


def test_track_skips_events_already_delivered(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """An event row is unchanged iff the same event (same messageId) was delivered."""
    path = tmp_path / "ledger.sqlite"
    events = pd.DataFrame(
        {
            "user": ["u1", "u2", "u1"],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
        }
    )
    events.iloc[:2].cio.track(
        user_id="user", event="Signed In", timestamp="ts", client=client, ledger=path
    )
    result = events.cio.track(
        user_id="user", event="Signed In", timestamp="ts", client=client, ledger=path
    )
    assert result["status"].tolist() == ["unchanged", "unchanged", "sent"]


def test_operations_have_separate_records(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """One ledger file serves several operations without one skipping the other's rows."""
    path = tmp_path / "ledger.sqlite"
    frame = people(10)
    frame.cio.identify(user_id="id", client=client, ledger=path)
    result = frame.cio.track(
        user_id="id", event="Synced", timestamp="now", client=client, ledger=path
    )
    assert (result["status"] == "sent").all()


@pytest.mark.skipif("objects.upsert" not in OPERATIONS, reason="no object operations")
def test_objects_are_keyed_by_type_and_id(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Objects skip per (type, id): only the changed object is sent again."""
    path = tmp_path / "ledger.sqlite"
    objects = pd.DataFrame({"id": ["acme", "globex"], "name": ["Acme", "Globex"]})
    args = {"object_id": "id", "object_type_id": "1"}
    run(objects, "objects.upsert", args, client=client, ledger=path)
    objects.loc[1, "name"] = "Globex Corp"
    result = run(objects, "objects.upsert", args, client=client, ledger=path)
    assert result["status"].tolist() == ["unchanged", "sent"]
    with SqliteLedger(path) as ledger:
        keys = set(ledger.to_frame("objects.upsert")["key"])
    assert keys == {'["1","acme"]', '["1","globex"]'}


def test_a_ledger_object_is_left_open(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A Ledger the caller passes stays open for the next send; a path is closed after use."""
    frame = people(20)
    with SqliteLedger(tmp_path / "mine.sqlite") as mine:
        frame.cio.identify(user_id="id", client=client, ledger=mine)
        assert len(mine) == 20
        again = frame.cio.identify(user_id="id", client=client, ledger=mine)
        assert (again["status"] == "unchanged").all()
    store = MemoryLedger()
    frame.cio.identify(user_id="id", client=client, ledger=store)
    assert len(store.ids) == 20 and store.records >= 1


def test_record_failure_is_logged_and_the_send_goes_on(
    fake: FakeCio,
    client: pandas_cio.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store that cannot write leaves every row sent and warns that they will be resent."""
    frame = people(40)
    with caplog.at_level(logging.WARNING, logger="pandas_cio.ledger.store"):
        result = frame.cio.identify(user_id="id", client=client, ledger=BrokenLedger())
    assert (result["status"] == "sent").all()
    assert "will be sent again" in caplog.text and "unreachable" in caplog.text
    assert "user-" not in caplog.text  # no personal data in the warning


def test_lookup_failure_stops_before_sending(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A ledger that cannot be read raises LedgerError and nothing is sent."""
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"garbage " * 512)
    with pytest.raises(LedgerError):
        people(10).cio.identify(user_id="id", client=client, ledger=path)
    assert fake.requests == []


class InterruptingLedger(SqliteLedger):
    """A SqliteLedger whose third record() is hit by Ctrl-C (as if pressed right then)."""

    calls = 0

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        super().record(operation, entries)


def test_ctrl_c_leaves_the_ledger_true_and_a_rerun_completes(fake: FakeCio, tmp_path: Path) -> None:
    """Ctrl-C mid-send: the ledger lists only delivered calls; re-running delivers the rest."""
    fake.reset()
    fake.clear_faults()
    path = tmp_path / "ledger.sqlite"
    frame = people(3_000)
    with (
        pandas_cio.Client(fake.api_key, base_url=fake.url, max_batch_bytes=4_000) as small,
        InterruptingLedger(path) as ledger,
        pytest.raises(pandas_cio.InterruptedSendError) as stopped,
    ):
        frame.cio.identify(user_id="id", client=small, ledger=ledger)
    partial = stopped.value.result
    received = set(fake.message_ids)
    with SqliteLedger(path) as ledger:
        recorded = set(ledger.to_frame()["message_id"])
    assert 0 < len(recorded) < len(frame)
    assert recorded <= received
    assert recorded <= set(partial.loc[partial["status"] == "sent", "message_id"])

    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        result = frame.cio.identify(user_id="id", client=client, ledger=path)
    assert (result["status"] == "unchanged").sum() == len(recorded)
    counts = pd.Series(fake.message_ids).value_counts()
    assert set(counts.index) == set(result["message_id"])
    assert set(counts.index[counts > 1]) <= received - recorded


def test_threads_with_their_own_ledger_objects_share_one_file(tmp_path: Path) -> None:
    """Writers in several threads, each with its own connection, lose nothing."""
    path = tmp_path / "shared.sqlite"
    SqliteLedger(path).close()

    def write(worker: int) -> None:
        with SqliteLedger(path) as ledger:
            for batch in range(20):
                ids = [f"w{worker}-b{batch}-{i}" for i in range(50)]
                ledger.record("track", [LedgerEntry(m, None) for m in ids])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with SqliteLedger(path) as ledger:
        assert len(ledger) == 4 * 20 * 50
        assert ledger._connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_one_ledger_object_shared_by_threads(tmp_path: Path) -> None:
    """One SqliteLedger used from several threads at once serialises its calls."""
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:

        def write(worker: int) -> None:
            for batch in range(20):
                entries = [LedgerEntry(f"{worker}-{batch}-{i}", f"k{worker}") for i in range(20)]
                ledger.record("identify", entries)
                ledger.delivered("identify", [e.message_id for e in entries])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ledger.flush()
        assert len(ledger) == 4 * 20 * 20
        assert ledger.latest("identify", ["k0", "k3"]) == {"k0": "0-19-19", "k3": "3-19-19"}


@pytest.mark.parametrize("order", ["sorted", "shuffled", "repeats"])
def test_merge_keeps_the_last_confirmed_call_of_each_key(order: str) -> None:
    """Keys journaled in key order merge without a sort; any order gives the same latest."""
    keys = [f"user:{i:04d}" for i in range(300)]
    if order == "shuffled":
        keys = keys[::-1]
    elif order == "repeats":
        keys = sorted(keys[:100] * 3)
    with SqliteLedger(":memory:") as store:
        for start in range(0, len(keys), 70):
            part = keys[start : start + 70]
            ids = [f"m{start + i}" for i in range(len(part))]
            store.record("identify", [LedgerEntry(m, k) for m, k in zip(ids, part, strict=True)])
        store.flush()
        expected = {k: f"m{i}" for i, k in enumerate(keys)}  # the last row of each key wins
        assert store.latest("identify", sorted(expected)) == expected
        assert len(store) == len(keys)
