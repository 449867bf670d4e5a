"""Mirror deletes: what the ledger holds and today's frame lacks is deleted, with a guard."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.errors import AuthenticationError, MirrorGuardError
from pandas_cio.ledger.mirror import MIN_ALLOWED_DELETES, label
from pandas_cio.testing import FakeCio, Fault

STAMP = "2026-01-05T00:00:00Z"


def people(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [r[0] for r in rows], "plan": [r[1] for r in rows]})


def deletions(result: pd.DataFrame) -> pd.DataFrame:
    return result[result["action"] != "send"]


def test_three_nightly_runs_leave_journeys_equal_to_the_last_frame(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """People added, changed and removed over three nights: Journeys holds the last frame."""
    ledger = tmp_path / "ledger.sqlite"
    nights = [
        people(("u1", "free"), ("u2", "free"), ("u3", "pro"), ("u4", "pro")),
        people(("u1", "free"), ("u2", "pro"), ("u4", "pro"), ("u5", "free")),
        people(("u2", "pro"), ("u5", "team"), ("u6", "free")),
    ]
    removed = [[], ["user:u3"], ["user:u1", "user:u4"]]
    for frame, gone in zip(nights, removed, strict=True):
        result = frame.cio.identify(user_id="id", ledger=ledger, mirror="delete", client=client)
        expected = dict(zip(frame["id"], ({"plan": p} for p in frame["plan"]), strict=True))
        assert fake.journeys.people == expected
        deleted = deletions(result)
        assert deleted["key"].tolist() == gone
        assert (deleted["status"] == "sent").all()
        assert (deleted["action"] == "mirror_delete").all()
        assert deleted["message_id"].notna().all()
        assert result.attrs["cio"]["mirror"]["deleted"] == len(gone)
        assert list(result.index[: len(frame)]) == list(frame.index)
    gone_people = [d.target for d in fake.journeys.deletions if d.kind == "person"]
    assert gone_people == [("u3",), ("u1",), ("u4",)]
    with pandas_cio.SqliteLedger(ledger) as store:
        assert sorted(store.keys("identify")) == ["user:u2", "user:u5", "user:u6"]


def test_deletions_are_user_deleted_calls_with_ulids_and_the_send_stamp(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Each deletion is a User Deleted track call with its own id, stamped like any event."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    result = people(("u1", "a")).cio.identify(
        user_id="id", ledger=ledger, mirror="delete", client=client
    )
    call = next(c for c in fake.calls if c.get("event") == "User Deleted")
    assert call["userId"] == "u2" and call["type"] == "track"
    assert call["messageId"] == deletions(result)["message_id"].iloc[0]
    assert call["timestamp"]


def test_suppress_suppresses_instead_of_deleting(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """mirror="suppress" sends User Suppressed for the people gone from the frame."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    result = people(("u1", "a")).cio.identify(
        user_id="id", ledger=ledger, mirror="suppress", client=client
    )
    assert deletions(result)["action"].tolist() == ["mirror_suppress"]
    assert [c["userId"] for c in fake.calls if c.get("event") == "User Suppressed"] == ["u2"]


