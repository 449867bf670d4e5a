"""What a role's values must be: one row per value kind.

Every :class:`~pandas_cio.catalogue.operation.Role` has a kind. What a kind
means is written once, here, and read by every stage that needs it:

- validation refuses a value with the row's :attr:`KindSpec.refusal`, as do
  the checks of constants (:mod:`pandas_cio.prepare.kind_checks` holds the
  code that decides, keyed by the same kinds);
- conversion writes a value in the row's :attr:`KindSpec.wire` form
  (:mod:`pandas_cio.prepare.values`, :mod:`pandas_cio.prepare.fragments`);
- the OpenAPI document describes a value with :attr:`KindSpec.schema`
  (:mod:`pandas_cio.catalogue.openapi`);
- the hypothesis strategies draw :attr:`KindSpec.valid` and break rows with
  :attr:`KindSpec.invalid` (:mod:`pandas_cio.testing.strategies`);
- the command line and Spark treat :attr:`KindSpec.nested` kinds as JSON,
  not as column names or key columns.

Adding a kind: add it to :data:`Kind` and give it a row in :data:`KINDS`
(an import-time check refuses one without the other), then its checks in
:data:`pandas_cio.prepare.kind_checks.CHECKS` (checked the same way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

__all__ = ["KINDS", "Kind", "KindSpec", "Wire"]

Kind = Literal["id", "text", "timestamp", "integer", "enum", "object", "json"]
"""The kinds of role values; each has a row in :data:`KINDS`."""

# How a value is written in the call:
#   id-string  a string: text as it is, an integral number as its digits
#   iso-utc    an ISO 8601 date-time in UTC with milliseconds ("...T12:00:00.000Z")
#   json       the value's own JSON form
Wire = Literal["id-string", "iso-utc", "json"]


@dataclass(frozen=True)
class KindSpec:
    """One row of the kinds table.

    Attributes
    ----------
    kind : Kind
        The kind's name, as roles spell it.
    meaning : str
        What the values must be, in a sentence (docs and reviews).
    refusal : str
        The reason given for a value of the wrong kind, e.g. ``"must be an
        integer"``; ``{choices}`` stands for the allowed values (enum).
    wire : Wire
        How a value is written in the call.
    schema : Mapping[str, Any]
        The JSON Schema of a value, in the OpenAPI document.
    valid : tuple
        Values the kind accepts (each alone in a column, or as a constant);
        the strategies draw them, a test proves validation accepts them.
        Empty for enum, whose values are each role's choices.
    invalid : Any
        A value the kind refuses with :attr:`refusal`; the strategies use it
        to break rows.
    nested : bool
        Values are objects or free-form JSON: the command line reads them as
        JSON text, and Spark never copies their columns into status rows.
    """

    kind: Kind
    meaning: str
    refusal: str
    wire: Wire
    schema: Mapping[str, Any]
    valid: tuple[Any, ...]
    invalid: Any
    nested: bool = False

    def __post_init__(self) -> None:
        """Freeze the schema, so no reader can change what others read."""
        object.__setattr__(self, "schema", MappingProxyType(dict(self.schema)))

    def refuse(self, choices: Sequence[str] = ()) -> str:
        """The reason of a refused value, with the allowed ``choices`` filled in.

        Examples
        --------
        >>> KINDS["enum"].refuse(["android", "ios"])
        'must be one of android, ios'
        >>> KINDS["id"].refuse()
        'must be a non-empty string or an integer'
        """
        return self.refusal.format(choices=", ".join(choices))


_ROWS = (
    KindSpec(
        "id",
        meaning="A non-empty string (not only whitespace) or an integral number.",
        refusal="must be a non-empty string or an integer",
        wire="id-string",
        schema={"type": "string", "minLength": 1},
        valid=("u-1", 42, 7.0),
        invalid=True,
    ),
    KindSpec(
        "text",
        meaning="A non-empty string (not only whitespace).",
        refusal="must be a non-empty string",
        wire="json",
        schema={"type": "string", "minLength": 1},
        valid=("Signed Up", " padded "),
        invalid=123,
    ),
    KindSpec(
        "timestamp",
        meaning="A date-time: a datetime dtype, datetime objects or ISO 8601 strings.",
        refusal="must be a date-time",
        wire="iso-utc",
        schema={"type": "string", "format": "date-time"},
        valid=(dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC), "2024-05-01T12:00:00Z"),
        invalid="not a date",
    ),
    KindSpec(
        "integer",
        meaning="An integral number.",
        refusal="must be an integer",
        wire="json",
        schema={"type": "integer"},
        valid=(3, 0),
        invalid=1.5,
    ),
    KindSpec(
        "enum",
        meaning="One of the role's choices.",
        refusal="must be one of {choices}",
        wire="json",
        schema={"type": "string"},
        valid=(),
        invalid=7,
    ),
    KindSpec(
        "object",
        meaning="A dict (or a JSON object constant).",
        refusal="must be an object (dict)",
        wire="json",
        schema={"type": "object"},
        valid=({"plan": "pro"}, {}),
        invalid="not an object",
        nested=True,
    ),
    KindSpec(
        "json",
        meaning="Anything JSON can carry (no infinity, no durations or periods).",
        refusal="must be a finite number, not infinity",
        wire="json",
        schema={},
        valid=("text", 1.5, 12, [1, 2], {"a": 1}),
        invalid=float("inf"),
        nested=True,
    ),
)

KINDS: Mapping[Kind, KindSpec] = MappingProxyType({row.kind: row for row in _ROWS})
"""Each kind's row, in :data:`Kind` order."""

if list(KINDS) != list(get_args(Kind)):  # pragma: no cover - a slip fails at import
    raise ValueError(f"kinds table {list(KINDS)} disagrees with Kind {list(get_args(Kind))}")
