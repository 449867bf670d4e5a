"""Customer.io Journeys' limits ("Invalid API requests"), checked before sending.

Journeys refuses these calls after the Data Pipelines API has answered 200,
so each breaking row is ``invalid`` with the column and the limit named.
"""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operation import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_EVENT_NAME_BYTES,
)
from pandas_cio.prepare.journeys_checks import byte_sizes
from pandas_cio.testing import FakeCio

OFF = "(journeys=False turns this check off)"


def test_attribute_values_are_measured_in_utf8_bytes(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """500 two-byte characters fit (1,000 bytes); 501 do not, though only 501 characters."""
    people = pd.DataFrame({"id": ["u1", "u2"], "bio": ["é" * 500, "é" * 501]})
    result = people.cio.identify(user_id="id", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"] == (
        f"bio: over 1,000 bytes, which Customer.io Journeys refuses in an attribute value {OFF}"
    )
    assert [c["userId"] for c in cio_fake.calls] == ["u1"]


def test_nested_attribute_values_are_measured_as_json() -> None:
    """A dict or list trait counts by its JSON text."""
    small = {"tags": ["a"] * 10}
    big = {"tags": ["abcdefgh"] * 120}  # about 1,300 bytes of JSON
    people = pd.DataFrame({"id": ["u1", "u2"], "prefs": [small, big]})
    result = people.cio.identify(user_id="id", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]
    assert result.loc[1, "error"].startswith("prefs: over 1,000 bytes")


def test_object_attributes_are_held_to_the_same_limit() -> None:
    """objects.upsert sends attributes too: the value limit applies."""
    accounts = pd.DataFrame({"account": ["a1", "a2"], "notes": ["short", "x" * 1_001]})
    result = accounts.cio.objects.upsert(object_id="account", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]


def test_event_properties_are_not_attributes() -> None:
    """A long event property is fine for Journeys (event data allows 100,000 bytes)."""
    events = pd.DataFrame({"uid": ["u1"], "body": ["x" * 5_000]})
    result = events.cio.track(user_id="uid", event="Note Written", dry_run=True)
    assert result["status"].tolist() == ["dry_run"]


def test_event_data_over_the_journeys_limit_never_leaves() -> None:
    """Over 100,000 bytes of properties is far over the 32 KB call limit: too_large."""
    events = pd.DataFrame({"uid": ["u1"], "body": ["x" * 100_001]})
    result = events.cio.track(user_id="uid", event="Note Written", dry_run=True)
    assert result["status"].tolist() == ["too_large"]


def test_attribute_names_over_150_bytes_mark_rows_with_a_value() -> None:
    """A column whose name Journeys refuses makes the rows that set it invalid."""
    long_name = "n" * (MAX_ATTRIBUTE_NAME_BYTES + 1)
    people = pd.DataFrame({"id": ["u1", "u2"], long_name: ["x", None], "plan": ["a", "b"]})
    result = people.cio.identify(user_id="id", dry_run=True)
    assert result["status"].tolist() == ["invalid", "dry_run"]
    assert result.loc[0, "error"] == (
        f"{long_name}: the attribute name is 151 bytes; Customer.io Journeys refuses names "
        f"over 150 bytes; rename the column {OFF}"
    )
    fits = pd.DataFrame({"id": ["u1"], "n" * MAX_ATTRIBUTE_NAME_BYTES: ["x"]})
    assert fits.cio.identify(user_id="id", dry_run=True)["status"].tolist() == ["dry_run"]


def test_more_than_300_attributes_in_one_identify() -> None:
    """301 traits with values is refused; the same row with one missing trait goes."""
    traits = {f"t{i}": [1, 1] for i in range(MAX_ATTRIBUTES + 1)}
    traits["t0"] = [1, None]
    people = pd.DataFrame({"id": ["u1", "u2"], **traits})
    result = people.cio.identify(user_id="id", dry_run=True)
    assert result["status"].tolist() == ["invalid", "dry_run"]
    assert result.loc[0, "error"] == (
        "traits: more than 300 attributes; Customer.io Journeys refuses calls that set more; "
        f"send the columns in several calls {OFF}"
    )
    as_null = people.cio.identify(user_id="id", dry_run=True, missing="null")
    assert as_null["status"].tolist() == ["invalid", "invalid"]


def test_event_names_over_100_bytes() -> None:
    """A column value over 100 bytes is an invalid row; a constant raises before sending."""
    long = "E" * (MAX_EVENT_NAME_BYTES + 1)
    events = pd.DataFrame({"uid": ["u1", "u2"], "name": ["Signed Up", long]})
    result = events.cio.track(user_id="uid", event="name", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]
    assert result.loc[1, "error"] == (
        f"name (event=): over 100 bytes, which Customer.io Journeys refuses in an event name {OFF}"
    )
    with pytest.raises(pandas_cio.ColumnError, match="event= is 101 bytes"):
        events.cio.track(user_id="uid", event=long, dry_run=True)
    screens = pd.DataFrame({"uid": ["u1"], "screen": ["ü" * 51]})  # 102 bytes
    assert screens.cio.screen(user_id="uid", name="screen", dry_run=True)["status"].tolist() == [
        "invalid"
    ]


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("identify", {"user_id": "key"}),
        ("identify", {"anonymous_id": "key"}),
        ("objects.upsert", {"object_id": "key"}),
        ("alias", {"user_id": "other", "previous_id": "key"}),
    ],
)
def test_empty_and_blank_ids_are_invalid(method: str, args: dict[str, Any], blank: str) -> None:
    """Journeys refuses empty ids; blank strings are as empty."""
    frame = pd.DataFrame({"key": ["k1", blank], "other": ["o1", "o2"]})
    target: Any = frame.cio
    for part in method.split("."):
        target = getattr(target, part)
    result = target(**args, dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]
    (role,) = [arg for arg, column in args.items() if column == "key"]
    assert result.loc[1, "error"] == f"key ({role}=): must be a non-empty string or an integer"


