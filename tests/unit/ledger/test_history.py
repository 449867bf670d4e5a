"""The plan of a send (dry run with a ledger) and the sync history the ledger keeps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.errors import AuthenticationError
from pandas_cio.ledger.history import fingerprint
from pandas_cio.testing import FakeCio


def people(plans: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"id": list(plans), "plan": list(plans.values())})


NIGHTS = [
    {"u1": "free", "u2": "free", "u3": "pro"},
    {"u1": "free", "u2": "pro", "u4": "pro"},
    {"u2": "pro", "u4": "team", "u5": "free", "u6": "free"},
]


def test_a_dry_runs_plan_is_what_the_following_send_does(
    client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Night after night, the dry run's counts equal the real send's statuses."""
    ledger = tmp_path / "ledger.sqlite"
    for plans in NIGHTS:
        frame = people(plans)
        options = dict(user_id="id", ledger=ledger, mirror="delete")
        plan = frame.cio.identify(**options, dry_run=True).attrs["cio"]["plan"]
        result = frame.cio.identify(**options, client=client)
        sent = result[result["action"] == "send"]["status"].value_counts()
        deleted = result[result["action"] == "mirror_delete"]["status"].value_counts()
        assert plan["new"] + plan["changed"] == sent.get("sent", 0)
        assert plan["unchanged"] == sent.get("unchanged", 0)
        assert plan["delete"] == deleted.get("sent", 0)
        assert result.attrs["cio"]["plan"] == plan


@settings(max_examples=10, deadline=None)
@given(
    first=st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from(["x", "y"]), max_size=8),
    second=st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from(["x", "y"]), max_size=8),
)
def test_plan_counts_match_the_send_for_any_two_frames(
    fake: FakeCio, first: dict[str, str], second: dict[str, str]
) -> None:
    """For any two nights, the second night's plan predicts its send exactly."""
    with (
        pandas_cio.Client(fake.api_key, base_url=fake.url, retry=0) as client,
        pandas_cio.SqliteLedger(":memory:") as ledger,
    ):
        people(first).cio.identify(user_id="id", ledger=ledger, client=client)
        frame = people(second)
        plan = frame.cio.identify(user_id="id", ledger=ledger, dry_run=True).attrs["cio"]["plan"]
        result = frame.cio.identify(user_id="id", ledger=ledger, client=client)
        counts = result["status"].value_counts()
        assert (plan["new"], plan["changed"], plan["unchanged"]) == (
            sum(k not in first for k in second),
            sum(k in first and first[k] != v for k, v in second.items()),
            sum(first.get(k) == v for k, v in second.items()),
        )
        assert plan["new"] + plan["changed"] == counts["sent"]
        assert plan["unchanged"] == counts["unchanged"]


def test_a_dry_runs_report_starts_with_the_plan(tmp_path: Path) -> None:
    """The report of a dry run with a ledger opens with its plan."""
    frame = people(NIGHTS[0])
    report = frame.cio.identify(
        user_id="id", ledger=tmp_path / "l.sqlite", dry_run=True
    ).cio.report()
    text = str(report).splitlines()
    assert text[0] == "plan of cio.identify: 3 new, 0 changed, 0 unchanged"
    assert text[1] == "  would send 3 rows"
    assert report.to_dict()["plan"]["new"] == 3
    assert "plan of cio.identify" in report._repr_html_()


def test_runs_has_one_row_per_send_with_the_results_counts(
    client: pandas_cio.Client, tmp_path: Path
) -> None:
    """Three sends, three rows: statuses, requests, retries and the frame's fingerprint."""
    ledger = tmp_path / "ledger.sqlite"
    results, frames = [], []
    for plans in NIGHTS:
        frame = people(plans)
        frames.append(frame)
        results.append(
            frame.cio.identify(user_id="id", ledger=ledger, mirror="delete", client=client)
        )
    frame.cio.identify(user_id="id", ledger=ledger, dry_run=True)  # not a send: not recorded
    with pandas_cio.SqliteLedger(ledger) as store:
        history = store.runs()
    assert len(history) == 3
    for (_, row), result, frame in zip(history.iterrows(), results, frames, strict=True):
        counts = result["status"].value_counts()
        for status, rows in counts.items():
            assert row[str(status)] == rows
        assert row["rows"] == len(result)
        assert row["requests"] == result.attrs["cio"]["requests"]
        assert row["retries"] == result.attrs["cio"]["retries"]
        assert row["deleted"] == (result["action"] == "mirror_delete").sum()
        assert row["outcome"] == "completed"
        assert row["fingerprint"] == fingerprint(frame)
        assert row["started"] <= row["ended"]
    assert history["deleted"].tolist() == [0, 1, 1]


