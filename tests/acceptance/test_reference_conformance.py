"""What the library sends validates against Customer.io's public reference (when present).

The reference is read from ``../shared/reference`` beside the repository, or
from ``PANDAS_CIO_REFERENCE``; every test here skips when it is absent (see
``reference_dir`` in conftest.py). Two of the reference's quirks are repaired
before validating, each shown by a test below:

- Its ``oneOf`` alternatives overlap: "Known User" and "Anonymous User"
  require nothing that excludes the other (a call with both ids, or a group
  call with neither, matches both), and so do its mobile and non-mobile
  contexts. ``oneOf`` then rejects every such call, so the alternatives are
  read as ``anyOf``: a call must still satisfy one alternative in full.
- ``Group Deleted`` shares the ``group_deleted`` schema, whose event enum
  names only ``Object Deleted``; its calls are checked under that name.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import CATEGORY_OF_LABEL, EVENT_NAME_ALIASES, date_time_checker
from reference import REFERENCE_URI as URI
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

import pandas_cio
from pandas_cio.catalogue.events import EVENTS, lookup
from pandas_cio.catalogue.operations import OPERATIONS, get_operation, operation_for_event
from pandas_cio.errors import UnknownEventError
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.schemas import plan_for
from pandas_cio.testing import FakeCio, arguments_for, valid_frames


def _load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, Any]:
    """The public OpenAPI description of the Data Pipelines API."""
    loaded: dict[str, Any] = _load(reference_dir, "cio_pipelines_api.json")
    return loaded


@pytest.fixture(scope="module")
def semantic_events(reference_dir: Path) -> dict[str, dict[str, str]]:
    """The reference's map of the 71 semantic event names to category and schema."""
    loaded: dict[str, dict[str, str]] = _load(reference_dir, "semantic_events.json")
    return loaded


def any_of(node: Any) -> Any:
    """A copy of a schema where every oneOf reads as anyOf (see the module docstring)."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [any_of(v) for v in node]
    return node


@pytest.fixture(scope="module")
def validator_for(reference: dict[str, Any]) -> Any:
    """A factory of validators for a JSON pointer into the reference, $refs resolved."""
    registries = {
        repaired: Registry().with_resource(
            URI,
            Resource.from_contents(
                any_of(reference) if repaired else reference, default_specification=DRAFT7
            ),
        )
        for repaired in (True, False)
    }
    checker = date_time_checker()

    def make(pointer: str, *, repaired: bool = True) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator(
            {"$ref": f"{URI}#{pointer}"}, registry=registries[repaired], format_checker=checker
        )

    return make


def endpoint(call_type: str) -> str:
    """JSON pointer to the request body schema of a call type's endpoint."""
    return f"/paths/~1{call_type}/post/requestBody/content/application~1json/schema"


