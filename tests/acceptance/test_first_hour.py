"""Tests of the first hour's mistakes: each gets an answer that names it and fixes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.delivery.auth import ApiKey, resolve_region
from pandas_cio.errors import CioError, UnknownArgumentError
from pandas_cio.suggest import close_names, edit_distance, is_near_miss

PEOPLE = pd.DataFrame({"id": ["u1"], "name": ["Ann"], "os": ["ios"], "tok": ["t1"]})

# Each method as the caller writes it, and how to call it with a stray keyword.
METHODS: list[tuple[str, Callable[..., Any]]] = [
    ("df.cio.identify()", lambda df, **kw: df.cio.identify(user_id="id", **kw)),
    ("df.cio.track()", lambda df, **kw: df.cio.track(user_id="id", event="E", **kw)),
    ("df.cio.page()", lambda df, **kw: df.cio.page(user_id="id", **kw)),
    ("df.cio.screen()", lambda df, **kw: df.cio.screen(user_id="id", **kw)),
    ("df.cio.alias()", lambda df, **kw: df.cio.alias(user_id="id", **kw)),
    ("df.cio.suppress()", lambda df, **kw: df.cio.suppress(user_id="id", **kw)),
    ("df.cio.unsuppress()", lambda df, **kw: df.cio.unsuppress(user_id="id", **kw)),
    ("df.cio.delete()", lambda df, **kw: df.cio.delete(user_id="id", **kw)),
    ("df.cio.objects.upsert()", lambda df, **kw: df.cio.objects.upsert(**kw)),
    ("df.cio.objects.relate()", lambda df, **kw: df.cio.objects.relate(**kw)),
    ("df.cio.objects.unrelate()", lambda df, **kw: df.cio.objects.unrelate(**kw)),
    ("df.cio.objects.delete()", lambda df, **kw: df.cio.objects.delete(**kw)),
    ("df.cio.devices.register()", lambda df, **kw: df.cio.devices.register(**kw)),
    ("df.cio.devices.delete()", lambda df, **kw: df.cio.devices.delete(**kw)),
    (
        "df.cio.semantic.ecommerce()",
        lambda df, **kw: df.cio.semantic.ecommerce("Order Completed", **kw),
    ),
    ("df.cio.semantic.email()", lambda df, **kw: df.cio.semantic.email("Email Opened", **kw)),
    (
        "df.cio.semantic.mobile()",
        lambda df, **kw: df.cio.semantic.mobile("Application Opened", **kw),
    ),
    (
        "df.cio.semantic.video()",
        lambda df, **kw: df.cio.semantic.video("Video Playback Started", **kw),
    ),
    (
        "df.cio.semantic.live_chat()",
        lambda df, **kw: df.cio.semantic.live_chat("Live Chat Message Sent", **kw),
    ),
    (
        "df.cio.semantic.ab_test()",
        lambda df, **kw: df.cio.semantic.ab_test("Experiment Viewed", **kw),
    ),
    (
        "df.cio.semantic.customerio()",
        lambda df, **kw: df.cio.semantic.customerio("User Suppressed", **kw),
    ),
]


@pytest.mark.parametrize(("method", "call"), METHODS, ids=[m for m, _ in METHODS])
def test_a_misspelt_keyword_names_the_method_and_the_closest_name(
    method: str, call: Callable[..., Any]
) -> None:
    """`dryrun=` names the method as typed (not run()) and suggests dry_run=."""
    with pytest.raises(UnknownArgumentError) as caught:
        call(PEOPLE, dryrun=True)
    message = str(caught.value)
    assert message.startswith(f"{method} got an unexpected keyword argument 'dryrun'")
    assert "did you mean dry_run=?" in message
    assert "run()" not in message.replace(method, "")
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, CioError)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("userid", "user_id"), ("propertes", "properties"), ("Timestamp", "timestamp")],
)
def test_misspelt_role_keywords_suggest_the_role(typed: str, suggested: str) -> None:
    """Role keywords are suggested too, case-insensitively."""
    with pytest.raises(UnknownArgumentError, match=rf"did you mean {suggested}=\?"):
        PEOPLE.cio.track(event="E", **{typed: "id"})


def test_api_key_keyword_points_at_the_client() -> None:
    """`api_key=` on a method says to pass client=pandas_cio.Client(key)."""
    with pytest.raises(UnknownArgumentError) as caught:
        PEOPLE.cio.identify(user_id="id", api_key="sk_us_x")
    message = str(caught.value)
    assert "df.cio.identify() got an unexpected keyword argument 'api_key'" in message
    assert "client=pandas_cio.Client(key)" in message
    assert "sk_us_x" not in message


def test_a_keyword_far_from_every_name_lists_what_the_method_takes() -> None:
    """With nothing close, the message lists the keywords the method takes."""
    with pytest.raises(UnknownArgumentError, match=r"it takes .*dry_run.*user_id"):
        PEOPLE.cio.identify(user_id="id", zzzzzz=1)


def test_unknown_keywords_are_refused_before_anything_else(monkeypatch: Any) -> None:
    """A misspelt keyword is reported even when no key is set (not the missing key)."""
    monkeypatch.delenv("CIO_API_KEY", raising=False)
    with pytest.raises(UnknownArgumentError, match="dry_run="):
        PEOPLE.cio.identify(user_id="id", dryrun=True)


def test_missing_key_names_the_three_ways_that_work(monkeypatch: Any) -> None:
    """Without a key: client=pandas_cio.Client(key), CIO_API_KEY, or dry_run=True."""
    monkeypatch.delenv("CIO_API_KEY", raising=False)
    with pytest.raises(pandas_cio.ConfigurationError) as caught:
        PEOPLE.cio.identify(user_id="id")
    message = str(caught.value)
    assert "client=pandas_cio.Client(key)" in message
    assert "CIO_API_KEY" in message
    assert "dry_run=True" in message
    assert "api_key=" not in message


def test_reasons_name_the_column_and_the_argument() -> None:
    """`signup_at (timestamp=): must be a date-time`, `os (platform=): must be one of ...`."""
    people = pd.DataFrame({"id": ["u1", "u2"], "signup_at": ["2024-01-02", "soon"]})
    result = people.cio.identify(user_id="id", timestamp="signup_at", dry_run=True)
    assert result.loc[1, "error"] == "signup_at (timestamp=): must be a date-time"
    phones = pd.DataFrame({"uid": ["u1", "u2"], "push": ["t1", "t2"], "os": ["ios", "web"]})
    result = phones.cio.devices.register(user_id="uid", token="push", platform="os", dry_run=True)
    assert result.loc[1, "error"] == "os (platform=): must be one of android, ios"


def test_a_mapped_payload_column_names_the_key_it_is_sent_as() -> None:
    """A column sent under another key names both."""
    mails = pd.DataFrame({"uid": ["u1"], "delivery": [None]})
    result = mails.cio.semantic.email(
        "Email Opened", user_id="uid", properties={"delivery": "email_id"}, dry_run=True
    )
    assert result.loc[0, "error"] == "delivery (sent as email_id): is missing"


@pytest.mark.parametrize("key", ["SK_EU_abc", "Pk_Eu_abc", "sk_EU_abc"])
def test_upper_case_region_prefixes_name_their_region(key: str) -> None:
    """An upper-case `SK_EU_` key is an EU key sent as Bearer exactly as given."""
    api_key = ApiKey(key)
    assert api_key.region == "eu"
    assert api_key.authorization == f"Bearer {key}"
    assert resolve_region(None, api_key) == "eu"
    assert "abc" not in repr(api_key)


@pytest.mark.parametrize(
    ("typed", "name"),
    [("nmae", "name"), ("ID", "id"), ("dryrun", "dry_run"), ("evnt_name", "event_name")],
)
def test_near_misses_of_every_length(typed: str, name: str) -> None:
    """Swaps, case and one missing letter are near misses, for short names too."""
    assert is_near_miss(typed, name)
    assert close_names(typed, [name, "zzzzzzzz"]) == [name]


@pytest.mark.parametrize(("typed", "name"), [("ip", "id"), ("os", "ts"), ("Signed Up", "sku")])
def test_different_short_names_are_not_near_misses(typed: str, name: str) -> None:
    """Two-letter names one letter apart are different names, not typos."""
    assert not is_near_miss(typed, name)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=2, max_size=12), st.integers(min_value=0, max_value=10))
def test_a_swap_of_neighbours_is_always_a_near_miss(word: str, at: int) -> None:
    """Swapping two neighbouring characters is one edit, and a near miss."""
    i = at % (len(word) - 1)
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    assert edit_distance(word, swapped) <= 1
    assert is_near_miss(swapped, word)


def test_a_transposed_short_column_name_is_not_sent_as_the_event() -> None:
    """`event="nmae"` beside column `name` raises instead of naming every event "nmae"."""
    with pytest.raises(pandas_cio.ColumnError, match=r"event='nmae' .*column 'name'"):
        PEOPLE.cio.track(user_id="id", event="nmae", dry_run=True)
    result = PEOPLE.cio.track(user_id="id", event=pandas_cio.lit("nmae"), dry_run=True)
    assert result["status"].tolist() == ["dry_run"]


def test_a_column_in_another_case_is_suggested() -> None:
    """`user_id="ID"` beside `id` suggests 'id'."""
    with pytest.raises(pandas_cio.ColumnError, match=r"user_id='ID' .*did you mean 'id'\?"):
        PEOPLE.cio.identify(user_id="ID", dry_run=True)


def test_a_column_moved_into_the_index_says_so() -> None:
    """`user_id="id"` after set_index("id") points at reset_index()."""
    indexed = PEOPLE.set_index("id")
    with pytest.raises(pandas_cio.ColumnError, match=r"user_id='id' is the frame's index"):
        indexed.cio.identify(user_id="id", dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match=r"reset_index\(\)"):
        indexed.cio.identify(user_id="Id", dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match=r"event='id' is the frame's index"):
        indexed.cio.track(user_id="name", event="id", dry_run=True)


def test_one_trait_as_a_string_suggests_a_list() -> None:
    """`traits="name"` suggests traits=['name']."""
    with pytest.raises(pandas_cio.ColumnError, match=r"traits=\['name'\]"):
        PEOPLE.cio.identify(user_id="id", traits="name", dry_run=True)


def test_series_cio_says_it_works_on_frames() -> None:
    """`.cio` on a Series raises an AttributeError that says to call it on the frame."""
    with pytest.raises(AttributeError) as caught:
        PEOPLE["id"].cio.identify(user_id="id")
    message = str(caught.value)
    assert message.startswith(".cio.identify works on a DataFrame, not a Series (column 'id')")
    assert "df.cio.identify(...)" in message and "s.to_frame()" in message
    import copy

    assert "Series" in repr(copy.copy(PEOPLE["id"].cio))  # no recursion through _name


@pytest.mark.parametrize("column", ["userId", "anonymousId", "user_id"])
def test_an_id_column_is_not_sent_silently_as_a_trait(column: str) -> None:
    """A `userId` column left to the default traits is refused, pointing at user_id=."""
    frame = pd.DataFrame({"id": ["u1"], column: ["x"], "plan": ["pro"]})
    role = "anonymous_id" if column == "anonymousId" else "user_id"
    with pytest.raises(pandas_cio.ColumnError) as caught:
        frame.cio.identify(user_id="id", dry_run=True)
    assert f"column {column!r} would be sent as traits.{column}" in str(caught.value)
    assert f"pass {role}={column!r}" in str(caught.value)
    # Listed on purpose, it is sent as asked.
    result = frame.cio.identify(user_id="id", traits=[column, "plan"], dry_run=True)
    assert result["status"].tolist() == ["dry_run"]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the command line; return its exit status and stderr."""
    from pandas_cio.cli.main import main

    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    return status, capsys.readouterr().err


