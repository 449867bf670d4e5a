"""All 71 semantic events through df.cio.semantic, in dry runs and over real HTTP."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.catalogue.events import CATEGORY_KEYS, EVENTS, EventSpec, PropertySpec, events_in
from pandas_cio.catalogue.operation import Operation
from pandas_cio.catalogue.operations import operation_for_event
from pandas_cio.testing import FakeCio

# Every event the library sends; refused names (Group Deleted) have tests of their own.
ALL_NAMES = sorted(name for name, spec in EVENTS.items() if not spec.refused)

# One valid value per role argument a semantic event can take.
ROLE_VALUES: dict[str, Any] = {
    "user_id": "u1",
    "token": "tok-1",
    "platform": "ios",
    "email": "a@x.io",
    "ip": "10.0.0.1",
    "user_agent": "Mozilla/5.0",
    "object_id": "obj-1",
    "object_type_id": 2,
}
# What each role value becomes on the wire.
WIRE_VALUES: dict[str, Any] = {**ROLE_VALUES}

EXAMPLE_OF_TYPE: dict[str, Any] = {
    "string": "x",
    "number": 1.5,
    "integer": 3,
    "boolean": True,
    "object": {"key": "value"},
}
# A value of the wrong JSON type for each documented type.
WRONG_OF_TYPE: dict[str, Any] = {
    "string": 12345,
    "number": "lots",
    "integer": 1.5,
    "boolean": "yes",
    "object": "not an object",
    "array": "not an array",
}


def example(prop: PropertySpec) -> tuple[Any, Any]:
    """A valid value for ``prop`` and the JSON it is sent as."""
    if prop.enum:
        return prop.enum[0], prop.enum[0]
    if prop.format == "date-time":
        return "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z"
    if prop.type == "array":
        if prop.items is not None:
            value = [{key: EXAMPLE_OF_TYPE[kind] for key, kind in prop.items.items()}]
        else:
            assert prop.item_type is not None
            value = [EXAMPLE_OF_TYPE[prop.item_type]]
        return value, value
    value = EXAMPLE_OF_TYPE[prop.type]
    if prop.maximum is not None:
        value = min(value, prop.maximum)
    return value, value


def place(call: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in a nested call dict."""
    *parents, leaf = path
    for key in parents:
        call = call.setdefault(key, {})
    call[leaf] = value


