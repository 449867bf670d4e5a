"""Objects and relationships (group calls, Object/Relationship Deleted) over real HTTP."""

from __future__ import annotations

import pandas as pd
import pytest
from frame_cases import recorded

import pandas_cio
from pandas_cio.testing import FakeCio


def test_upsert_sends_group_calls_with_a_string_object_type(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """upsert: groupId and object_type_id as strings, other columns in traits.objectAttributes.

    Customer.io's Journeys destination reads object attributes only from
    ``traits.objectAttributes``; flat in ``traits`` they were lost.
    """
    accounts = pd.DataFrame(
        {
            "account": ["acme", 7, None],
            "kind": [2, 3, 2],
            "name": ["Acme", "Seven", "Nobody"],
            "seats": [10, None, 1],
        }
    )
    result = accounts.cio.objects.upsert(
        object_id="account", object_type_id="kind", client=cio_client
    )
    assert result["status"].tolist() == ["sent", "sent", "invalid"]
    assert result.loc[2, "error"] == "account (object_id=): is missing"
    assert recorded(cio_fake, result) == [
        {
            "type": "group",
            "groupId": "acme",
            "traits": {
                "object_type_id": "2",
                "objectAttributes": {"name": "Acme", "seats": 10.0},
            },
        },
        {
            "type": "group",
            "groupId": "7",
            "traits": {"object_type_id": "3", "objectAttributes": {"name": "Seven"}},
        },
    ]


def test_relate_puts_relationship_attributes_in_traits(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """relate: the person, groupId, traits.object_type_id and traits.relationshipAttributes."""
    members = pd.DataFrame(
        {
            "uid": ["u1", None, None],
            "anon": [None, "a2", None],
            "account": ["acme", "acme", "acme"],
            "role": ["admin", "viewer", "admin"],
        }
    )
    result = members.cio.objects.relate(
        user_id="uid",
        anonymous_id="anon",
        object_id="account",
        object_type_id=1,
        client=cio_client,
    )
    assert result["status"].tolist() == ["sent", "sent", "invalid"]
    assert result.loc[2, "error"] == (
        "uid (user_id=) or anon (anonymous_id=): one of them needs a value"
    )
    assert recorded(cio_fake, result) == [
        {
            "type": "group",
            "userId": "u1",
            "groupId": "acme",
            "traits": {"object_type_id": "1", "relationshipAttributes": {"role": "admin"}},
        },
        {
            "type": "group",
            "anonymousId": "a2",
            "groupId": "acme",
            "traits": {"object_type_id": "1", "relationshipAttributes": {"role": "viewer"}},
        },
    ]


def test_unrelate_sends_relationship_deleted(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """unrelate: Relationship Deleted with objectId as a string and objectTypeId an integer."""
    leavers = pd.DataFrame(
        {"uid": ["u1", "u2"], "account": ["acme", "initech"], "kind": [1.0, 1.5]}
    )
    result = leavers.cio.objects.unrelate(
        user_id="uid", object_id="account", object_type_id="kind", client=cio_client
    )
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"] == "kind (object_type_id=): must be an integer"
    assert recorded(cio_fake, result) == [
        {
            "type": "track",
            "event": "Relationship Deleted",
            "userId": "u1",
            "properties": {"objectId": "acme", "objectTypeId": 1.0},
        }
    ]


def test_delete_sends_object_deleted_with_an_unused_anonymous_id(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """delete: Object Deleted, anonymousId set (the service ignores it), objectTypeId an int."""
    closed = pd.DataFrame({"account": ["acme", " "], "closed_by": ["ops", "ops"]})
    result = closed.cio.objects.delete(object_id="account", object_type_id=2, client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert (
        result.loc[1, "error"] == "account (object_id=): must be a non-empty string or an integer"
    )
    assert recorded(cio_fake, result) == [
        {
            "type": "track",
            "event": "Object Deleted",
            "anonymousId": "pandas_cio",
            "properties": {"objectId": "acme", "objectTypeId": 2, "closed_by": "ops"},
        }
    ]


def test_group_deleted_is_refused_with_a_pointer_to_objects_delete() -> None:
    """Group Deleted reaches no delete action in Journeys: refused, pointing to objects.delete.

    It used to be sent, and became a custom event that deleted nothing.
    """
    frame = pd.DataFrame({"account": ["acme"]})
    with pytest.raises(pandas_cio.UnknownEventError, match=r"df\.cio\.objects\.delete"):
        frame.cio.semantic.customerio(
            "Group Deleted", object_id="account", anonymous_id=pandas_cio.lit("job-7"), dry_run=True
        )
    with pytest.raises(pandas_cio.UnknownEventError, match="Object Deleted"):
        pandas_cio.schema("Group Deleted", object_id="account")


def test_object_type_constants_are_checked_per_call_shape() -> None:
    """A group takes any id as object type; Object Deleted needs an integer."""
    frame = pd.DataFrame({"account": ["acme"]})
    assert frame.cio.objects.upsert(object_id="account", object_type_id="2", dry_run=True)[
        "status"
    ].tolist() == ["dry_run"]
    with pytest.raises(pandas_cio.ColumnError, match="object_type_id='2' must be an integer"):
        frame.cio.objects.delete(object_id="account", object_type_id="2", dry_run=True)


def test_objects_need_an_object_id() -> None:
    """Every object operation raises before sending when object_id= is not given."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError, match=r"needs object_id="):
        frame.cio.objects.relate(user_id="uid", dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match=r"needs object_id="):
        frame.cio.objects.delete(dry_run=True)