def test_an_empty_frame_deletes_nothing_and_says_why(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """An empty export is refused before any request; the error carries the dry-run result."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    before = len(fake.requests)
    with pytest.raises(MirrorGuardError, match="no row to send") as caught:
        people().cio.identify(
            user_id="id", ledger=ledger, mirror="delete", mirror_max_deletes=None, client=client
        )
    assert len(fake.requests) == before
    assert set(fake.journeys.people) == {"u1", "u2"}
    planned = caught.value.result
    assert planned["status"].tolist() == ["dry_run", "dry_run"]
    assert planned.attrs["cio"]["plan"]["delete"] == 2
    with pandas_cio.SqliteLedger(ledger) as store:
        assert sorted(store.keys("identify")) == ["user:u1", "user:u2"]
        assert store.runs()["outcome"].tolist() == ["completed", "MirrorGuardError"]


def test_a_truncated_frame_is_refused_unless_the_limit_allows(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Deleting more than a quarter of the ledger's keys (and more than 10) needs a limit."""
    ledger = tmp_path / "ledger.sqlite"
    full = people(*((f"u{i}", "a") for i in range(40)))
    full.cio.identify(user_id="id", ledger=ledger, client=client)
    truncated = full.iloc[:20]  # 20 deletions: more than max(10, 0.25 * 40)
    with pytest.raises(MirrorGuardError, match="would delete 20 of the 40"):
        truncated.cio.identify(user_id="id", ledger=ledger, mirror="delete", client=client)
    assert len(fake.journeys.people) == 40
    result = truncated.cio.identify(
        user_id="id", ledger=ledger, mirror="delete", mirror_max_deletes=20, client=client
    )
    assert (deletions(result)["status"] == "sent").sum() == 20
    assert len(fake.journeys.people) == 20


def test_small_tables_may_churn_up_to_the_floor(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A fraction limit always allows MIN_ALLOWED_DELETES deletions."""
    ledger = tmp_path / "ledger.sqlite"
    frame = people(*((f"u{i}", "a") for i in range(MIN_ALLOWED_DELETES + 1)))
    frame.cio.identify(user_id="id", ledger=ledger, client=client)
    result = frame.iloc[:1].cio.identify(
        user_id="id", ledger=ledger, mirror="delete", client=client
    )
    assert len(deletions(result)) == MIN_ALLOWED_DELETES


def test_a_row_that_cannot_be_sent_keeps_its_person(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A person whose row is invalid today is still in the export: not deleted."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    today = people(("u1", "a"), ("u2", "x" * 2000))  # over Journeys' attribute value limit
    result = today.cio.identify(user_id="id", ledger=ledger, mirror="delete", client=client)
    assert result["status"].iloc[1] == "invalid"
    assert deletions(result).empty
    assert "u2" in fake.journeys.people


def test_a_relationship_removed_from_members_is_unrelated(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """objects.relate with mirror="unrelate": a member gone from the table is unrelated."""
    ledger = tmp_path / "ledger.sqlite"
    members = pd.DataFrame(
        {"person": ["u1", "u2", "u3"], "account": ["acme", "acme", "globex"], "role": ["a"] * 3}
    )
    options = dict(user_id="person", object_id="account", object_type_id="1", ledger=ledger)
    members.cio.objects.relate(**options, mirror="unrelate", client=client)
    assert set(fake.journeys.relationships) == {
        ("1", "acme", "u1"),
        ("1", "acme", "u2"),
        ("1", "globex", "u3"),
    }
    result = members.iloc[[0, 2]].cio.objects.relate(**options, mirror="unrelate", client=client)
    assert set(fake.journeys.relationships) == {("1", "acme", "u1"), ("1", "globex", "u3")}
    row = deletions(result).iloc[0]
    assert (row["action"], row["status"]) == ("mirror_unrelate", "sent")
    assert [c["event"] for c in fake.calls[-1:]] == ["Relationship Deleted"]


def test_objects_and_devices_mirror_their_deletions(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """objects.upsert and devices.register with mirror="delete" delete what is gone."""
    ledger = tmp_path / "ledger.sqlite"
    accounts = pd.DataFrame({"id": ["acme", "globex"], "name": ["Acme", "Globex"]})
    accounts.cio.objects.upsert(object_id="id", object_type_id="1", ledger=ledger, client=client)
    accounts.iloc[:1].cio.objects.upsert(
        object_id="id", object_type_id="1", ledger=ledger, mirror="delete", client=client
    )
    assert set(fake.journeys.objects) == {("1", "acme")}
    devices = pd.DataFrame(
        {
            "person": ["u1", "u1"],
            "token": ["t1", "t2"],
            "platform": ["ios", "android"],
            "at": pd.to_datetime([STAMP] * 2),
        }
    )
    options = dict(user_id="person", token="token", platform="platform", timestamp="at")
    devices.cio.devices.register(**options, ledger=ledger, client=client)
    result = devices.iloc[1:].cio.devices.register(
        **options, ledger=ledger, mirror="delete", client=client
    )
    assert set(fake.journeys.devices) == {("u1", "t2")}
    assert deletions(result)["key"].tolist() == ['["device","user:u1","t1"]']


def test_a_dry_run_plans_the_deletions_and_deletes_nothing(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A dry run with mirror lists the deletions as dry_run rows; the ledger keeps the keys."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    before = len(fake.requests)
    result = people(("u1", "a")).cio.identify(
        user_id="id", ledger=ledger, mirror="delete", dry_run=True
    )
    assert deletions(result)["status"].tolist() == ["dry_run"]
    assert len(fake.requests) == before
    with pandas_cio.SqliteLedger(ledger) as store:
        assert len(store.keys("identify")) == 2


def test_failed_deletions_stay_in_the_ledger(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """A deletion the service refused is not forgotten: the next run tries again."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    fake.refuse(lambda call: call.get("event") == "User Deleted")
    result = people(("u1", "a")).cio.identify(
        user_id="id", ledger=ledger, mirror="delete", client=client
    )
    assert deletions(result)["status"].iloc[0] != "sent"
    fake.clear_refusals()
    with pandas_cio.SqliteLedger(ledger) as store:
        assert "user:u2" in store.keys("identify")
    again = people(("u1", "a")).cio.identify(
        user_id="id", ledger=ledger, mirror="delete", client=client
    )
    assert deletions(again)["status"].tolist() == ["sent"]


def test_the_input_rows_can_still_be_selected_by_the_result() -> None:
    """Deletion labels never collide with the input's, flat or MultiIndex."""
    assert list(label(pd.RangeIndex(3), 2)) == ["mirror:0", "mirror:1"]
    multi = label(pd.MultiIndex.from_tuples([("a", 1)], names=["x", "y"]), 1)
    assert list(multi) == [("mirror:0", "")] and list(multi.names) == ["x", "y"]


@pytest.mark.parametrize(
    ("method", "kwargs", "match"),
    [
        ("identify", {"mirror": "delete"}, "needs ledger="),
        ("identify", {"mirror": "unrelate", "ledger": ":memory:"}, "must be one of 'delete'"),
        ("track", {"mirror": "delete", "ledger": ":memory:", "event": "E"}, "has no mirror="),
        (
            "identify",
            {"mirror": "delete", "ledger": ":memory:", "mirror_max_deletes": 2.0},
            "from 0.0 to 1.0",
        ),
    ],
)
def test_mirror_arguments_are_checked_before_anything_is_sent(
    method: str, kwargs: dict[str, object], match: str
) -> None:
    """Bad mirror= arguments raise ValueError naming the argument."""
    frame = people(("u1", "a"))
    with pytest.raises(ValueError, match=match):
        getattr(frame.cio, method)(user_id="id", dry_run=True, **kwargs)


def test_a_refused_key_during_the_deletions_keeps_them_in_the_ledger(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """The deletions' own early stop raises with every row: input rows done, deletions failed."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    fake.inject(Fault(status=401, count=1))  # the first request is the deletion's
    with pytest.raises(AuthenticationError) as caught:
        people(("u1", "a")).cio.identify(
            user_id="id", ledger=ledger, mirror="delete", client=client
        )
    result = caught.value.result
    assert result["status"].tolist() == ["unchanged", "failed"]
    assert result["action"].tolist() == ["send", "mirror_delete"]
    with pandas_cio.SqliteLedger(ledger) as store:
        assert "user:u2" in store.keys("identify")
        assert store.runs()["outcome"].tolist() == ["completed", "AuthenticationError"]


def test_a_send_that_stops_early_sends_no_deletion(
    fake: FakeCio, client: pandas_cio.Client, tmp_path: Path
) -> None:
    """When the frame's own rows stop the send, the deletions are failed rows, never sent."""
    ledger = tmp_path / "ledger.sqlite"
    people(("u1", "a"), ("u2", "b")).cio.identify(user_id="id", ledger=ledger, client=client)
    fake.inject(Fault(status=401))
    with pytest.raises(AuthenticationError) as caught:
        people(("u1", "changed")).cio.identify(
            user_id="id", ledger=ledger, mirror="delete", client=client
        )
    fake.clear_faults()
    result = caught.value.result
    assert result["status"].tolist() == ["failed", "failed"]
    assert result["error"].iloc[1] == "not sent: the send stopped first"
    assert not [c for c in fake.calls if c.get("event") == "User Deleted"]


def test_the_cli_mirrors_and_writes_out_and_rejects(
    fake: FakeCio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--mirror delete: --out holds the deletion rows, --rejects only input rows."""
    from pandas_cio.cli import main as cli

    monkeypatch.setenv("CIO_API_KEY", fake.api_key)
    fake.reset()
    ledger, source = tmp_path / "ledger.sqlite", tmp_path / "people.csv"
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.csv"
    argv = ["identify", str(source), "--user-id", "id", "--ledger", str(ledger)]
    argv += ["--base-url", fake.url, "--mirror", "delete", "--out", str(out)]
    argv += ["--rejects", str(rejects)]
    people(("u1", "a"), ("u2", "b"), ("u3", "c")).to_csv(source, index=False)
    assert cli.main(argv) == cli.EXIT_OK
    pd.DataFrame({"id": ["u1", None], "plan": ["a", "b"]}).to_csv(source, index=False)
    assert cli.main(argv) == cli.EXIT_NOT_ALL_SENT
    written = pd.read_parquet(out)
    assert written["row"].tolist() == ["0", "1", "mirror:0", "mirror:1"]
    assert written["key"].tolist()[2:] == ["user:u2", "user:u3"]
    assert pd.read_csv(rejects)["_cio_row"].tolist() == [1]
    assert set(fake.journeys.people) == {"u1"}


@settings(max_examples=10, deadline=None)
@given(
    nights=st.lists(
        st.dictionaries(st.sampled_from("abcdef"), st.sampled_from(["x", "y"]), max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_after_any_nights_journeys_holds_the_last_whole_export(
    fake: FakeCio, nights: list[dict[str, str]]
) -> None:
    """Any sequence of exports: Journeys and the ledger hold the last export the guard let by."""
    fake.reset()
    expected: dict[str, str] = {}
    with (
        pandas_cio.Client(fake.api_key, base_url=fake.url, retry=0) as client,
        pandas_cio.SqliteLedger(":memory:") as ledger,
    ):
        for night in nights:
            frame = pd.DataFrame({"id": list(night), "plan": list(night.values())})
            options = dict(user_id="id", ledger=ledger, mirror="delete", mirror_max_deletes=None)
            if not night and expected:
                with pytest.raises(MirrorGuardError):
                    frame.cio.identify(**options, client=client)
                continue
            result = frame.cio.identify(**options, client=client)
            assert sorted(deletions(result)["key"]) == sorted(
                f"user:{k}" for k in expected if k not in night
            )
            expected = night
        people_now = {k: v["plan"] for k, v in fake.journeys.people.items()}
        assert people_now == expected
        assert sorted(ledger.keys("identify")) == sorted(f"user:{k}" for k in expected)


def test_the_cli_says_the_mirror_guard_in_its_own_words(
    fake: FakeCio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: "nothing sent: mirror='delete' would delete ... mirror_max_deletes=0.25 ...;
    nothing was sent or deleted. ... pass a larger mirror_max_deletes= (None for no limit)"."""
    from pandas_cio.cli import main as cli

    monkeypatch.setenv("CIO_API_KEY", fake.api_key)
    fake.reset()
    ledger, source, out = tmp_path / "ledger.sqlite", tmp_path / "p.csv", tmp_path / "o.csv"
    argv = ["identify", str(source), "--user-id", "id", "--ledger", str(ledger)]
    argv += ["--base-url", fake.url]
    people(*((f"u{i}", "a") for i in range(12))).to_csv(source, index=False)
    assert cli.main(argv) == cli.EXIT_OK
    people(("u1", "a")).to_csv(source, index=False)
    capsys.readouterr()
    status = cli.main([*argv, "--mirror", "delete", "--out", str(out)])
    assert status == cli.EXIT_QUALITY_GATE
    assert capsys.readouterr().err == (
        "pandas-cio identify: error: --mirror delete would delete 11 of the 12 keys the "
        "ledger holds, more than --mirror-max-deletes 0.25 allows (10); nothing was sent or "
        "deleted. Check that the export is whole, or pass a larger --mirror-max-deletes "
        f"(100% allows every deletion). See {out} (--out) for the dry-run result, the "
        "planned deletions included\n"
    )
    assert pd.read_csv(out)["status"].tolist() == ["unchanged"] + ["dry_run"] * 11
    pd.DataFrame({"id": [], "plan": []}).to_csv(source, index=False)
    assert cli.main([*argv, "--mirror", "suppress"]) == cli.EXIT_QUALITY_GATE
    err = capsys.readouterr().err
    assert err == (
        "pandas-cio identify: error: the frame has no row to send, and --mirror suppress would "
        "delete all 12 keys the ledger holds; nothing was sent or deleted. An empty export is "
        "taken for a broken one: to delete everyone, send the deletions yourself "
        "(pandas-cio suppress)\n"
    )
    assert cli.main([*argv, "--mirror", "delete", "--mirror-max-deletes", "100%"]) == (
        cli.EXIT_QUALITY_GATE
    )
    assert set(fake.journeys.people) == {f"u{i}" for i in range(12)}
    people(("u1", "a")).to_csv(source, index=False)
    assert cli.main([*argv, "--mirror", "delete", "--mirror-max-deletes", "100%"]) == cli.EXIT_OK
    assert set(fake.journeys.people) == {"u1"}


def test_the_library_says_the_guard_in_python_words_once(
    client: pandas_cio.Client, tmp_path: Path
) -> None:
    """The exception names mirror_max_deletes= and says "nothing was sent" once."""
    ledger = tmp_path / "ledger.sqlite"
    people(*((f"u{i}", "a") for i in range(12))).cio.identify(
        user_id="id", ledger=ledger, client=client
    )
    with pytest.raises(MirrorGuardError) as caught:
        people(("u1", "a")).cio.identify(
            user_id="id", ledger=ledger, mirror="delete", client=client
        )
    assert str(caught.value) == (
        "mirror='delete' would delete 11 of the 12 keys the ledger holds, more than "
        "mirror_max_deletes=0.25 allows (10); nothing was sent or deleted. Check that the "
        "export is whole, or pass a larger mirror_max_deletes= (None for no limit)"
    )
