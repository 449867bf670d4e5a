"""Ledger keys: what a call sets the state of, read from the call or from its columns.

:func:`call_key` defines the key of one decoded call. A send with a ledger
needs the key of every call it encodes, and decoding each call again to read
a few fields would cost about as much as a send without a ledger. So the
encoder hands on, beside each slice's bytes, the values its calls hold at the
paths :data:`KEY_FIELDS` names (see
:class:`~pandas_cio.prepare.encoding.EncodedSlice`), and :func:`column_keys`
builds the same keys from those columns. ``tests/unit/ledger/test_ledger_columns.py``
holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import orjson
import pandas as pd

__all__ = ["DEVICE_EVENT", "KEY_FIELDS", "Path", "call_key", "column_keys"]

Path = tuple[str, ...]

_USER: Path = ("userId",)
_ANONYMOUS: Path = ("anonymousId",)
_GROUP: Path = ("groupId",)
_OBJECT_TYPE: Path = ("traits", "object_type_id")
_EVENT: Path = ("event",)
_TOKEN: Path = ("context", "device", "token")

#: The paths of a call, by call type, that its key is made of (no entry: no key).
KEY_FIELDS: dict[str, tuple[Path, ...]] = {
    "identify": (_USER, _ANONYMOUS),
    "group": (_OBJECT_TYPE, _GROUP, _USER, _ANONYMOUS),
    "track": (_EVENT, _TOKEN, _USER, _ANONYMOUS),
}


def _person(call: dict[str, Any]) -> str | None:
    # One id after a fixed prefix: unambiguous whatever the id holds.
    if (user := call.get("userId")) is not None:
        return f"user:{user}"
    if (anonymous := call.get("anonymousId")) is not None:
        return f"anonymous:{anonymous}"
    return None


def _object(call: dict[str, Any]) -> str:
    traits = call.get("traits")
    object_type = traits.get("object_type_id") if isinstance(traits, dict) else None
    # The service reads a missing object type as 1; say so, or the same object
    # would have two keys and a change made under one would be missed under the other.
    parts = [str(object_type if object_type is not None else "1"), str(call.get("groupId"))]
    if (person := _person(call)) is not None:
        parts.append(person)
    # Several ids: a JSON array keeps them apart whatever they hold.
    return orjson.dumps(parts).decode()


# The event that registers a device sets the state of that device.
DEVICE_EVENT = "Device Created or Updated"


def _device(call: dict[str, Any]) -> str | None:
    if call.get("event") != DEVICE_EVENT:
        return None
    context = call.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    token = device.get("token") if isinstance(device, dict) else None
    return orjson.dumps(["device", _person(call), token]).decode()


# The call types whose calls set the state of one person, object or device.
# Other calls are events: each call happens once, whatever came before.
_KEYS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "identify": _person,
    "group": _object,
    "track": _device,
}


def call_key(call: dict[str, Any]) -> str | None:
    """Return the key of a decoded call: what it sets the state of, or None for events.

    For ``identify`` the person: ``"user:ID"``, or ``"anonymous:ID"`` without a
    userId. For ``group`` a JSON array of the object type (``"1"`` when
    absent), the ``groupId`` and the person, if the call has one. For the
    ``Device Created or Updated`` event (``devices.register``) a JSON array of
    ``"device"``, the person and the token.

    Examples
    --------
    >>> call_key({"type": "identify", "userId": "u1", "traits": {"plan": "pro"}})
    'user:u1'
    >>> call_key({"type": "group", "groupId": "acme", "traits": {"object_type_id": "2"}})
    '["2","acme"]'
    >>> call_key({"type": "track", "userId": "u1", "event": "Signed Up"}) is None
    True
    >>> call_key({"type": "track", "userId": "u1", "event": "Device Created or Updated",
    ...           "context": {"device": {"token": "t1", "type": "ios"}}})
    '["device","user:u1","t1"]'
    """
    keyer = _KEYS.get(call.get("type"))  # type: ignore[arg-type]
    return keyer(call) if keyer is not None else None


def column_keys(call_type: str, fields: Mapping[Path, np.ndarray], rows: int) -> np.ndarray:
    """Return the key of each call from the values it holds: :func:`call_key` by columns.

    Parameters
    ----------
    call_type : str
        The calls' type (``"identify"``, ``"group"``, ``"track"``...).
    fields : mapping of path to numpy.ndarray
        For each path of :data:`KEY_FIELDS` for ``call_type``, the value each
        call holds there (None where it holds none), as an object array.
    rows : int
        The number of calls.

    Returns
    -------
    numpy.ndarray
        An object array of str, or None for calls without a key.

    Examples
    --------
    >>> import numpy as np
    >>> users = np.array(["u1", None], dtype=object)
    >>> fields = {("userId",): users, ("anonymousId",): np.array([None, "a2"], dtype=object)}
    >>> column_keys("identify", fields, 2).tolist()
    ['user:u1', 'anonymous:a2']
    """
    keys = np.full(rows, None, dtype=object)
    if rows == 0 or call_type not in KEY_FIELDS:
        return keys
    if call_type == "track":
        devices = fields[_EVENT] == DEVICE_EVENT
        if devices.any():
            people = _people(fields, rows)[devices]
            tokens = fields[_TOKEN][devices]
            keys[devices] = [
                orjson.dumps(["device", p, t]).decode()
                for p, t in zip(people.tolist(), tokens.tolist(), strict=True)
            ]
        return keys
    people = _people(fields, rows)
    if call_type == "identify":
        return people
    # The service reads a missing object type as 1 (see _object).
    types = [str(t if t is not None else "1") for t in fields[_OBJECT_TYPE].tolist()]
    groups = [str(g) for g in fields[_GROUP].tolist()]
    keys[:] = [
        orjson.dumps([t, g] if p is None else [t, g, p]).decode()
        for t, g, p in zip(types, groups, people.tolist(), strict=True)
    ]
    return keys


def _people(fields: Mapping[Path, np.ndarray], rows: int) -> np.ndarray:
    """Each call's person, as :func:`_person` reads it: ``user:ID``, ``anonymous:ID`` or None."""
    users, anonymous = fields[_USER], fields[_ANONYMOUS]
    out = np.full(rows, None, dtype=object)
    _prefixed(out, "anonymous:", anonymous)
    _prefixed(out, "user:", users)  # a userId wins over an anonymousId
    return out


def _prefixed(out: np.ndarray, prefix: str, values: np.ndarray) -> None:
    """Write ``prefix`` and each present value into ``out`` where the value is present."""
    # call_key tests "is not None"; the encoder hands on JSON values, never NaN,
    # so notna is that test.
    present = np.asarray(pd.notna(values), dtype=bool)
    if not present.any():
        return
    chosen = values[present].tolist()
    try:
        out[present] = [prefix + v for v in chosen]  # ids are text: the usual case
    except TypeError:
        out[present] = [f"{prefix}{v}" for v in chosen]
