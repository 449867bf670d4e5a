"""The project's own OpenAPI document: what pandas_cio sends, built from its tables.

:func:`build` turns the operations table (:mod:`pandas_cio.catalogue.operations`) and the
semantic event catalogue (:mod:`pandas_cio.catalogue.events`) into a compact OpenAPI 3.1
document: the endpoints, one JSON Schema per operation describing the call
the library sends (where each argument lands, which members are required,
the documented properties of each semantic event with their types), and the
``/batch`` body that carries them. The committed top-level
``cio_pipelines_api.json`` is this document; a test proves the two are equal,
so the document, the validation and the catalogue cannot drift apart.

Rewrite the file after changing a table::

    python -m pandas_cio.catalogue.openapi            # rewrite cio_pipelines_api.json
    python -m pandas_cio.catalogue.openapi --check    # exit 1 if it is out of date
    python -m pandas_cio.catalogue.openapi -o -       # print the document
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from .events import CATEGORY_KEYS, EVENTS, PropertySpec
from .kinds import KINDS
from .operation import (
    ANONYMOUS_ID,
    CONTEXT,
    INTEGRATIONS,
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_EVENT_NAME_BYTES,
    TIMESTAMP,
    USER_ID,
    CallType,
    Operation,
    Role,
)
from .operations import OPERATIONS
from .reserved import RESERVED_EVENTS

__all__ = ["DEFAULT_PATH", "build", "component_name", "main", "render"]

#: Where the document lives: the repository's top level, beside pyproject.toml.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "cio_pipelines_api.json"

_CALL_TYPES: tuple[CallType, ...] = ("identify", "track", "page", "screen", "group", "alias")

# Roles most operations share are described once, under "arg.<name>", and referred to.
_SHARED_ROLES: tuple[Role, ...] = (USER_ID, ANONYMOUS_ID, TIMESTAMP, CONTEXT, INTEGRATIONS)

_INTRODUCTION = """\
What pandas_cio sends to Customer.io's Data Pipelines API, generated from the
library's operations table and semantic event catalogue (python -m
pandas_cio.catalogue.openapi), so it states exactly what the library validates and
encodes. Each DataFrame row becomes one call; calls travel in /batch requests
of at most 500 KB, each call at most 32 KB. The six call endpoints accept the
same calls one at a time. Every call carries a messageId (a ULID of the
call's timestamp and a hash of the operation, the content and the row's
repeat number, or the caller's own), and timestamps are ISO 8601 in UTC;
events sent without a timestamp carry the send's start time. x-argument
names the accessor argument that fills a member; x-method names the
accessor call that sends an operation. A payload object
(traits, properties) holds every column no other argument uses, or the
columns its argument names; documented keys are type-checked, others are
sent as they are.

Customer.io Journeys, the destination behind the API, drops some calls the API
accepts. Unless a send passes journeys=False, the library refuses them first
(status invalid, or an error before sending): x-journeys-needs lists the
arguments Journeys needs a value of in every row, with the reason;
x-journeys-action names the destination action an event reaches. Journeys'
limits apply to every call: ids not empty or blank, at most
{max_attributes} attributes per call (x-journeys-attributes), attribute names
of at most {name_bytes} bytes and values of at most {value_bytes} bytes (a
string's UTF-8, a nested value's JSON), event names of at most {event_bytes}
bytes. A plain track call never carries an event name Journeys routes to
another action (x-journeys-reserved); the method that sends it on purpose is
named there.
""".format(
    max_attributes=MAX_ATTRIBUTES,
    name_bytes=MAX_ATTRIBUTE_NAME_BYTES,
    value_bytes=f"{MAX_ATTRIBUTE_VALUE_BYTES:,}",
    event_bytes=MAX_EVENT_NAME_BYTES,
)


def component_name(operation: Operation) -> str:
    """The schema name of an operation's call in ``components.schemas``.

    Names keep to the characters OpenAPI allows in component keys: a
    semantic event's name has its spaces replaced, ``Order Completed``
    becomes ``event.Order_Completed``.
    """
    if operation.event is not None and operation.name.startswith("semantic:"):
        return "event." + re.sub(r"[^A-Za-z0-9]+", "_", operation.event)
    return operation.name


def _property(spec: PropertySpec) -> dict[str, Any]:
    """JSON Schema of one documented member, from its catalogue entry."""
    out: dict[str, Any] = {"type": spec.type}
    if spec.description:
        out["description"] = spec.description
    if spec.enum:
        out["enum"] = list(spec.enum)
    if spec.format:
        out["format"] = spec.format
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    if spec.items is not None:
        out["items"] = {
            "type": "object",
            "properties": {key: {"type": kind} for key, kind in spec.items.items()},
        }
    elif spec.item_type is not None:
        out["items"] = {"type": spec.item_type}
    return out


def _role(role: Role) -> dict[str, Any]:
    if role in _SHARED_ROLES:
        return {"$ref": f"#/components/schemas/arg.{role.arg}"}
    return _role_schema(role)


def _role_schema(role: Role) -> dict[str, Any]:
    out = dict(KINDS[role.kind].schema)
    if role.choices:
        out["enum"] = list(role.choices)
    if role.description:
        out["description"] = role.description
    out["x-argument"] = role.arg
    return out


def _object() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


def _place(root: dict[str, Any], path: Sequence[str], schema: dict[str, Any], needed: bool) -> None:
    """Put ``schema`` at ``path`` of an object schema, making the objects on the way."""
    node = root
    for key in path[:-1]:
        if needed:
            node.setdefault("required", [])
            if key not in node["required"]:
                node["required"].append(key)
        child = node["properties"].setdefault(key, _object())
        child.setdefault("type", "object")
        child.setdefault("properties", {})
        node = child
    leaf = path[-1]
    existing = node["properties"].get(leaf)
    if existing is not None and existing.get("type") == "object" and "properties" in existing:
        # A whole-object argument (context) over members placed beneath it.
        existing.update({k: v for k, v in schema.items() if k not in ("type", "properties")})
    else:
        node["properties"][leaf] = schema
    if needed:
        node.setdefault("required", [])
        if leaf not in node["required"]:
            node["required"].append(leaf)


def _call(operation: Operation) -> dict[str, Any]:
    """JSON Schema of the call an operation sends."""
    call: dict[str, Any] = {
        "title": operation.event or operation.name,
        "description": operation.summary,
        "x-method": f"df.cio.{operation.method}",
        "type": "object",
        "required": ["type", "messageId"],
        "properties": {
            "type": {"const": operation.call_type},
            "messageId": {"type": "string", "x-argument": "message_id"},
        },
    }
    if operation.event is not None:
        call["x-event"] = operation.event
        call["x-category"] = EVENTS[operation.event].category
        call["x-journeys-action"] = EVENTS[operation.event].journeys_action
    if operation.journeys_needs:
        call["x-journeys-needs"] = dict(operation.journeys_needs)
    if operation.attributes:
        call["x-journeys-attributes"] = list(operation.payload or ())
    if operation.name == "track":
        call["x-journeys-reserved"] = dict(RESERVED_EVENTS)
    # Whole objects first, so members placed beneath them keep their own schemas.
    roles = sorted(operation.roles, key=lambda role: len(role.path))
    for role in roles:
        if role.arg == "message_id":
            continue
        needed = role.required and not role.nullable
        _place(call, role.path, _role(role), needed)
    for path, value in operation.constants:
        _place(call, path, {"const": value} if value != {} else _object(), True)
    if operation.identity == "user":
        _require(call, "userId")
    elif operation.identity == "anonymous":
        _require(call, "anonymousId")
    elif operation.identity == "user_or_anonymous":
        call["anyOf"] = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
    if operation.payload is not None:
        payload: dict[str, Any] = {
            "type": "object",
            "x-argument": operation.payload_arg,
            "properties": {key: _property(spec) for key, spec in operation.payload_fields.items()},
        }
        if operation.payload_required:
            payload["required"] = list(operation.payload_required)
            _require_path(call, operation.payload)
        _merge_payload(call, operation.payload, payload)
    return call


def _require(call: dict[str, Any], key: str) -> None:
    if key not in call["required"]:
        call["required"].append(key)


def _require_path(call: dict[str, Any], path: Sequence[str]) -> None:
    """Mark every object on ``path`` required (the payload holds a required key)."""
    node = call
    for key in path:
        node.setdefault("required", [])
        if key not in node["required"]:
            node["required"].append(key)
        node = node["properties"].setdefault(key, _object())
        node.setdefault("properties", {})


def _merge_payload(call: dict[str, Any], path: Sequence[str], payload: dict[str, Any]) -> None:
    """Place the payload object, keeping members roles already put inside it."""
    node = call
    for key in path[:-1]:
        node = node["properties"].setdefault(key, _object())
        node.setdefault("properties", {})
    existing = node["properties"].get(path[-1])
    if existing is not None:
        payload["properties"] = {**existing.get("properties", {}), **payload["properties"]}
        required = [*existing.get("required", []), *payload.get("required", [])]
        if required:
            payload["required"] = list(dict.fromkeys(required))
    node["properties"][path[-1]] = payload


def build() -> dict[str, Any]:
    """Return the OpenAPI document of every operation and event the library supports."""
    schemas: dict[str, Any] = {
        "Batch": {
            "description": "The body of every request the library makes.",
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}},
                "sentAt": {"type": "string", "format": "date-time"},
            },
        },
        "Call": {
            "description": "One call of any operation.",
            "anyOf": [
                {"$ref": f"#/components/schemas/{component_name(op)}"} for op in OPERATIONS.values()
            ],
        },
    }
    for role in _SHARED_ROLES:
        schemas[f"arg.{role.arg}"] = _role_schema(role)
    for op in OPERATIONS.values():
        schemas[component_name(op)] = _call(op)
    paths: dict[str, Any] = {
        "/batch": _endpoint("Send calls of any type; the only endpoint the library uses.", "Batch")
    }
    for call_type in _CALL_TYPES:
        names = [component_name(op) for op in OPERATIONS.values() if op.call_type == call_type]
        schemas[f"call.{call_type}"] = {
            "description": f"Any {call_type} call the library makes.",
            "anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in names],
        }
        paths[f"/{call_type}"] = _endpoint(
            f"One {call_type} call; the library sends these through /batch.", f"call.{call_type}"
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pandas_cio: calls sent to the Customer.io Data Pipelines API",
            "version": __version__,
            "description": _INTRODUCTION,
        },
        "servers": [
            {"url": "https://cdp.customer.io/v1", "description": "US region"},
            {"url": "https://cdp-eu.customer.io/v1", "description": "EU region"},
        ],
        "security": [{"basic": []}, {"bearer": []}],
        "tags": [{"name": "semantic events", "x-categories": list(CATEGORY_KEYS)}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Legacy keys: the key as user name, an empty password.",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Keys that start with pk_us_, sk_us_, pk_eu_ or sk_eu_.",
                },
            },
            "schemas": schemas,
        },
    }


def _endpoint(summary: str, schema: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            "responses": {
                "200": {
                    "description": "Accepted. The service also answers 200 when it drops a "
                    "call over 32 KB or a body over 500 KB, which the library never sends."
                },
                "401": {"description": "The key was refused."},
                "429": {"description": "Over the rate limit; retried after Retry-After."},
            },
        }
    }


def render() -> str:
    """Return the document as the committed file holds it (UTF-8 JSON text)."""
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write, print or check the document (``python -m pandas_cio.catalogue.openapi``).

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds the file out of date.
    """
    parser = argparse.ArgumentParser(
        prog="python -m pandas_cio.catalogue.openapi",
        description="Write the project's OpenAPI document of what pandas_cio sends.",
    )
    parser.add_argument(
        "-o", "--output", default=str(DEFAULT_PATH), help="file to write, or - for stdout"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the generated text"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(
                f"{path} is out of date; run python -m pandas_cio.catalogue.openapi",
                file=sys.stderr,
            )
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(text.encode()):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
