"""Quality gates: too many invalid or too-large rows stop a send before any request."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.errors import QualityGateError, SendError
from pandas_cio.outcome.gates import allowed, check_limit
from pandas_cio.testing import FakeCio


def frame_with_invalid(rows: int, invalid: int) -> pd.DataFrame:
    """People of whom the first ``invalid`` have no id."""
    ids = [None] * invalid + [f"u{i}" for i in range(rows - invalid)]
    return pd.DataFrame({"id": ids, "plan": ["pro"] * rows})


def test_two_percent_invalid_with_a_one_percent_gate_makes_no_request(
    fake: FakeCio, client: pandas_cio.Client
) -> None:
    """max_invalid=0.01 stops a frame with 2% invalid rows; the error holds the dry run."""
    frame = frame_with_invalid(100, 2)
    with pytest.raises(QualityGateError, match="2 of 100 rows are invalid") as caught:
        frame.cio.identify(user_id="id", max_invalid=0.01, client=client)
    assert fake.requests == []
    result = caught.value.result
    assert isinstance(caught.value, SendError)
    assert result["status"].value_counts().to_dict() == {
        **{s.value: 0 for s in pandas_cio.Status},
        "invalid": 2,
        "dry_run": 98,
    }
    assert result.attrs["cio"]["dry_run"] is True


def test_a_frame_within_the_gate_is_sent(fake: FakeCio, client: pandas_cio.Client) -> None:
    """A count limit allows exactly that many invalid rows."""
    result = frame_with_invalid(100, 2).cio.identify(user_id="id", max_invalid=2, client=client)
    assert (result["status"] == "sent").sum() == 98
    assert fake.requests


def test_too_large_rows_have_their_own_gate(fake: FakeCio, client: pandas_cio.Client) -> None:
    """max_too_large=0 stops a send with one call over the 32 KB limit."""
    frame = pd.DataFrame({"id": ["u1", "u2"], "blob": ["x", "y" * 40_000]})
    with pytest.raises(QualityGateError, match="too_large"):
        frame.cio.identify(user_id="id", max_too_large=0, journeys=False, client=client)
    assert fake.requests == []


def test_a_gate_stop_is_in_the_history(client: pandas_cio.Client, tmp_path: Path) -> None:
    """With a ledger, the stopped send is a history row saying why, and nothing is recorded."""
    ledger = tmp_path / "ledger.sqlite"
    with pytest.raises(QualityGateError):
        frame_with_invalid(10, 5).cio.identify(
            user_id="id", ledger=ledger, max_invalid=0.1, client=client
        )
    with pandas_cio.SqliteLedger(ledger) as store:
        history = store.runs()
        assert len(store) == 0
    assert history["outcome"].tolist() == ["QualityGateError"]
    assert history["reasons"].iloc[0].startswith("5 of 10 rows are invalid")


@pytest.mark.parametrize(
    ("value", "error"),
    [(True, TypeError), ("1%", TypeError), (-1, ValueError), (1.5, ValueError)],
)
def test_bad_limits_are_refused(value: object, error: type[Exception]) -> None:
    """A limit is a count or a fraction from 0.0 to 1.0."""
    with pytest.raises(error, match="max_invalid"):
        check_limit("max_invalid", value)  # type: ignore[arg-type]


def test_a_fraction_rounds_down() -> None:
    """0.01 of 150 rows allows one row, of 99 rows none."""
    assert (allowed(0.01, 150), allowed(0.01, 99), allowed(3, 99)) == (1, 0, 3)


def test_the_cli_exits_5_when_a_gate_stops_the_send(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-invalid 1% on a file with 2% invalid rows: exit 5, the report, no request."""
    path = tmp_path / "people.csv"
    frame_with_invalid(100, 2).to_csv(path, index=False)
    status = cli.main(
        ["identify", str(path), "--user-id", "id", "--dry-run", "--max-invalid", "1%"]
    )
    assert status == cli.EXIT_QUALITY_GATE == 5
    captured = capsys.readouterr()
    assert "2 of 100 rows are invalid" in captured.err
    assert "invalid" in captured.out
    assert (
        cli.main(["identify", str(path), "--user-id", "id", "--dry-run", "--max-invalid", "2"]) == 1
    )
    assert cli.main(["identify", str(path), "--user-id", "id", "--max-invalid", "lots"]) == 2