def valid_case(spec: EventSpec) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A valid row for the event, the role arguments naming its columns, and the expected call."""
    op = operation_for_event(spec.name)
    row: dict[str, Any] = {}
    args: dict[str, Any] = {}
    expected: dict[str, Any] = {"type": "track", "event": spec.name}
    for role in op.roles:
        if role.arg in ROLE_VALUES:
            row[role.arg] = ROLE_VALUES[role.arg]
            args[role.arg] = role.arg
            place(expected, role.path, WIRE_VALUES[role.arg])
        elif role.default is not None:
            place(expected, role.path, role.default)
    for key, prop in op.payload_fields.items():
        row[key], sent = example(prop)
        place(expected, ("properties", key), sent)
    if "properties" in spec.required_call_fields:
        expected.setdefault("properties", {})
    return row, args, expected


def mistyped(spec: EventSpec) -> tuple[str, Any, str]:
    """A column, a wrongly typed value for it, and the start of the reason it gives."""
    op = operation_for_event(spec.name)
    for key, prop in op.payload_fields.items():
        return key, WRONG_OF_TYPE[prop.type], f"{key}: must be"
    role = next(role.arg for role in op.roles if role.arg in ROLE_VALUES)
    return role, True, f"{role}: must be"


def send(frame: pd.DataFrame, spec: EventSpec, args: dict[str, Any], **options: Any) -> Any:
    """Send through the category's namespace method, the way a user would."""
    method = getattr(frame.cio.semantic, spec.category)
    return method(spec.name, **args, **options)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_event_accepts_a_minimal_frame_in_dry_run(name: str) -> None:
    """Each name takes a frame with only what it (and Customer.io Journeys) needs."""
    spec = EVENTS[name]
    op = operation_for_event(name)
    row: dict[str, Any] = {key: example(op.payload_fields[key])[0] for key in op.payload_required}
    args: dict[str, Any] = {}
    for role in op.roles:
        needed = role.required or role.arg in op.journeys_needs
        if needed or (role.arg == "user_id" and op.identity not in ("anonymous", "none")):
            row[role.arg] = ROLE_VALUES[role.arg]
            args[role.arg] = role.arg
    frame = pd.DataFrame([row, row] if row else [{}, {}])
    result = send(frame, spec, args, dry_run=True)
    assert result["status"].tolist() == ["dry_run", "dry_run"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_a_wrongly_typed_column_marks_its_rows_invalid(name: str) -> None:
    """A value of the wrong type makes its row invalid, naming the column; others go."""
    spec = EVENTS[name]
    row, args, _ = valid_case(spec)
    column, wrong, reason = mistyped(spec)
    frame = pd.DataFrame([row, {**row, column: wrong}, row], index=["a", "b", "c"])
    result = send(frame, spec, args, dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid", "dry_run"]
    assert result.loc["b", "error"].startswith(reason)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_event_lands_where_the_catalogue_says(name: str, fake: FakeCio) -> None:
    """Over real HTTP: exact calls, every documented member in its place; a bad row stays."""
    fake.reset()
    spec = EVENTS[name]
    row, args, expected = valid_case(spec)
    column, wrong, _ = mistyped(spec)
    frame = pd.DataFrame([row, {**row, column: wrong}])
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        result = send(frame, spec, args, client=client)
    assert result["status"].tolist() == ["sent", "invalid"]
    (call,) = fake.calls
    assert call.pop("messageId") == result.loc[0, "message_id"]
    # Sent without timestamp=, the event carries the send's start (pandas_cio.prepare.stamping).
    assert call.pop("timestamp") == result.attrs["cio"]["timestamp"]
    assert call == expected


def test_extra_columns_are_sent_as_properties(fake: FakeCio) -> None:
    """Undocumented columns pass through as properties, unchecked."""
    fake.reset()
    frame = pd.DataFrame({"uid": ["u1"], "query": ["shoes"], "results_shown": [24]})
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        frame.cio.semantic.ecommerce("Products Searched", user_id="uid", client=client)
    assert fake.calls[0]["properties"] == {"query": "shoes", "results_shown": 24}


def test_required_property_needs_a_column_and_a_value() -> None:
    """Email events need email_id: a missing column raises, a missing value is invalid."""
    frame = pd.DataFrame({"uid": ["u1", "u2"], "subject": ["Hi", "Yo"]})
    with pytest.raises(pandas_cio.ColumnError, match="needs a column for 'email_id'"):
        frame.cio.semantic.email("Email Opened", user_id="uid", dry_run=True)
    frame["delivery"] = ["d1", None]
    result = frame.cio.semantic.email(
        "Email Opened",
        user_id="uid",
        properties={"delivery": "email_id", "subject": "email_subject"},
        dry_run=True,
    )
    assert result["status"].tolist() == ["dry_run", "invalid"]
    assert result.loc[1, "error"] == "delivery (sent as email_id): is missing"


def test_enums_bounds_and_array_elements_are_checked() -> None:
    """Documented enums, numeric bounds and element types each mark their row invalid."""
    frame = pd.DataFrame(
        {
            "uid": ["u1", "u2", "u3", "u4"],
            "ad_type": ["mid-roll", "half-time", None, None],
            "sound": [50, 10, 101, 5],
            "content_asset_ids": [["a"], ["b"], ["c"], ["d", 7]],
        }
    )
    result = frame.cio.semantic.video("Video Playback Started", user_id="uid", dry_run=True)
    assert result["error"].fillna("").tolist() == [
        "",
        "ad_type: must be one of pre-roll, mid-roll, post-roll",
        "sound: must be between 0 and 100",
        "content_asset_ids: every element must be a string",
    ]


def test_unknown_name_lists_the_valid_names() -> None:
    """A name the category lacks raises UnknownEventError listing every valid one."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.UnknownEventError) as info:
        frame.cio.semantic.mobile("App Launched", user_id="uid", dry_run=True)
    for name in events_in("mobile"):
        assert repr(name) in str(info.value)


def test_names_are_exact_as_the_api_spells_them() -> None:
    """Case matters: 'Video Playback Interrupted' is refused with the real spelling offered."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.UnknownEventError, match="'Video Playback interrupted'"):
        frame.cio.semantic.video("Video Playback Interrupted", user_id="uid", dry_run=True)


def test_each_category_has_a_namespace_method() -> None:
    """Every catalogue category is one method of df.cio.semantic."""
    namespace = pd.DataFrame().cio.semantic
    assert all(callable(getattr(namespace, category)) for category in CATEGORY_KEYS)


def test_every_event_has_exactly_one_operation() -> None:
    """The table holds one operation per event it sends, sending that event."""
    ops: list[Operation] = [operation_for_event(name) for name in ALL_NAMES]
    assert len({op.name for op in ops}) == len(ALL_NAMES) == len(EVENTS) - 1
    assert all(op.constants[0] == (("event",), op.event) for op in ops)