def members(schema: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Top-level member names of a schema, through $ref and allOf."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= members(part, schemas)
    return names


def event_instance(name: str, call: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The part of a call an event's schema describes: the whole call, or its properties."""
    schema = schemas[EVENTS[name].reference]
    if "oneOf" in schema or members(schema, schemas) & {"event", "properties"}:
        instance = copy.deepcopy(call)
        instance["event"] = EVENT_NAME_ALIASES.get(name, name)
        return instance
    return call.get("properties", {})


def encoded_calls(operation: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The calls the library sends for a frame valid for ``operation``."""
    plan, _ = plan_for(operation, frame, **arguments_for(operation))
    encoded = Encoder(plan).encode(frame, np.arange(len(frame)))
    assert not encoded.invalid
    return [json.loads(call) for call in encoded.calls]


def test_every_reference_event_name_is_supported(
    semantic_events: dict[str, dict[str, str]],
) -> None:
    """Each of the reference's names has an operation, in the reference's category.

    Except Group Deleted, which Customer.io Journeys does not act on: it is
    catalogued and refused with a pointer to objects.delete.
    """
    assert len(semantic_events) == 71
    for name, info in semantic_events.items():
        category = CATEGORY_OF_LABEL[info["category"]]
        assert lookup(category, name).reference == info["schema"]
        if lookup(category, name).refused:
            assert name == "Group Deleted"
            with pytest.raises(UnknownEventError, match=r"objects\.delete"):
                operation_for_event(name)
            continue
        assert operation_for_event(name).event == name


# Report Delivery Event metrics the Journeys destination takes beyond the reference's four.
JOURNEYS_ONLY_METRICS = {"bounced", "spammed", "dropped", "deferred"}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_sent_calls_validate_against_the_reference(
    operation: str, data: st.DataObject, reference: dict[str, Any], validator_for: Any
) -> None:
    """Calls encoded from valid frames pass the endpoint schema and their event's schema."""
    op = get_operation(operation)
    schemas = reference["components"]["schemas"]
    frame = data.draw(valid_frames(operation, min_rows=1, max_rows=4))
    for call in encoded_calls(operation, frame):
        validator_for(endpoint(op.call_type)).validate(call)
        if op.event == "Report Delivery Event" and call["properties"]["metric"] in (
            JOURNEYS_ONLY_METRICS
        ):
            continue  # valid for the Journeys destination, unknown to the reference
        if op.event is not None:
            instance = event_instance(op.event, call, schemas)
            validator_for(f"/components/schemas/{EVENTS[op.event].reference}").validate(instance)


def test_request_bodies_validate_against_the_batch_schema(
    fake: FakeCio, validator_for: Any
) -> None:
    """Bodies that reached the server over HTTP pass the reference's /batch schema."""
    people = pd.DataFrame({"id": ["u1", "u2"], "anon": [None, "a2"], "plan": ["pro", None]})
    lines = pd.DataFrame(
        {"cust": ["c1", "c1"], "order_id": ["o1", "o1"], "sku": ["a", "b"], "price": [1.0, 2.5]}
    )
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        people.cio.identify(user_id="id", anonymous_id="anon", client=client)
        people.cio.objects.relate(user_id="id", object_id="plan", object_type_id=1, client=client)
        people.cio.objects.delete(object_id="id", object_type_id=1, client=client)
        lines.cio.semantic.ecommerce(
            "Order Completed",
            user_id="cust",
            group_by="order_id",
            products=["sku", "price"],
            client=client,
        )
    assert len(fake.requests) == 4
    for request in fake.requests:
        validator_for(endpoint("batch")).validate(json.loads(request.body))


def test_object_type_ids_take_the_types_the_reference_documents(validator_for: Any) -> None:
    """group wants the string "1", Object Deleted the integer 1: each refuses the other."""
    group = {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"object_type_id": 1}}
    with pytest.raises(jsonschema.ValidationError):
        validator_for(endpoint("group")).validate(group)
    deleted = {
        "type": "track",
        "event": "Object Deleted",
        "anonymousId": "pandas_cio",
        "properties": {"objectId": "acme", "objectTypeId": "1"},
    }
    with pytest.raises(jsonschema.ValidationError, match="'1' is not of type 'integer'"):
        validator_for("/components/schemas/group_deleted").validate(deleted)


def test_the_unrepaired_reference_rejects_ordinary_calls(validator_for: Any) -> None:
    """Why oneOf is read as anyOf: a call with both ids fails the literal reference."""
    call = {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m"}
    validator_for(endpoint("identify")).validate(call)
    with pytest.raises(jsonschema.ValidationError, match="valid under each of"):
        validator_for(endpoint("identify"), repaired=False).validate(call)


def test_validation_is_not_vacuous(validator_for: Any) -> None:
    """A device call without its token, and an order with a text revenue, fail the reference."""
    device = {"type": "track", "event": "Device Created or Updated", "userId": "u1", "context": {}}
    with pytest.raises(jsonschema.ValidationError):
        validator_for("/components/schemas/create_update_device").validate(device)
    with pytest.raises(jsonschema.ValidationError):
        validator_for("/components/schemas/order_completed").validate({"revenue": "lots"})
