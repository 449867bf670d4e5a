"""The keyword options every sending method takes, declared once.

Three facts about each option have one owner each:
:class:`~pandas_cio.pipeline.send.SendOptions` types it (for mypy and
``**options: Unpack[SendOptions]``), the signature of
:func:`~pandas_cio.pipeline.send.run` holds its default, and
:data:`SEND_OPTIONS` below says what it means: the numpydoc type and text
substituted into every sending method's docstring (:func:`options_section`)
and the help of its ``pandas-cio`` flag, or why the command line has none.
The two lists are checked against each other at import, so an option added
to one and not the other fails at once, not in a user's ``help()``.

The four roles every operation of the table has
(:data:`~pandas_cio.catalogue.operation.COMMON`: ``timestamp``,
``message_id``, ``context``, ``integrations``) are declared the same way,
once for every method: :class:`CallOptions` adds them to the send options
for ``**options``, and :data:`COMMON_ARGUMENTS` says what they mean, for the
docstrings (ahead of the send options, :func:`options_section`). Both are
checked against the table at import. They stay roles: the accessor passes
them to the pipeline with the method's other roles, and their ``--help`` text
comes from the table, as every role's does.

Arguments of one accessor method that are neither roles of the operations
table nor send options (the grouping of ``semantic.ecommerce``) are declared
in :data:`METHOD_ARGUMENTS`, for the same two readers.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ..catalogue.operation import COMMON
from ..catalogue.operations import OPERATIONS
from ..pipeline.send import SendOptions, run
from ..prepare.stamping import STATE_CALL_TYPES

__all__ = [
    "COMMON_ARGUMENTS",
    "METHOD_ARGUMENTS",
    "SEND_OPTIONS",
    "CallOptions",
    "CommonArgument",
    "MethodArgument",
    "SendOption",
    "options_section",
    "parameter_entry",
]


@dataclass(frozen=True)
class SendOption:
    """One keyword option of every sending method.

    Attributes
    ----------
    name : str
        The keyword, e.g. ``"dry_run"``; a key of ``SendOptions``.
    type : str
        Its numpydoc type, e.g. ``'{"mark", "raise"}'``.
    doc : str
        What it does, for the methods' docstrings (reStructuredText).
    flag_help : str or None
        The help of the ``pandas-cio`` flag, or None when there is no flag.
    metavar : str or None
        What the flag's value is, for ``--help`` (flags that take a value).
    no_flag : str
        Why the command line has no flag for it (with ``flag_help`` None).
    """

    name: str
    type: str
    doc: str
    flag_help: str | None = None
    metavar: str | None = None
    no_flag: str = ""

    @property
    def default(self) -> Any:
        """The default, as :func:`~pandas_cio.pipeline.send.run` declares it."""
        return _RUN_DEFAULTS[self.name]


SEND_OPTIONS: tuple[SendOption, ...] = (
    SendOption(
        "dry_run",
        "bool",
        "Validate, encode and batch, but send nothing (status ``dry_run``).",
        "validate, encode and batch, report sizes, send nothing (needs no key)",
    ),
    SendOption(
        "errors",
        '{"mark", "raise"}',
        "Mark invalid rows ``invalid`` or raise before sending.",
        "mark: send the valid rows and report the rest (default); "
        "raise: send nothing when any row is invalid",
    ),
    SendOption(
        "missing",
        '{"omit", "null"}',
        "Leave missing values out of the call or send them as null.",
        "leave empty cells out of the call (default) or send them as null",
    ),
    SendOption(
        "ledger",
        "str, os.PathLike or Ledger",
        "Skip rows already delivered (status ``unchanged``) and record each confirmed "
        "batch, so re-runs send only what changed and a killed run resumes (see "
        ":mod:`pandas_cio.ledger.store`).",
        "remember delivered calls in this SQLite file: rows it records as delivered "
        "are 'unchanged' and not sent again (incremental runs, resuming after a crash)",
        metavar="PATH",
    ),
    SendOption(
        "full_refresh",
        "bool",
        "With a ledger: send every row anyway, and record it.",
        "with --ledger: send every row even if recorded as delivered, and record it",
    ),
    SendOption(
        "mirror",
        "str",
        "With a ledger: also delete what the ledger holds and the frame lacks "
        '(``"delete"``/``"suppress"`` for identify, ``"delete"`` for objects.upsert and '
        'devices.register, ``"unrelate"`` for objects.relate); one result row per '
        "deletion after the input's rows (see :mod:`pandas_cio.ledger.mirror`).",
        "with --ledger: delete what the ledger holds and the file lacks (identify: "
        "delete or suppress; objects upsert, devices register: delete; objects relate: "
        "unrelate)",
        metavar="ACTION",
    ),
    SendOption(
        "mirror_max_deletes",
        "int or float",
        "With ``mirror=``: the most keys it may delete, a count or a fraction of the "
        "keys the ledger holds (at least 10); over it, nothing is sent.",
        "with --mirror: the most keys it may delete, a count (100), a fraction (0.25) "
        "or a percentage (25%%) of the keys the ledger holds (default 0.25, at least 10)",
        metavar="LIMIT",
    ),
    SendOption(
        "max_invalid",
        "int or float",
        "Stop before any request when more rows than this count or fraction are "
        "``invalid`` (see :mod:`pandas_cio.outcome.gates`).",
        "send nothing (exit 5) when more rows than this are invalid: a count (10), a "
        "fraction (0.01) or a percentage (1%%) of the rows",
        metavar="LIMIT",
    ),
    SendOption(
        "max_too_large",
        "int or float",
        "Stop before any request when more rows than this count or fraction are "
        "``too_large`` (see :mod:`pandas_cio.outcome.gates`).",
        "send nothing (exit 5) when more rows than this are over the size limit",
        metavar="LIMIT",
    ),
    SendOption(
        "max_split_requests",
        "int",
        "Extra requests a send may make to isolate calls the service refuses (status "
        "``rejected``; see :mod:`pandas_cio.delivery.splitting`); 0 turns it off.",
        "extra requests allowed to isolate calls the service refuses, which become "
        "'rejected' (default 2000; 0: fail a refused batch's rows instead)",
        metavar="N",
    ),
    SendOption(
        "journeys",
        "bool",
        "Check what Customer.io Journeys needs: a page's url, a screen's name, a "
        "device's platform, the user and device of app install/open/uninstall events, "
        "Journeys' limits on ids, attributes and event names, and no event name in "
        "``track()`` that Journeys routes to another action. Rows that would be dropped "
        "after the API answered 200 become ``invalid`` saying why. Pass False when the "
        "workspace sends to other destinations only.",
        "check what Customer.io Journeys needs (default); --no-journeys when the "
        "workspace sends to other destinations only",
    ),
    SendOption(
        "progress",
        "bool",
        "Progress bar: None shows one for large sends in a terminal or notebook.",
        "show a progress bar on stderr (default: for large sends in a terminal)",
    ),
    SendOption(
        "client",
        "Client",
        "Where to send; when None a client is made from ``CIO_API_KEY`` and "
        "``CIO_REGION`` and closed afterwards.",
        no_flag="the command makes its client from CIO_API_KEY and the connection options "
        "(--region, --base-url, --workers...)",
    ),
    SendOption(
        "chunk_rows",
        "int",
        "Rows encoded per slice (memory versus per-slice overhead).",
        no_flag="a tuning knob of the library's memory use; the default suits files too",
    ),
)
"""The send options, in the order docs and ``--help`` show them."""


class CallOptions(SendOptions, total=False):
    """The keywords every sending method takes through ``**options``.

    The send options and the common roles of every operation (the names of
    :data:`~pandas_cio.catalogue.operation.COMMON`, checked at import).
    """

    timestamp: Any
    message_id: Any
    context: Any
    integrations: Any


@dataclass(frozen=True)
class CommonArgument:
    """A role every operation has, as the sending methods document it.

    Attributes
    ----------
    name : str
        The keyword, e.g. ``"timestamp"``; a role of
        :data:`~pandas_cio.catalogue.operation.COMMON`.
    type : str
        Its numpydoc type.
    doc : str
        What it does, for the methods' docstrings (reStructuredText).
    """

    name: str
    type: str
    doc: str


# The methods whose calls set state, which a timestamp does not tell apart.
_STATE_METHODS = ", ".join(
    f"``{op.method}``"
    for op in sorted(OPERATIONS.values(), key=lambda op: op.method)
    if op.call_type in STATE_CALL_TYPES
)

COMMON_ARGUMENTS: tuple[CommonArgument, ...] = (
    CommonArgument(
        "timestamp",
        'column, "now" or date-time',
        'A column, ``"now"`` for the time the send started, or one date-time for every '
        "row; ISO 8601, naive date-times are read as UTC. For a call that sets state "
        f"({_STATE_METHODS}) it is when the data was true (for backfills); without it "
        "the call has none. For an event (every other method) it is when the event "
        "happened; without it every event is stamped with the send's start time (and "
        "with ``ledger=`` it is required; see :mod:`pandas_cio.prepare.stamping`).",
    ),
    CommonArgument(
        "message_id",
        "column",
        "Your own messageIds, sent as given; default a ULID of the call's timestamp "
        "and content (see :mod:`pandas_cio.prepare.message_ids`).",
    ),
    CommonArgument(
        "context",
        "column or dict",
        "Passed through as the call's ``context``. A dict is merged deeply with the "
        'fields the method sends there (``{"device": {"model": ...}}`` keeps the '
        "token and platform of ``devices.register``); giving the same field twice raises.",
    ),
    CommonArgument(
        "integrations",
        "column or dict",
        "Passed through as the call's ``integrations``: destinations to enable or disable.",
    ),
)
"""The common roles, in the order of :data:`~pandas_cio.catalogue.operation.COMMON`."""

_COMMON_NAMES = tuple(role.arg for role in COMMON)
if (
    tuple(a.name for a in COMMON_ARGUMENTS) != _COMMON_NAMES
    or set(CallOptions.__optional_keys__) != set(SendOptions.__optional_keys__) | set(_COMMON_NAMES)
    or any(set(_COMMON_NAMES) - {r.arg for r in op.roles} for op in OPERATIONS.values())
):
    raise AssertionError(
        "COMMON_ARGUMENTS and CallOptions must name the roles of COMMON, which every "
        f"operation has: {_COMMON_NAMES}"
    )


@dataclass(frozen=True)
class MethodArgument:
    """An argument of one accessor method that is no role of the operations table.

    Attributes
    ----------
    name : str
        The keyword, e.g. ``"group_by"``.
    type : str
        Its numpydoc type.
    kind : {"column", "columns"}
        A column name, or a list of columns (``{column: key}`` renames).
    doc : str
        What it does, for the method's docstring.
    flag_help : str
        The help of its ``pandas-cio`` flag.
    """

    name: str
    type: str
    kind: Literal["column", "columns"]
    doc: str
    flag_help: str


METHOD_ARGUMENTS: Mapping[str, tuple[MethodArgument, ...]] = MappingProxyType(
    {
        "semantic.ecommerce": (
            MethodArgument(
                "group_by",
                "column, optional",
                "column",
                "With one row per line item: the order column. Lines are sent as one "
                "event per order, whose ``products`` array holds one object per line; "
                "every line gets its order's status and messageId.",
                "with one row per line item: the order column",
            ),
            MethodArgument(
                "products",
                "list of columns or {column: key} mapping, optional",
                "columns",
                "With ``group_by``: the line-item columns that make each ``products`` "
                "element (``product_id``, ``sku``, ``price``...).",
                "with group_by: the line-item columns that make each products element "
                "(product_id, sku, price...)",
            ),
        )
    }
)
"""Per accessor method (``"semantic.ecommerce"``), its arguments beyond the table's roles."""