def test_a_ledger_failure_before_a_gated_send_is_a_ledger_send_error(
    client: pandas_cio.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gated sends look every row up first; a failing lookup still ends as LedgerSendError."""

    def broken(self: pandas_cio.SqliteLedger, operation: str, keys: object) -> dict[str, str]:
        raise pandas_cio.LedgerError("cannot read the ledger: database disk image is malformed")

    monkeypatch.setattr(pandas_cio.SqliteLedger, "latest", broken)
    with pytest.raises(pandas_cio.LedgerSendError) as caught:
        frame_with_invalid(10, 0).cio.identify(
            user_id="id", ledger=tmp_path / "l.sqlite", max_invalid=0, client=client
        )
    assert (caught.value.result["status"] == "failed").all()


def test_the_library_says_nothing_was_sent_once_in_python_words(
    client: pandas_cio.Client,
) -> None:
    """The exception names the keyword and ``.result``, and says "nothing was sent" once."""
    with pytest.raises(QualityGateError) as caught:
        frame_with_invalid(3, 1).cio.identify(user_id="id", max_invalid=0, client=client)
    assert str(caught.value) == (
        "1 of 3 rows are invalid, more than max_invalid=0 allows (0); nothing was sent. "
        "The exception's .result is the dry-run result: fix the rows it lists or raise the limit"
    )


@pytest.mark.parametrize(
    ("extra", "advice"),
    [
        ((), "Pass --out FILE for the dry-run result: fix the rows it lists or raise the limit"),
        (
            ("--out", "{out}"),
            "See {out} (--out) for the dry-run result: fix the rows it lists or raise the limit",
        ),
        (
            ("--rejects", "{out}"),
            "See {out} (--rejects) for the rows not sent: fix the rows it lists or raise the limit",
        ),
    ],
)
def test_the_cli_says_the_gate_in_its_own_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], advice: str
) -> None:
    """Before: "nothing sent: ... max_invalid=0 allows (0); nothing was sent. The exception's
    .result is the dry-run result": a Python keyword, a Python attribute, said twice."""
    path, out = tmp_path / "p.csv", tmp_path / "out.csv"
    frame_with_invalid(3, 1).to_csv(path, index=False)
    argv = ["identify", str(path), "--user-id", "id", "--dry-run", "--max-invalid", "0"]
    argv += [word.format(out=out) for word in extra]
    assert cli.main(argv) == cli.EXIT_QUALITY_GATE
    err = capsys.readouterr().err
    assert err == (
        "pandas-cio identify: error: 1 of 3 rows are invalid, more than --max-invalid 0 "
        f"allows (0); nothing was sent. {advice.format(out=out)}\n"
    )
    assert err.count("nothing") == 1
    assert ".result" not in err and "max_invalid" not in err


def test_the_cli_says_a_fraction_as_it_was_given_to_the_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-too-large 1% is a fraction; the message names the option, not the keyword."""
    path = tmp_path / "p.csv"
    frame = pd.DataFrame({"id": ["u1", "u2"], "blob": ["x" * 40_000, "y"]})
    frame.to_csv(path, index=False)
    argv = ["identify", str(path), "--user-id", "id", "--dry-run", "--max-too-large", "1%"]
    argv.append("--no-journeys")  # the Journeys check would make the row invalid first
    assert cli.main(argv) == cli.EXIT_QUALITY_GATE
    err = capsys.readouterr().err
    assert "1 of 2 rows are too_large, more than --max-too-large 0.01 allows (0)" in err
    assert "max_too_large" not in err
