"""The `pandas-cio` command: the installed entry point run against the fake service.

The acceptance tests run the console script pip installed next to the
interpreter, as a user would; the parsing details are tested in-process.
"""

from __future__ import annotations

import argparse
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.catalogue.operations import OPERATIONS
from pandas_cio.cli import main as cli
from pandas_cio.cli import options as cli_options
from pandas_cio.testing import FakeCio, Fault

ENTRY_POINT = Path(sys.executable).parent / "pandas-cio"


def run(
    *args: str | Path, fake: FakeCio | None = None, key: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the installed `pandas-cio` with CIO_API_KEY set to `key` (or the fake's key)."""
    if not ENTRY_POINT.exists():
        pytest.fail(f"{ENTRY_POINT} is missing: install the package (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    if key is not None or fake is not None:
        env["CIO_API_KEY"] = key if key is not None else fake.api_key  # type: ignore[union-attr]
    command = [str(ENTRY_POINT), *map(str, args)]
    if fake is not None:
        command += ["--base-url", fake.url]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def main(
    *args: str | Path,
    fake: FakeCio | None,
    key: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """Run cli.main in this process; return the exit status, stdout and stderr."""
    monkeypatch.delenv("CIO_REGION", raising=False)
    if key is None:
        monkeypatch.delenv("CIO_API_KEY", raising=False)
    else:
        monkeypatch.setenv("CIO_API_KEY", key)
    argv = [*map(str, args), *(["--base-url", fake.url] if fake is not None else [])]
    try:
        status = cli.main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def people_parquet(tmp_path: Path) -> Path:
    """Five people with every id present."""
    path = tmp_path / "people.parquet"
    pd.DataFrame(
        {
            "id": ["u1", "u2", "u3", "u4", "u5"],
            "email": [f"p{i}@example.com" for i in range(5)],
            "plan": ["pro", None, "free", "pro", "team"],
        }
    ).to_parquet(path)
    return path


@pytest.fixture
def people_with_gap_csv(tmp_path: Path) -> Path:
    """Four people, the third without an id."""
    path = tmp_path / "people.csv"
    path.write_text("id,plan,seats\n007,pro,3\n008,free,\n,pro,1\n010,team,5\n")
    return path


def test_identify_parquet_sends_every_row_and_exits_0(
    cio_fake: FakeCio, people_parquet: Path, tmp_path: Path
) -> None:
    """Every row sent: exit 0, the report printed, the result file one row per input row."""
    out = tmp_path / "result.csv"
    done = run("identify", people_parquet, "--user-id", "id", "--out", out, fake=cio_fake)
    assert done.returncode == 0, done.stderr
    assert "cio.identify: 5 of 5 rows sent" in done.stdout
    result = pd.read_csv(out)
    assert result["row"].tolist() == [0, 1, 2, 3, 4]
    assert set(result["status"]) == {"sent"}
    assert sorted(c["userId"] for c in cio_fake.calls) == ["u1", "u2", "u3", "u4", "u5"]
    assert "plan" not in cio_fake.calls[1]["traits"]  # the missing plan is left out
    assert set(result["message_id"]) == set(cio_fake.message_ids)


def test_track_csv_keeps_ids_as_text_and_sends_timestamps(
    cio_fake: FakeCio, tmp_path: Path
) -> None:
    """CSV ids keep leading zeros; the event column and timestamps land in the calls."""
    events = tmp_path / "events.csv"
    events.write_text(
        "uid,name,ts,amount\n007,Signed In,2024-05-01 10:00:00,\n010,Invoice Paid,2024-05-02,9.5\n"
    )
    done = run(
        "track", events, "--user-id", "uid", "--event", "name", "--timestamp", "ts", fake=cio_fake
    )
    assert done.returncode == 0, done.stderr
    calls = sorted(cio_fake.calls, key=lambda c: c["userId"])
    assert [(c["userId"], c["event"]) for c in calls] == [
        ("007", "Signed In"),
        ("010", "Invoice Paid"),
    ]
    assert calls[0]["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert calls[1]["properties"] == {"amount": 9.5}
    assert "properties" not in calls[0]


def test_jsonl_from_stdin_with_a_constant_event(cio_fake: FakeCio) -> None:
    """`-` reads standard input; an event that names no column is sent on every row."""
    lines = '{"uid": "a", "plan": "pro"}\n{"uid": "b", "plan": "free"}\n'
    done = run(
        "track", "-", "--format", "jsonl", "--user-id", "uid", "--event", "Signed Up",
        fake=cio_fake, stdin=lines,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {c["event"] for c in cio_fake.calls} == {"Signed Up"}
    assert [c["properties"]["plan"] for c in cio_fake.calls] == ["pro", "free"]


def test_some_rows_not_sent_exits_1_and_writes_the_result(
    cio_fake: FakeCio, people_with_gap_csv: Path, tmp_path: Path
) -> None:
    """A row without an id: exit 1, its status in --out and the row itself in --rejects."""
    out, rejects = tmp_path / "result.parquet", tmp_path / "rejects.jsonl"
    done = run(
        "identify", people_with_gap_csv, "--user-id", "id", "--out", out, "--rejects", rejects,
        fake=cio_fake,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    result = pd.read_parquet(out)
    assert result["status"].astype(str).tolist() == ["sent", "sent", "invalid", "sent"]
    assert result.loc[2, "error"] == "id (user_id=): is missing"
    rejected = pd.read_json(rejects, lines=True)
    assert rejected[["_cio_row", "plan", "_cio_status"]].values.tolist() == [[2, "pro", "invalid"]]
    assert len(cio_fake.calls) == 3
    assert "id (--user-id): is missing" in done.stdout


def test_failed_requests_exit_1(
    cio_fake: FakeCio,
    people_parquet: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The service failing after all retries marks rows failed: exit 1."""
    cio_fake.inject(Fault(status=500))
    out = tmp_path / "result.csv"
    status, stdout, _ = main(
        "identify", people_parquet, "--user-id", "id", "--retries", "0", "--out", out,
        fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 1
    assert set(pd.read_csv(out)["status"]) == {"failed"}
    assert "HTTP 500" in stdout


def test_dry_run_needs_no_key_and_sends_nothing(
    cio_fake: FakeCio, people_with_gap_csv: Path
) -> None:
    """--dry-run without CIO_API_KEY exits by validity alone and makes no request."""
    done = run("identify", people_with_gap_csv, "--user-id", "id", "--dry-run")
    assert done.returncode == 1  # one row is invalid even in a dry run
    assert "(dry run): 3 of 4 rows ready to send" in done.stdout
    assert cio_fake.requests == []


@pytest.mark.parametrize(
    ("arguments", "key", "message"),
    [
        (["--user-id", "uid"], "fake", "did you mean 'id'?"),
        (["--user-id", "id"], None, "set the CIO_API_KEY environment variable"),
    ],
    ids=["missing-column", "missing-key"],
)
def test_bad_usage_exits_2_before_sending(
    cio_fake: FakeCio, people_parquet: Path, arguments: list[str], key: str | None, message: str
) -> None:
    """Usage and configuration errors exit 2 with a one-line reason and send nothing."""
    done = run("identify", people_parquet, *arguments, fake=cio_fake,
               key=cio_fake.api_key if key else "")  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert cio_fake.requests == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--user-id", "id", "--api-key", "k"], "--api-key: the key comes only from"),
        (["--user-id", "id", "--out", "result.xlsx"], "cannot write result.xlsx"),
        (["--user-id", "id", "--context", "{oops"], "--context: not valid JSON"),
        (["--user-id", "id", "--rate-limit", "fast"], "expected N/SECONDS"),
        (["--user-id", "id", "--region", "mars"], "invalid choice: 'mars'"),
        (["--user-id", "id", "--full-refresh"], "only means something with --ledger"),
    ],
    ids=[
        "no-key-option",
        "unknown-output-format",
        "bad-json",
        "bad-rate",
        "bad-region",
        "refresh-without-ledger",
    ],
)
def test_more_bad_usage_exits_2(
    cio_fake: FakeCio,
    people_parquet: Path,
    arguments: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every kind of bad usage exits 2 with its reason on stderr and sends nothing."""
    status, _, err = main("identify", people_parquet, *arguments, fake=cio_fake,
                          key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert status == 2
    assert message in err
    assert cio_fake.requests == []


def test_unreadable_file_exits_2(
    cio_fake: FakeCio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing file, or one that is not what its extension says, is a usage error."""
    broken = tmp_path / "people.parquet"
    broken.write_text("not parquet")
    for path in (broken, tmp_path / "absent.csv"):
        status, _, err = main(
            "identify", path, "--user-id", "id",
            fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
        )  # fmt: skip
        assert status == 2
        assert "cannot read" in err


def test_refused_key_exits_2_and_keeps_the_partial_result(
    cio_fake: FakeCio,
    people_parquet: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A key the service refuses stops the send, writes the result and exits 2."""
    out = tmp_path / "result.csv"
    status, stdout, err = main("identify", people_parquet, "--user-id", "id", "--out", out,
                               fake=cio_fake, key="not-the-key", monkeypatch=monkeypatch,
                               capsys=capsys)  # fmt: skip
    assert status == 2
    assert "refused the key" in err
    assert "not-the-key" not in stdout + err
    assert "sent" not in set(pd.read_csv(out)["status"])


def test_semantic_event_command(cio_fake: FakeCio, tmp_path: Path) -> None:
    """`semantic ecommerce "Product Viewed"` sends that event with the file's columns."""
    views = tmp_path / "views.csv"
    views.write_text("uid,product_id,price\nu1,p9,19.5\n")
    done = run("semantic", "ecommerce", "Product Viewed", views, "--user-id", "uid", fake=cio_fake)
    assert done.returncode == 0, done.stderr
    (call,) = cio_fake.calls
    assert (call["event"], call["userId"]) == ("Product Viewed", "u1")
    assert call["properties"] == {"product_id": "p9", "price": 19.5}


def test_help_exits_0() -> None:
    """--help lists the commands, the environment and the exit statuses."""
    done = run("--help")
    assert done.returncode == 0
    for word in ("identify", "track", "semantic", "demo", "exit status", "CIO_API_KEY"):
        assert word in done.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"pandas-cio {pandas_cio.__version__}"


# In-process tests of how the commands are generated and parsed.


def leaf_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser, keyed by the command as typed."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found[" ".join(words)] = parser
        for action in subs:
            for name, child in action.choices.items():
                if child not in found.values() and name.replace("_", "-") == name:
                    walk(child, [*words, name])

    walk(cli.build_parser(), [])
    return found


def test_every_operation_with_an_accessor_method_has_a_command() -> None:
    """Commands are generated from the operations table: none is left out."""
    methods = {op.method or op.name for op in OPERATIONS.values()}
    commands = {c.method for c in cli.commands()}
    accessor = pd.DataFrame().cio
    for method in methods:
        target = accessor
        try:
            for part in method.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        assert method in commands
    assert {"identify", "track"} <= commands


def test_every_keyword_of_the_accessor_is_an_option_and_documented() -> None:
    """Each command's --help shows one option per accessor keyword, with a help text."""
    parsers = leaf_parsers()
    for command in cli.commands():
        parser = parsers[" ".join(command.words)]
        text = parser.format_help()
        function = cli_options.resolve(pd.DataFrame().cio, command.method)
        keywords = [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind is not p.VAR_KEYWORD and p.name not in cli_options._SEND_OPTIONS
        ][1 if command.takes_event else 0 :]
        assert [o.param for o in command.options] == keywords
        for option in command.options:
            assert option.flag in text
            assert option.help
        for action in parser._actions:
            assert action.help, f"{action.option_strings} of {command.method} has no help"


def test_demo_is_a_command() -> None:
    """`pandas-cio demo` parses to the demo (no operation)."""
    assert cli.build_parser().parse_args(["demo"]).command is None


@pytest.mark.parametrize(
    ("path", "override", "expected"),
    [
        ("people.csv", None, "csv"),
        ("people.csv.gz", None, "csv"),
        ("people.tsv", None, "csv"),
        ("people.parquet", None, "parquet"),
        ("events.jsonl", None, "jsonl"),
        ("events.ndjson.zst", None, "jsonl"),
        ("events.txt", "jsonl", "jsonl"),
    ],
)
def test_file_format_from_extension(path: str, override: str | None, expected: str) -> None:
    """The format comes from the extension (compression suffixes skipped) or --format."""
    assert cli.file_format(path, override) == expected


def test_file_format_unknown_extension_is_a_usage_error() -> None:
    """An unknown extension asks for --format."""
    with pytest.raises(cli.UsageError, match="--format"):
        cli.file_format("people.xlsx")


def test_column_lists_and_json_constants() -> None:
    """`a,b` is a list, `a=x` renames, a JSON object is a constant, other text passes through."""
    columns = cli_options.Option("traits", "columns", "traits")
    assert cli_options.argument(columns, "plan, seats") == ["plan", "seats"]
    assert cli_options.argument(columns, "plan=tier,seats") == {"plan": "tier", "seats": "seats"}
    context = cli_options.Option("context", "json", "context")
    assert cli_options.argument(context, '{"ip": "1.2.3.4"}').value == {"ip": "1.2.3.4"}
    assert cli_options.argument(context, "ctx_column") == "ctx_column"
    with pytest.raises(cli.UsageError, match="not valid JSON"):
        cli_options.argument(context, '{"ip": ')


def test_written_result_round_trips(tmp_path: Path) -> None:
    """write_frame keeps the index as a `row` column in every format."""
    frame = pd.DataFrame({"status": ["sent", "invalid"], "error": [None, "bad"]}, index=[3, 7])
    for name in ("r.csv", "r.parquet", "r.jsonl"):
        cli.write_frame(frame, str(tmp_path / name))
        back = cli.read_frame(str(tmp_path / name), cli.file_format(name))
        assert back["row"].tolist() == [3, 7]
        assert back["status"].tolist() == ["sent", "invalid"]


def test_ledger_makes_a_second_run_send_nothing(
    cio_fake: FakeCio,
    people_parquet: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With --ledger, a re-run finds every row unchanged, sends nothing and exits 0."""
    ledger = tmp_path / "ledger.sqlite"

    def send(*extra: str) -> tuple[int, str, str]:
        return main(
            "identify", people_parquet, "--user-id", "id", "--ledger", ledger, *extra,
            fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
        )  # fmt: skip

    assert send()[0] == 0
    assert len(cio_fake.calls) == 5
    status, out, _ = send()
    assert status == 0
    assert "0 of 5 rows sent, 5 unchanged" in out
    assert len(cio_fake.calls) == 5
    assert send("--full-refresh")[0] == 0
    assert len(cio_fake.calls) == 10


# Values as data engineers have them


def test_csv_text_stays_text(
    cio_fake: FakeCio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """02134 and +15551234 stay strings, NA and None are text; only empty cells are missing."""
    people = tmp_path / "people.csv"
    people.write_text(
        "id,zip,phone,note,seats,price,trial\n"
        "1,02134,+15551234,NA,36,9.5,true\n"
        "2,10001,15551234,None,,1e3,False\n"
    )
    status, _, err = main(
        "identify", people, "--user-id", "id",
        fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    traits = {c["userId"]: c["traits"] for c in cio_fake.calls}
    assert traits["1"] == {
        "zip": "02134",
        "phone": "+15551234",
        "note": "NA",
        "seats": 36,
        "price": 9.5,
        "trial": True,
    }
    # 15551234 beside +15551234 keeps the column text; the empty seats cell is left out.
    assert traits["2"] == {
        "zip": "10001",
        "phone": "15551234",
        "note": "None",
        "price": 1000.0,
        "trial": False,
    }


def test_read_frame_converts_only_canonical_columns(tmp_path: Path) -> None:
    """A column is numbers or booleans only when every non-empty cell is written canonically."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,d,e,f,g\n-3, 4,007,1.50,123456789012345678901,null,x\n0,5,8,2,1,,\n")
    frame = cli.read_frame(str(path), "csv")
    assert frame["a"].dtype == "Int64" and frame["a"].tolist() == [-3, 0]
    assert frame["b"].tolist() == [" 4", "5"]  # a space is not canonical
    assert frame["c"].tolist() == ["007", "8"]
    assert frame["d"].dtype == "Float64" and frame["d"].tolist() == [1.5, 2.0]
    assert frame["e"].tolist() == ["123456789012345678901", "1"]  # beyond 64 bits: text
    assert frame["f"].tolist()[0] == "null" and pd.isna(frame["f"].iloc[1])
    assert pd.isna(frame["g"].iloc[1])


def test_jsonl_keeps_the_types_it_has(
    cio_fake: FakeCio,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """JSON Lines: string ids stay strings, numbers numbers, date-like names are not dates."""
    lines = tmp_path / "people.jsonl"
    lines.write_text(
        '{"id": "007", "zip": "02134", "created_at": "2024-01-01", "seats": 3, "n": "NA"}\n'
        '{"id": 8, "zip": "10001", "created_at": "2024-01-02", "seats": null, "n": null}\n'
    )
    status, _, err = main(
        "identify", lines, "--user-id", "id",
        fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    traits = {c["userId"]: c["traits"] for c in cio_fake.calls}
    assert traits["007"] == {"zip": "02134", "created_at": "2024-01-01", "seats": 3, "n": "NA"}
    assert traits["8"] == {"zip": "10001", "created_at": "2024-01-02"}


@pytest.mark.parametrize("name", ["rejects.csv", "rejects.jsonl", "rejects.parquet"])
def test_a_rejects_file_sends_again_without_its_own_columns(
    cio_fake: FakeCio,
    people_with_gap_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """Send, write rejects, fix nothing, send the rejects file: only the user's columns go."""
    rejects, again, out = tmp_path / name, tmp_path / f"again-{name}", tmp_path / "out.csv"
    cio_fake.inject(Fault(status=500))
    status, _, _ = main(
        "identify", people_with_gap_csv, "--user-id", "id", "--retries", "0",
        "--rejects", rejects,
        fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 1
    written = cli.read_frame(str(rejects), cli.file_format(name))
    assert written.columns.tolist()[:3] == list(cli.REJECTS_COLUMNS)
    assert written["_cio_status"].tolist() == ["failed", "failed", "invalid", "failed"]
    cio_fake.clear_faults()
    cio_fake.reset()
    status, _, err = main(
        "identify", rejects, "--user-id", "id", "--rejects", again, "--out", out,
        fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 1  # the row without an id is still invalid
    assert "is a rejects file: its _cio_row, _cio_status, _cio_error columns are not sent" in err
    traits = {c["userId"]: c["traits"] for c in cio_fake.calls}
    assert traits == {
        "007": {"plan": "pro", "seats": 3},
        "008": {"plan": "free"},
        "010": {"plan": "team", "seats": 5},
    }
    # The rows keep their numbers in the first file.
    assert pd.read_csv(out)["row"].tolist() == [0, 1, 2, 3]
    second = cli.read_frame(str(again), cli.file_format(name))
    assert second[["_cio_row", "_cio_status"]].values.tolist() == [[2, "invalid"]]


@pytest.fixture
def orders_parquet(tmp_path: Path) -> Path:
    """Two orders with a list<struct> products column, as an orders export writes them."""
    path = tmp_path / "orders.parquet"
    pd.DataFrame(
        {
            "customer": ["c1", "c2"],
            "order_id": ["o1", "o2"],
            "revenue": [29.5, 5.0],
            "products": [
                [
                    {"product_id": "p1", "sku": "a", "price": 9.5, "quantity": 1},
                    {"product_id": "p2", "sku": "b", "price": 20.0, "quantity": 2},
                ],
                [{"product_id": "p3", "sku": "c", "price": 5.0, "quantity": None}],
            ],
            "placed": pd.to_datetime(["2024-05-03 10:00", "2024-05-04 11:00"]).tz_localize(
                "Europe/Berlin"
            ),
        }
    ).to_parquet(path)
    return path


@pytest.mark.parametrize("extra", [[], ["--products", "products"]])
def test_semantic_ecommerce_sends_a_parquet_products_array(
    cio_fake: FakeCio,
    orders_parquet: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    """The CLI sends a list<struct> products column read from Parquet, as the accessor does."""
    status, _, err = main(
        "semantic", "ecommerce", "Order Completed", orders_parquet, "--user-id", "customer",
        *extra, fake=cio_fake, key=cio_fake.api_key, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    properties = {c["userId"]: c["properties"] for c in cio_fake.calls}
    assert properties["c1"]["products"] == [
        {"product_id": "p1", "sku": "a", "price": 9.5, "quantity": 1},
        {"product_id": "p2", "sku": "b", "price": 20.0, "quantity": 2},
    ]
    assert properties["c2"]["products"] == [
        {"product_id": "p3", "sku": "c", "price": 5.0, "quantity": None}
    ]
    assert properties["c1"]["placed"] == "2024-05-03T08:00:00.000Z"
    # The same calls as the accessor sends (pyarrow-backed: pandas' numpy
    # conversion turns integers beside a null in a struct into floats).
    # Events are stamped with the send's start: give the dry run the CLI's stamp.
    stamp = pandas_cio.lit(cio_fake.calls[0]["timestamp"])
    frame = pd.read_parquet(orders_parquet, dtype_backend="pyarrow")
    expected = frame.cio.semantic.ecommerce(
        "Order Completed", user_id="customer", timestamp=stamp, dry_run=True
    )
    assert sorted(expected["message_id"]) == sorted(cio_fake.message_ids)