_RUN_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        name: parameter.default
        for name, parameter in inspect.signature(run).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
)

if {o.name for o in SEND_OPTIONS} != set(SendOptions.__optional_keys__) or not set(
    SendOptions.__optional_keys__
) <= set(_RUN_DEFAULTS):
    raise AssertionError(
        "SEND_OPTIONS, SendOptions and run()'s keywords must name the same options: "
        f"{sorted(o.name for o in SEND_OPTIONS)} vs {sorted(SendOptions.__optional_keys__)}"
    )


def parameter_entry(name: str, type_: str, doc: str) -> str:
    """One numpydoc parameter entry: ``name : type`` and the text indented below it."""
    body = textwrap.fill(
        doc,
        width=76,
        initial_indent="    ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return f"{name} : {type_}\n{body}"


def _typed(option: SendOption) -> str:
    default = option.default
    if default is None:
        return f"{option.type}, optional"
    return f"{option.type}, default {default!r}"


def options_section() -> str:
    """The ``Other Parameters`` section of every sending method: common roles, send options."""
    entries = [
        *(parameter_entry(a.name, f"{a.type}, optional", a.doc) for a in COMMON_ARGUMENTS),
        *(parameter_entry(o.name, _typed(o), o.doc) for o in SEND_OPTIONS),
    ]
    return "Other Parameters\n----------------\n" + "\n".join(entries)