@pytest.fixture
def people_csv(tmp_path: Any) -> str:
    path = tmp_path / "people.csv"
    pd.DataFrame({"id": ["u1"], "name": ["Ann"], "signup_at": ["soon"]}).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        (["--userid", "id"], "unknown option --userid; did you mean --user-id id?"),
        (["--user_id", "id"], "unknown option --user_id; did you mean --user-id id?"),
        (["user_id=id"], "unknown option 'user_id=id'; did you mean --user-id id?"),
        (["--user-id", "id", "--dryrun"], "unknown option --dryrun; did you mean --dry-run?"),
    ],
)
def test_cli_unknown_options_suggest_the_option_in_one_line(
    capsys: pytest.CaptureFixture[str], people_csv: str, typed: list[str], suggested: str
) -> None:
    """`--userid` says `did you mean --user-id` instead of printing the whole usage."""
    status, err = _cli(capsys, "identify", people_csv, *typed)
    assert status == 2
    assert f"pandas-cio identify: error: {suggested}" in err
    assert "usage:" not in err


def test_cli_misspelt_command_suggests_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`pandas-cio identfy` suggests identify."""
    status, err = _cli(capsys, "identfy", "x.csv")
    assert status == 2 and "did you mean identify?" in err


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (["--user-id", "ID"], "--user-id ID is not a column of the frame; did you mean 'id'?"),
        ([], "error: needs --user-id or --anonymous-id"),
    ],
)
def test_cli_library_errors_use_option_spellings(
    capsys: pytest.CaptureFixture[str], people_csv: str, typed: list[str], said: str
) -> None:
    """`user_id='ID' is not a column` is said as `--user-id ID is not a column`."""
    status, err = _cli(capsys, "identify", people_csv, *typed, "--dry-run")
    assert status == 2
    assert said in err
    assert "user_id=" not in err and "identify()" not in err


def test_cli_near_constant_points_at_the_option(
    capsys: pytest.CaptureFixture[str], people_csv: str
) -> None:
    """`--event nmae` beside a column `name` says `--event name`, not col()/lit()."""
    status, err = _cli(
        capsys, "track", people_csv, "--user-id", "id", "--event", "nmae", "--dry-run"
    )
    assert status == 2
    assert "--event nmae is not a column, but close to column 'name'" in err
    assert "pass --event name for the column" in err
    assert "col(" not in err and "lit(" not in err


def test_cli_no_journeys_turns_the_journeys_checks_off(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """The `(journeys=False turns this check off)` of a message exists as --no-journeys."""
    path = tmp_path / "views.csv"
    pd.DataFrame({"id": ["u1"], "title": ["Home"]}).to_csv(path, index=False)
    status, err = _cli(capsys, "page", str(path), "--user-id", "id", "--dry-run")
    assert status == 2 and "(--no-journeys turns this check off)" in err
    status, _ = _cli(capsys, "page", str(path), "--user-id", "id", "--dry-run", "--no-journeys")
    assert status == 0


def test_spark_functions_name_themselves_and_suggest(monkeypatch: Any) -> None:
    """Spark's send(), foreach_batch() and identify() refuse `userid=` before any job."""
    spark = pytest.importorskip("pandas_cio.spark")
    with pytest.raises(UnknownArgumentError) as caught:
        spark.send(object(), "identify", userid="id", dry_run=True)
    assert str(caught.value).startswith(
        "pandas_cio.spark.send(sdf, 'identify') got an unexpected keyword argument 'userid'"
    )
    assert "did you mean user_id=?" in str(caught.value)
    with pytest.raises(UnknownArgumentError, match=r"^pandas_cio\.spark\.identify\(\) .*user_id="):
        spark.identify(object(), userid="id", dry_run=True)
    with pytest.raises(UnknownArgumentError, match=r"did you mean results_format=\?"):
        spark.foreach_batch(
            "track", results_path="/tmp/x", result_format="csv", user_id="id", event="E"
        )
    with pytest.raises(UnknownArgumentError, match=r"did you mean dry_run=\?"):
        spark.send(object(), "identify", user_id="id", dryrun=True)