def test_a_send_that_ends_early_is_recorded_with_how_it_ended(
    fake: FakeCio, tmp_path: Path
) -> None:
    """A refused key ends the send with AuthenticationError; the history says so."""
    ledger = tmp_path / "ledger.sqlite"
    with (
        pandas_cio.Client("wrong-key", base_url=fake.url, retry=0) as client,
        pytest.raises(AuthenticationError),
    ):
        people(NIGHTS[0]).cio.identify(user_id="id", ledger=ledger, client=client)
    with pandas_cio.SqliteLedger(ledger) as store:
        history = store.runs()
    assert history["outcome"].tolist() == ["AuthenticationError"]
    assert history["failed"].iloc[0] == 3
    assert "refused the API key" in history["reasons"].iloc[0]


def test_a_store_without_history_still_sends(client: pandas_cio.Client) -> None:
    """A Ledger of one's own without record_run() keeps no history and sends as before."""

    class Plain:
        def __init__(self) -> None:
            self.last: dict[tuple[str, str], str] = {}

        def delivered(self, operation: str, message_ids: list[str]) -> set[str]:
            return set()

        def latest(self, operation: str, keys: list[str]) -> dict[str, str]:
            return {k: self.last[operation, k] for k in keys if (operation, k) in self.last}

        def record(self, operation: str, entries: list[pandas_cio.ledger.LedgerEntry]) -> None:
            for message_id, key in entries:
                self.last[operation, str(key)] = message_id

        def flush(self) -> None:
            pass

    result = people(NIGHTS[0]).cio.identify(user_id="id", ledger=Plain(), client=client)
    assert (result["status"] == "sent").all()


def test_the_runs_command_prints_the_history(
    client: pandas_cio.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pandas-cio runs --ledger FILE prints one line per send."""
    ledger = tmp_path / "ledger.sqlite"
    for plans in NIGHTS[:2]:
        people(plans).cio.identify(user_id="id", ledger=ledger, client=client)
    assert cli.main(["runs", "--ledger", str(ledger)]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["operation", "started", "outcome", "rows"]
    assert len(lines) == 3 and all("completed" in line for line in lines[1:])
    assert cli.main(["runs", "--ledger", str(tmp_path / "missing.sqlite")]) == cli.EXIT_USAGE


def test_fingerprint_handles_cells_pandas_cannot_hash() -> None:
    """Nested dict cells are fingerprinted by their text."""
    frame = pd.DataFrame({"id": ["u1"], "meta": [{"a": 1}]})
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.assign(meta=[{"a": 2}]))


def test_fingerprint_of_text_columns_ignores_how_arrow_holds_them() -> None:
    """Equal text columns print alike whether sliced, concatenated or fresh; values count."""
    fresh = pd.DataFrame({"id": ["u1", "u2", None, "u4"], "plan": ["a", "b", "c", "d"]})
    pieces = pd.concat([fresh.iloc[:1], fresh.iloc[1:3], fresh.iloc[3:]])
    assert fingerprint(pieces) == fingerprint(fresh)
    assert fingerprint(fresh.iloc[1:3]) == fingerprint(fresh.iloc[1:3].copy())
    assert fingerprint(fresh) != fingerprint(fresh.assign(id=["u1", "u2", "", "u4"]))
    assert fingerprint(fresh) != fingerprint(fresh.assign(plan=["ab", "", "c", "d"]))
