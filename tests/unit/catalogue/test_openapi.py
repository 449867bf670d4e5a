"""The project's own OpenAPI document agrees with the library that sends the calls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import REPO
from reference import date_time_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import pandas_cio
from pandas_cio.catalogue import openapi
from pandas_cio.catalogue.events import EVENTS, PropertySpec
from pandas_cio.catalogue.operations import OPERATIONS, get_operation, operation_for_event
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.schemas import plan_for
from pandas_cio.testing import FakeCio, arguments_for, valid_frames

DOCUMENT = REPO / "cio_pipelines_api.json"
URI = "urn:pandas-cio-openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The committed document, as a reader of the repository gets it."""
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def validator(document: dict[str, Any]) -> Any:
    """A factory of JSON Schema validators for the document's component schemas."""
    registry: Registry[Any] = Registry().with_resource(
        URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    checker = date_time_checker()

    def make(name: str) -> jsonschema.Draft202012Validator:
        ref = {"$ref": f"{URI}#/components/schemas/{name}"}
        return jsonschema.Draft202012Validator(ref, registry=registry, format_checker=checker)

    return make


def encoded_calls(operation: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The calls the library sends for a frame valid for ``operation``."""
    plan, _ = plan_for(operation, frame, **arguments_for(operation))
    encoded = Encoder(plan).encode(frame, np.arange(len(frame)))
    assert not encoded.invalid
    return [json.loads(call) for call in encoded.calls]


def test_committed_document_is_what_openapi_generates() -> None:
    """cio_pipelines_api.json equals openapi.render(); if not, regenerate it.

    The command: python -m pandas_cio.catalogue.openapi
    """
    assert DOCUMENT.read_text(encoding="utf-8") == openapi.render()


def test_the_command_writes_the_committed_document_by_default() -> None:
    """With no -o, the command writes the repository's document, not one inside the package.

    The module moved into catalogue/ and its default path still counted one
    folder up, so a plain ``python -m pandas_cio.catalogue.openapi`` wrote a
    stray file into the package instead of refreshing the committed one.
    """
    assert openapi.DEFAULT_PATH == REPO / "cio_pipelines_api.json"


def test_the_command_checks_and_rewrites_the_file(tmp_path: Path) -> None:
    """The openapi module writes the document, and --check tells stale from fresh."""
    target = tmp_path / "api.json"
    target.write_text("{}", encoding="utf-8")
    command = [sys.executable, "-m", "pandas_cio.catalogue.openapi", "-o", str(target), "--check"]
    stale = subprocess.run(command, capture_output=True, text=True)
    assert stale.returncode == 1
    assert "out of date" in stale.stderr
    assert openapi.main(["-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == openapi.render()
    assert openapi.main(["-o", str(target), "--check"]) == 0


def test_every_operation_has_its_call_schema(document: dict[str, Any]) -> None:
    """One schema per operation, named as component_name says, listed by Call."""
    schemas = document["components"]["schemas"]
    names = {openapi.component_name(op) for op in OPERATIONS.values()}
    assert names <= set(schemas)
    listed = {ref["$ref"].rsplit("/", 1)[-1] for ref in schemas["Call"]["anyOf"]}
    assert listed == names
    assert set(document["paths"]) == {
        "/batch",
        "/identify",
        "/track",
        "/page",
        "/screen",
        "/group",
        "/alias",
    }


def member(call: dict[str, Any], path: list[str], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema of a member at ``path`` in a call schema, following $refs."""
    node = call
    for key in path:
        node = node["properties"][key]
        while "$ref" in node and "properties" not in node and "type" not in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def assert_documents(prop: PropertySpec, found: dict[str, Any]) -> None:
    """The document says what the catalogue says about one member."""
    if prop.format == "date-time":
        assert found["format"] == "date-time"
        return
    assert found["type"] == prop.type
    assert found.get("enum") == (list(prop.enum) if prop.enum else None)
    assert found.get("minimum") == prop.minimum
    assert found.get("maximum") == prop.maximum
    if prop.items is not None:
        assert {k: v["type"] for k, v in found["items"]["properties"].items()} == prop.items
    elif prop.item_type is not None:
        assert found["items"]["type"] == prop.item_type


@pytest.mark.parametrize("name", sorted(n for n, spec in EVENTS.items() if not spec.refused))
def test_the_document_agrees_with_the_catalogue(name: str, document: dict[str, Any]) -> None:
    """Each event: its name, every documented member at its path with its type, required ones."""
    spec = EVENTS[name]
    schemas = document["components"]["schemas"]
    (call,) = [s for s in schemas.values() if s.get("x-event") == name]
    assert call["properties"]["event"] == {"const": name}
    assert call["x-category"] == spec.category
    assert call["x-journeys-action"] == spec.journeys_action
    for key, prop in spec.properties.items():
        assert_documents(prop, member(call, ["properties", key], schemas))
    for path, prop in spec.call_fields.items():
        assert_documents(prop, member(call, path.split("."), schemas))
    documented = call["properties"]["properties"]
    assert set(documented.get("required", [])) == set(spec.required)
    for path in spec.required_call_fields:
        *parents, leaf = path.split(".")
        node = call
        for key in parents:
            node = node["properties"][key]
        assert leaf in node["required"]


@pytest.mark.parametrize("name", ["identify", "page", "objects.relate", "devices.register"])
def test_arguments_are_documented_where_they_land(name: str, document: dict[str, Any]) -> None:
    """Every role of the operation appears at its path with its argument's name."""
    op = get_operation(name)
    schemas = document["components"]["schemas"]
    call = schemas[openapi.component_name(op)]
    for role in op.roles:
        found = member(call, list(role.path), schemas)
        if "$ref" in found:
            found = schemas[found["$ref"].rsplit("/", 1)[-1]]
        assert found["x-argument"] == role.arg


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_calls_the_library_sends_validate_against_the_document(
    operation: str, data: st.DataObject, validator: Any
) -> None:
    """Calls encoded from valid frames pass their operation's schema and the Call schema."""
    frame = data.draw(valid_frames(operation, min_rows=1, max_rows=4))
    name = openapi.component_name(get_operation(operation))
    for call in encoded_calls(operation, frame):
        validator(name).validate(call)
        validator("Call").validate(call)


def test_a_call_breaking_the_document_is_rejected(validator: Any) -> None:
    """The validation above is not vacuous: a device without a token, or with a bad platform."""
    op = operation_for_event("Device Created or Updated")
    call = {
        "type": "track",
        "event": op.event,
        "messageId": "m1",
        "userId": "u1",
        "context": {"device": {"type": "ios"}},
    }
    with pytest.raises(jsonschema.ValidationError, match="'token' is a required property"):
        validator("devices.register").validate(call)
    call["context"]["device"] = {"token": "t", "type": "windows"}
    with pytest.raises(jsonschema.ValidationError, match="'windows' is not one of"):
        validator("devices.register").validate(call)


def test_request_bodies_validate_as_batch(fake: FakeCio, validator: Any) -> None:
    """What reaches the server over HTTP is a Batch body of the document."""
    frame = pd.DataFrame({"id": ["u1", "u2"], "plan": ["pro", None]})
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        frame.cio.identify(user_id="id", client=client)
        frame.cio.semantic.customerio("User Deleted", user_id="id", client=client)
    for request in fake.requests:
        validator("Batch").validate(json.loads(request.body))
