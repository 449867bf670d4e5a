"""polars frames: the same calls, ids and statuses as pandas, through df.cio and functions."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.testing import FakeCio

pl = pytest.importorskip("polars")

from frame_cases import INVALID_ROW, OPERATION_NAMES, case_for, method_for  # noqa: E402
from paths import REPO  # noqa: E402

from pandas_cio.accessor.frame import CioAccessor  # noqa: E402
from pandas_cio.accessor.functions import INDEX_METHODS, public_members  # noqa: E402
from pandas_cio.outcome.frames import polars_result, result_to_pandas  # noqa: E402
from pandas_cio.outcome.results import Status  # noqa: E402


def _sorted_calls(fake: FakeCio) -> list[dict[str, Any]]:
    return sorted(fake.calls, key=lambda call: str(call.get("messageId")))


def _assert_same_result(got: Any, expected: pd.DataFrame) -> None:
    """A polars result holds the pandas result's rows, columns and (converted back) dtypes."""
    assert isinstance(got, pl.DataFrame)
    assert got.columns == list(expected.columns)
    assert got.schema["status"] == pl.Enum([s.value for s in Status])
    back = result_to_pandas(got)
    pd.testing.assert_frame_equal(back, expected.reset_index(drop=True))


# About 12 s over its 84 cases.
@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATION_NAMES)
def test_every_operation_sends_the_same_calls_from_polars(
    operation: str, cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """pandas accessor, polars accessor and plain function: same calls, ids and statuses."""
    case = case_for(operation)
    polars_frame = pl.from_pandas(case.frame)

    expected = method_for(case.frame, operation)(**case.arguments, client=cio_client)
    calls = _sorted_calls(cio_fake)
    cio_fake.reset()
    from_polars = method_for(polars_frame, operation)(**case.arguments, client=cio_client)
    polars_calls = _sorted_calls(cio_fake)
    cio_fake.reset()
    by_function = pandas_cio.send(polars_frame, operation, **case.arguments, client=cio_client)
    function_calls = _sorted_calls(cio_fake)

    assert expected["status"].iloc[INVALID_ROW] == "invalid"
    assert (expected["status"] == "sent").sum() == len(calls) > 0
    assert polars_calls == calls
    assert function_calls == calls
    _assert_same_result(from_polars, expected)
    _assert_same_result(by_function, expected)


def test_a_polars_nan_is_left_out_like_a_pandas_nan(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A float NaN is missing, as in pandas: left out of the call, not sent as null."""
    people = pd.DataFrame({"id": ["u1", "u2"], "score": [float("nan"), 2.5]})
    people.cio.identify(user_id="id", client=cio_client)
    expected = _sorted_calls(cio_fake)
    cio_fake.reset()
    frame = pl.DataFrame({"id": ["u1", "u2"], "score": [float("nan"), 2.5]})
    assert frame["score"].is_nan().any()  # polars keeps NaN apart from null
    frame.cio.identify(user_id="id", client=cio_client)
    assert _sorted_calls(cio_fake) == expected
    assert "score" not in expected[0].get("traits", {})


def test_grouped_order_lines_from_polars(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """Line items grouped into one event per order: same calls and per-line statuses."""
    lines = pd.DataFrame(
        {
            "customer": ["c1", "c1", "c2", None],
            "order_id": ["o1", "o1", "o2", "o3"],
            "sku": ["a", "b", "c", "d"],
            "price": [9.5, 20.0, 3.0, 1.0],
            "at": pd.to_datetime(["2024-05-01T10:00:00Z"] * 4).tz_convert("Europe/Paris"),
        }
    )
    arguments = dict(user_id="customer", group_by="order_id", products=["sku", "price"])
    expected = lines.cio.semantic.ecommerce(
        "Order Completed", **arguments, timestamp="at", client=cio_client
    )
    calls = _sorted_calls(cio_fake)
    cio_fake.reset()
    got = pl.from_pandas(lines).cio.semantic.ecommerce(
        "Order Completed", **arguments, timestamp="at", client=cio_client
    )
    assert _sorted_calls(cio_fake) == calls
    assert len(calls) == 2
    _assert_same_result(got, expected)


def test_the_polars_namespace_has_every_accessor_method_with_its_signature() -> None:
    """Made from the accessor: every method and namespace, the same parameters."""
    frame = pl.DataFrame({"id": ["u1"]})
    for pandas_side, polars_side in [
        (CioAccessor, frame.cio),
        (type(pd.DataFrame().cio.objects), frame.cio.objects),
        (type(pd.DataFrame().cio.devices), frame.cio.devices),
        (type(pd.DataFrame().cio.semantic), frame.cio.semantic),
    ]:
        for name, member in public_members(pandas_side):
            if isinstance(member, property) or name in INDEX_METHODS:
                continue
            mine = inspect.signature(getattr(polars_side, name)).parameters
            theirs = list(inspect.signature(member).parameters.values())[1:]  # without self
            assert list(mine.values()) == theirs, name
            assert getattr(polars_side, name).__doc__ == member.__doc__


def test_every_accessor_method_is_a_plain_function() -> None:
    """pandas_cio.<path>(frame, ...) exists for every accessor method, frame first."""
    spaces = {
        "": (CioAccessor, pandas_cio),
        "objects.": (type(pd.DataFrame().cio.objects), pandas_cio.objects),
        "devices.": (type(pd.DataFrame().cio.devices), pandas_cio.devices),
        "semantic.": (type(pd.DataFrame().cio.semantic), pandas_cio.semantic),
    }
    for prefix, (pandas_side, functions) in spaces.items():
        for name, member in public_members(pandas_side):
            if isinstance(member, property):
                continue
            function = getattr(functions, name)
            assert prefix + name in pandas_cio.__all__ or prefix, name
            parameters = list(inspect.signature(function).parameters)
            assert parameters[0] == "frame"
            assert parameters[1:] == list(inspect.signature(member).parameters)[1:]


def test_plain_functions_return_the_kind_of_frame_given() -> None:
    """pandas in, pandas out (with attrs); polars in, polars out."""
    people = pd.DataFrame({"id": ["u1", None]})
    on_pandas = pandas_cio.identify(people, user_id="id", dry_run=True)
    assert isinstance(on_pandas, pd.DataFrame)
    assert on_pandas.attrs["cio"]["rows"] == 2
    on_polars = pandas_cio.identify(pl.from_pandas(people), user_id="id", dry_run=True)
    assert isinstance(on_polars, pl.DataFrame)
    assert on_polars["status"].cast(pl.String).to_list() == ["dry_run", "invalid"]
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        pandas_cio.identify({"id": ["u1"]}, user_id="id")
    with pytest.raises(TypeError, match=r"\.collect\(\)"):
        pandas_cio.identify(pl.from_pandas(people).lazy(), user_id="id")
    with pytest.raises(pandas_cio.UnknownEventError, match="Order Complete"):
        pandas_cio.send(people, "Order Complete", user_id="id")


def test_stats_and_report_of_a_polars_result() -> None:
    """The counters pandas keeps in attrs reach a polars user by result.cio.stats and report()."""
    people = pd.DataFrame({"id": ["u1", None, "u3"], "plan": ["pro", "free", None]})
    expected = people.cio.identify(user_id="id", dry_run=True)
    result = pl.from_pandas(people).cio.identify(user_id="id", dry_run=True)
    timing = {"seconds", "rows_per_second"}
    stats = {k: v for k, v in result.cio.stats.items() if k not in timing}
    assert stats == {k: v for k, v in expected.attrs["cio"].items() if k not in timing}
    report, wanted = result.cio.report(), expected.cio.report()
    assert pandas_cio.report(result).counts == report.counts == wanted.counts
    assert report.reasons == wanted.reasons
    assert (report.calls, report.body_bytes, report.derived) == (2, wanted.body_bytes, False)
    # A frame derived from the result is another frame: its counters are derived.
    subset = result.filter(pl.col("status") == "invalid")
    assert subset.cio.stats == {}
    assert subset.cio.report().derived and subset.cio.report().counts["invalid"] == 1


def test_a_failed_send_raises_with_a_polars_result(cio_fake: FakeCio) -> None:
    """A SendError from a polars send carries the rows as far as it got, as a polars frame."""
    client = pandas_cio.Client(api_key="not-the-key", base_url=cio_fake.url)
    with client, pytest.raises(pandas_cio.AuthenticationError) as raised:
        pl.DataFrame({"id": ["u1", "u2"]}).cio.identify(user_id="id", client=client)
    assert isinstance(raised.value.result, pl.DataFrame)
    assert set(raised.value.result["status"].cast(pl.String)) == {"failed"}


def test_merge_retry_is_refused_on_polars_results() -> None:
    """polars frames have no index labels to match rows by; the error says what to do."""
    result = pl.DataFrame({"id": ["u1"]}).cio.identify(user_id="id", dry_run=True)
    assert not hasattr(result.cio, "merge_retry")
    with pytest.raises(TypeError, match="no index"):
        pandas_cio.merge_retry(result, result)


def test_a_ledger_skips_what_a_polars_send_delivered(
    tmp_path: Any, cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """The same rows again are unchanged: the ledger reads content, not pandas labels."""
    people = pl.DataFrame({"id": ["u1", "u2"], "plan": ["pro", "free"]})
    ledger = tmp_path / "sync.db"
    first = people.cio.identify(user_id="id", ledger=ledger, client=cio_client)
    again = people.cio.identify(user_id="id", ledger=ledger, client=cio_client)
    assert first["status"].cast(pl.String).to_list() == ["sent", "sent"]
    assert again["status"].cast(pl.String).to_list() == ["unchanged", "unchanged"]
    assert len(cio_fake.calls) == 2


def test_schema_resolves_arguments_against_a_polars_frame() -> None:
    """pandas_cio.schema(operation, polars_frame, ...) reads its columns as the accessor does."""
    frame = pl.DataFrame({"uid": ["u1"], "name": ["Signed Up"], "plan": ["pro"]})
    built = pandas_cio.schema("track", frame, user_id="uid", event="name")
    assert sorted(built.columns) == ["name", "plan", "uid"]
    built.validate(pandas_cio.outcome.frames.to_pandas(frame))


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_import_pandas_cio_does_not_import_polars_and_registers_once_it_is() -> None:
    """import pandas_cio then import polars: cio is registered, polars' loader untouched."""
    out = _run(
        "import sys, pandas_cio; print('polars' in sys.modules); import polars; "
        "print(hasattr(polars.DataFrame, 'cio'), type(polars.__loader__).__name__, "
        "type(polars.__spec__.loader).__name__)"
    )
    assert out.splitlines() == ["False", "True SourceFileLoader SourceFileLoader"]


def test_polars_imported_first_is_registered_at_import() -> None:
    """import polars then import pandas_cio: cio is registered at once, no finder left."""
    out = _run(
        "import sys, polars, pandas_cio; print(hasattr(polars.DataFrame, 'cio'), "
        "any('Polars' in type(f).__name__ for f in sys.meta_path))"
    )
    assert out == "True False"


def _readme_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## polars and plain functions\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, "README.md has no '## polars and plain functions' section"
    return re.findall(r"^```python\n(.*?)^```", match.group(1), re.M | re.S)


def test_the_readme_examples_run_as_written() -> None:
    """The section's examples run, and the values their comments show are right."""
    polars_example, functions_example = _readme_blocks()
    scope: dict[str, Any] = {}
    exec(compile(polars_example, "README polars", "exec"), scope)
    assert scope["statuses"]["status"].cast(pl.String).to_list() == ["sent"] * 3
    assert scope["statuses"].cio.stats["requests"] == 1
    assert scope["summary"].counts["sent"] == 3
    assert scope["again"].height == 0
    scope = {}
    exec(compile(functions_example, "README functions", "exec"), scope)
    assert scope["outcome"]["status"].tolist() == ["dry_run", "dry_run"]


def test_errors_raise_gives_polars_failures_by_row_position() -> None:
    """errors="raise": the SchemaError's failures are a polars frame with each row's position."""
    frame = pl.DataFrame({"id": ["u1", None, "u3", None]})
    with pytest.raises(pandas_cio.SchemaError) as raised:
        frame.cio.identify(user_id="id", errors="raise")
    failures = raised.value.failures
    assert isinstance(failures, pl.DataFrame)
    assert failures["row"].to_list() == [1, 3]
    assert failures["error"].to_list() == ["id (user_id=): is missing"] * 2


def test_a_result_with_rows_of_its_own_keeps_their_labels() -> None:
    """Result rows beyond the input's positions (a stage's own) keep their labels as a column."""
    result = pd.DataFrame(
        {"status": pd.Categorical(["sent", "sent"], categories=[s.value for s in Status])},
        index=pd.Index([0, "deleted:u9"], name="row", dtype=object),
    )
    result.attrs = {"cio": {"rows": 2}, "plan": {"deleted": 1}}
    frame = polars_result(result)
    assert frame.columns == ["row", "status"]
    assert frame["row"].to_list() == ["0", "deleted:u9"] or frame["row"].to_list() == [
        0,
        "deleted:u9",
    ]
    assert frame.cio.stats == {"rows": 2}
    assert result_to_pandas(frame).attrs == result.attrs


def test_a_frame_of_many_chunks_sends_as_one_chunk_does() -> None:
    """Arrow columns of many chunks, sliced across chunk ends, give the same ids and statuses."""
    parts = [
        pl.DataFrame({"id": [f"u{i}", None], "n": [i, None], "tags": [["a"], None]})
        for i in range(30)
    ]
    frame = pl.concat(parts, rechunk=False)
    assert frame.n_chunks() == 30
    chunked = frame.cio.identify(user_id="id", dry_run=True, chunk_rows=7)
    assert chunked.equals(frame.rechunk().cio.identify(user_id="id", dry_run=True))
    expected = frame.to_pandas(use_pyarrow_extension_array=True).cio.identify(
        user_id="id", dry_run=True
    )
    _assert_same_result(chunked, expected)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


@st.composite
def _typed_people(draw: st.DrawFn) -> pd.DataFrame:
    """A pandas frame of typed columns, with nulls, that polars holds value for value."""
    rows = draw(st.integers(0, 6))

    def column(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(st.none() | values, min_size=rows, max_size=rows))

    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), min_size=rows, max_size=rows))
    instants = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1))
    return pd.DataFrame(
        {
            "id": pd.array([None if i % 4 == 3 else v for i, v in enumerate(ids)], "string"),
            "text": pd.array(column(_TEXT), dtype="string"),
            "count": pd.array(column(st.integers(-(2**53), 2**53)), dtype="Int64"),
            "ratio": pd.array(column(st.floats(allow_infinity=False, width=32)), "float64"),
            "flag": pd.array(column(st.booleans()), dtype="boolean"),
            "at": pd.to_datetime(column(instants)).tz_localize("UTC").tz_convert("Asia/Kolkata"),
            "tags": column(st.lists(st.text("xyz", max_size=3), max_size=3)),
        }
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=_typed_people())
def test_any_typed_frame_gets_the_same_ids_and_statuses_from_polars(people: pd.DataFrame) -> None:
    """For any frame of typed columns: polars and pandas give the same messageIds and statuses."""
    expected = people.cio.identify(user_id="id", dry_run=True)
    got = pl.from_pandas(people).cio.identify(user_id="id", dry_run=True)
    _assert_same_result(got, expected)


def test_a_failed_registration_never_makes_import_polars_fail() -> None:
    """When registering cannot work, import polars still does, and the warning says why."""
    out = _run(
        "import logging, sys; logging.basicConfig(level=logging.WARNING, stream=sys.stdout, "
        "format='%(message)s'); sys.modules['pandas_cio.accessor.polars_frame'] = None; "
        "import pandas_cio, polars; print(hasattr(polars.DataFrame, 'cio'))"
    )
    warning, registered = out.splitlines()
    assert warning.startswith("pandas_cio could not register polars.DataFrame.cio: ")
    assert registered == "False"


def test_a_plain_function_names_itself_when_given_no_frame() -> None:
    """The error names the function by its path and what was passed instead."""
    with pytest.raises(TypeError, match=r"pandas_cio\.objects\.upsert\(\) takes .* not dict"):
        pandas_cio.objects.upsert({"account": ["acme"]}, object_id="account")