def test_an_operation_given_an_unknown_role_suggests_the_role() -> None:
    """The plan's own check (any caller) names the operation and suggests."""
    from pandas_cio.catalogue.operations import get_operation
    from pandas_cio.prepare.plan import make_plan

    with pytest.raises(UnknownArgumentError, match=r"identify\(\) .*'userid'; did you mean"):
        make_plan(get_operation("identify"), PEOPLE, {"userid": "id"})


def test_a_refused_connection_reads_as_one_short_reason() -> None:
    """Connection refused: `connection refused by 127.0.0.1:PORT`, whole in the report."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pandas_cio.Client("sk_us_x", base_url=f"http://127.0.0.1:{port}", retry=0) as client:
        result = PEOPLE.cio.identify(user_id="id", client=client, progress=False)
    reason = f"NewConnectionError: connection refused by 127.0.0.1:{port}"
    assert result["error"].tolist() == [reason]
    assert reason in str(result.cio.report())


def test_dry_run_report_has_no_rows_per_second() -> None:
    """A dry run sends nothing, so its report shows no rows/s; a send's report does."""
    report = PEOPLE.cio.identify(user_id="id", dry_run=True).cio.report()
    assert "rows/s" not in str(report)
    assert "rows/s" not in report._repr_html_()


def test_html_report_headline_does_not_wrap() -> None:
    """The HTML caption (the headline) is one line: white-space nowrap."""
    html = PEOPLE.cio.identify(user_id="id", dry_run=True).cio.report()._repr_html_()
    assert '<caption style="text-align:left;white-space:nowrap">' in html


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(["user_id", "anonymous_id", "event", "timestamp", "object_type_id"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
def test_cli_spelling_turns_any_keyword_and_value_into_the_option(param: str, value: str) -> None:
    """`param='value'` becomes `--param value`, the value quoted for a shell."""
    import shlex

    from pandas_cio.cli.main import cli_spelling

    flag = "--" + param.replace("_", "-")
    said = cli_spelling(f"{param}={value!r} is not a column of the frame")
    assert said == f"{flag} {shlex.quote(value)} is not a column of the frame"


def test_cli_report_says_row_reasons_in_option_spellings(
    capsys: pytest.CaptureFixture[str], people_csv: str, tmp_path: Any
) -> None:
    """The printed report says `signup_at (--timestamp)`; --out keeps the library's words."""
    out = tmp_path / "result.csv"
    status = _cli_out(
        capsys,
        "identify",
        people_csv,
        "--user-id",
        "id",
        "--timestamp",
        "signup_at",
        "--dry-run",
        "--out",
        str(out),
    )
    assert status[0] == 1
    assert "signup_at (--timestamp): must be a date-time" in status[1]
    written = pd.read_csv(out)
    assert written["error"].tolist() == ["signup_at (timestamp=): must be a date-time"]


def _cli_out(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the command line; return its exit status and stdout."""
    from pandas_cio.cli.main import main

    status = main(list(argv))
    return status, capsys.readouterr().out
