"""page, screen, alias and the people actions (suppress, unsuppress, delete) over real HTTP."""

from __future__ import annotations

import pandas as pd
import pytest
from frame_cases import recorded

import pandas_cio
from pandas_cio.testing import FakeCio


def test_page_sends_name_category_and_properties(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """page: name at the top, category inside properties, other columns as properties."""
    views = pd.DataFrame(
        {
            "uid": ["u1", None, "u3"],
            "anon": [None, "a2", None],
            "page": ["Pricing", "Docs", "Home"],
            "url": ["https://x.io/pricing", "https://x.io/docs", "https://x.io/"],
            "at": ["2024-05-01T10:00:00Z", "2024-05-01T11:00:00+02:00", "yesterday"],
        },
        index=["a", "b", "c"],
    )
    result = views.cio.page(
        user_id="uid",
        anonymous_id="anon",
        name="page",
        category="marketing",
        timestamp="at",
        client=cio_client,
    )
    assert result["status"].tolist() == ["sent", "sent", "invalid"]
    assert result.loc["c", "error"] == "at (timestamp=): must be a date-time"
    assert recorded(cio_fake, result) == [
        {
            "type": "page",
            "userId": "u1",
            "name": "Pricing",
            "timestamp": "2024-05-01T10:00:00.000Z",
            "properties": {"category": "marketing", "url": "https://x.io/pricing"},
        },
        {
            "type": "page",
            "anonymousId": "a2",
            "name": "Docs",
            "timestamp": "2024-05-01T09:00:00.000Z",
            "properties": {"category": "marketing", "url": "https://x.io/docs"},
        },
    ]


def test_screen_sends_the_screen_call(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """screen: a screen call; an empty or missing name is invalid (Journeys drops it)."""
    views = pd.DataFrame(
        {"uid": ["u1", "u2", "u3"], "screen": ["Settings", "", None], "seconds": [3, 5, 8]}
    )
    result = views.cio.screen(user_id="uid", name="screen", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid", "invalid"]
    assert result.loc[1, "error"] == "screen (name=): must be a non-empty string"
    assert result.loc[2, "error"] == (
        "screen (name=): is missing; Customer.io Journeys drops screen views without "
        "a name (journeys=False turns this check off)"
    )
    assert recorded(cio_fake, result) == [
        {"type": "screen", "userId": "u1", "name": "Settings", "properties": {"seconds": 3}},
    ]


def test_screen_without_journeys_leaves_a_missing_name_out(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """journeys=False: a screen call without a name goes, for other destinations."""
    views = pd.DataFrame({"uid": ["u1"], "screen": [None]})
    result = views.cio.screen(user_id="uid", name="screen", client=cio_client, journeys=False)
    assert result["status"].tolist() == ["sent"]
    assert recorded(cio_fake, result) == [{"type": "screen", "userId": "u1"}]


def test_alias_sends_previous_id_and_nothing_else(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """alias: userId and previousId as strings; other columns are not sent."""
    merges = pd.DataFrame({"new": ["u1", "u2"], "old": [42, None], "note": ["x", "y"]})
    result = merges.cio.alias(user_id="new", previous_id="old", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"] == "old (previous_id=): is missing"
    assert recorded(cio_fake, result) == [{"type": "alias", "userId": "u1", "previousId": "42"}]


@pytest.mark.parametrize(
    ("method", "event"),
    [
        ("suppress", "User Suppressed"),
        ("unsuppress", "User Unsuppressed"),
        ("delete", "User Deleted"),
    ],
)
def test_people_actions_send_their_semantic_event(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, method: str, event: str
) -> None:
    """suppress/unsuppress/delete: a track call with the event name, userId and properties."""
    people = pd.DataFrame(
        {
            "email": ["a@x.io", True, "c@x.io"],
            "reason": ["gdpr", "gdpr", None],
            "at": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
        }
    )
    result = getattr(people.cio, method)(user_id="email", timestamp="at", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid", "sent"]
    assert result.loc[1, "error"] == "email (user_id=): must be a non-empty string or an integer"
    assert recorded(cio_fake, result) == [
        {
            "type": "track",
            "event": event,
            "userId": "a@x.io",
            "timestamp": "2024-01-02T00:00:00.000Z",
            "properties": {"reason": "gdpr"},
        },
        {
            "type": "track",
            "event": event,
            "userId": "c@x.io",
            "timestamp": "2024-01-04T00:00:00.000Z",
        },
    ]


def test_people_actions_need_a_user_id() -> None:
    """The people actions take no anonymous id: the reference requires userId."""
    frame = pd.DataFrame({"anon": ["a1"]})
    with pytest.raises(pandas_cio.ColumnError, match="needs user_id="):
        frame.cio.suppress(dry_run=True)
    with pytest.raises(TypeError, match="anonymous_id"):
        frame.cio.semantic.customerio("User Deleted", anonymous_id="anon", dry_run=True)


def test_people_action_is_the_same_operation_as_its_semantic_event() -> None:
    """df.cio.delete and semantic.customerio('User Deleted') send identical messageIds."""
    frame = pd.DataFrame({"id": ["u1", "u2"]})
    # One timestamp for both: without it each send is stamped with its own start.
    when = pandas_cio.lit("2026-05-01T09:00:00Z")
    direct = frame.cio.delete(user_id="id", timestamp=when, dry_run=True)
    semantic = frame.cio.semantic.customerio(
        "User Deleted", user_id="id", timestamp=when, dry_run=True
    )
    pd.testing.assert_series_equal(direct["message_id"], semantic["message_id"])


def test_constants_are_checked_before_sending() -> None:
    """A constant that breaks its role raises ColumnError, before any row is looked at."""
    frame = pd.DataFrame({"id": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError, match="name='' must be a non-empty string"):
        frame.cio.page(user_id="id", name=pandas_cio.lit(""), dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match="category=3 must be a non-empty string"):
        frame.cio.screen(user_id="id", name="Home", category=3, dry_run=True)