def test_every_limit_is_off_with_journeys_false() -> None:
    """journeys=False: long values, long names and long event names go to other destinations."""
    people = pd.DataFrame({"id": ["u1"], "n" * 200: ["x" * 5_000]})
    assert people.cio.identify(user_id="id", dry_run=True, journeys=False)["status"].tolist() == [
        "dry_run"
    ]
    events = pd.DataFrame({"uid": ["u1"]})
    result = events.cio.track(user_id="uid", event="E" * 150, dry_run=True, journeys=False)
    assert result["status"].tolist() == ["dry_run"]


def test_the_schema_holds_the_journeys_checks() -> None:
    """pandas_cio.schema() refuses what the send refuses: a long trait, a page without url."""
    people = pandas_cio.schema("identify", user_id="id", traits=["bio"])
    with pytest.raises(Exception, match="1,000 bytes"):
        people.validate(pd.DataFrame({"id": ["u1"], "bio": ["x" * 1_001]}), lazy=True)
    pages = pandas_cio.schema("page", user_id="uid", url=pandas_cio.col("link"))
    with pytest.raises(Exception, match="names page views by their url"):
        pages.validate(pd.DataFrame({"uid": ["u1"], "link": [None]}), lazy=True)
    relaxed = pandas_cio.schema("identify", user_id="id", traits=["bio"], journeys=False)
    relaxed.validate(pd.DataFrame({"id": ["u1"], "bio": ["x" * 1_001]}))


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=400),
            st.integers(),
            st.dictionaries(st.text(max_size=5), st.text(max_size=300), max_size=4),
            st.lists(st.text(max_size=200), max_size=5),
        ),
        max_size=12,
    )
)
def test_byte_sizes_are_exact_where_they_matter(values: list[Any]) -> None:
    """Every value over the limit is measured exactly: strings in UTF-8, others as JSON."""
    series = pd.Series(values, dtype=object)
    sizes = byte_sizes(series, MAX_ATTRIBUTE_VALUE_BYTES)
    for value, size in zip(values, sizes.tolist(), strict=True):
        if isinstance(value, str):
            exact = len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, dict | list):
            exact = len(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
        else:
            exact = 0
        assert (size > MAX_ATTRIBUTE_VALUE_BYTES) == (exact > MAX_ATTRIBUTE_VALUE_BYTES)
        if exact > MAX_ATTRIBUTE_VALUE_BYTES:
            assert size == exact


def test_the_page_schema_without_a_frame_expects_a_url_column() -> None:
    """schema('page') without url= checks a 'url' column, as a send would."""
    pages = pandas_cio.schema("page", user_id="uid")
    assert "url" in pages.columns
    pages.validate(pd.DataFrame({"uid": ["u1"], "url": ["https://x.io"]}))
    with pytest.raises(Exception, match="names page views by their url"):
        pages.validate(pd.DataFrame({"uid": ["u1"], "url": [None]}), lazy=True)


def test_blank_device_tokens_and_event_names_are_invalid() -> None:
    """A token of spaces is an empty device id to Journeys; an event name of spaces is no name."""
    phones = pd.DataFrame({"uid": ["u1", "u2"], "push": ["t1", "  "]})
    result = phones.cio.devices.register(user_id="uid", token="push", platform="ios", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]
    assert result.loc[1, "error"] == "push (token=): must be a non-empty string"
    events = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError, match="must be a non-empty string"):
        events.cio.track(user_id="uid", event=pandas_cio.lit(" "), dry_run=True)


def test_the_schema_counts_attributes_per_row() -> None:
    """pandas_cio.schema('identify') refuses a row setting more than 300 attributes."""
    names = [f"t{i}" for i in range(MAX_ATTRIBUTES + 1)]
    people = pandas_cio.schema("identify", user_id="id", traits=names)
    full = pd.DataFrame({"id": ["u1"], **{name: [1] for name in names}})
    with pytest.raises(Exception, match="more than 300 attributes"):
        people.validate(full, lazy=True)
    people.validate(full.assign(t0=[None]))
