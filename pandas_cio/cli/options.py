"""The command's options, made from the operations table and the accessor's option declarations.

Per command: one option per keyword argument of the accessor method it runs.
What an option is (a column, a column or constant, a list of columns, JSON)
and its ``--help`` text come from the operations table
(:class:`~pandas_cio.catalogue.operation.Role`: its kind, ``constant`` and
``description``; an operation's payload path) or, for the few arguments that
are no role, from :data:`pandas_cio.accessor.options.METHOD_ARGUMENTS`. The
send options every command shares come from
:data:`pandas_cio.accessor.options.SEND_OPTIONS`, the declaration the
accessor's docstrings are made from. No docstring is read: rewording one
never changes the command line.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pandas as pd

from ..accessor.options import METHOD_ARGUMENTS, SEND_OPTIONS, SendOption
from ..catalogue.kinds import KINDS
from ..catalogue.operation import Operation, Role
from ..catalogue.operations import OPERATIONS
from ..pipeline.send import SendOptions
from ..prepare.roles import lit
from .errors import UsageError

__all__ = [
    "FLAGGED",
    "NO_FLAG",
    "Command",
    "Option",
    "argument",
    "commands",
    "flag_of",
    "is_limit",
    "limit",
    "resolve",
    "send_flag",
]

logger = logging.getLogger("pandas_cio.cli.main")

FLAGGED: tuple[SendOption, ...] = tuple(o for o in SEND_OPTIONS if o.flag_help is not None)
"""The send options the command line has a flag for, in ``--help`` order."""
NO_FLAG: Mapping[str, str] = {o.name: o.no_flag for o in SEND_OPTIONS if o.flag_help is None}
"""The send options with no flag, each with why."""
_SEND_OPTIONS = frozenset(o.name for o in SEND_OPTIONS)

OptionKind = Literal["value", "column", "columns", "json"]


@dataclass(frozen=True)
class Option:
    """One command-line option that becomes one keyword argument of an accessor method.

    Attributes
    ----------
    param : str
        The accessor's keyword, e.g. ``"user_id"``.
    kind : OptionKind
        How the text becomes the argument: ``column`` a column name,
        ``value`` a column name or a constant (the library's rule),
        ``columns`` a comma-separated list (``col=key`` renames),
        ``json`` a JSON object constant or a column name.
    help : str
        One line for ``--help``.
    required : bool
        The option must be given.
    id_column : bool
        A column it names holds ids, so text files read it as strings
        (``00123`` must not become ``123``).
    """

    param: str
    kind: OptionKind
    help: str
    required: bool = False
    id_column: bool = False

    @property
    def flag(self) -> str:
        """The option as typed, e.g. ``--user-id``."""
        return flag_of(self.param)

    @property
    def metavar(self) -> str:
        """What the option's value is, for ``--help``."""
        return {
            "column": "COLUMN",
            "value": "COLUMN|VALUE",
            "columns": "COLUMNS",
            "json": "JSON|COLUMN",
        }[self.kind]


@dataclass(frozen=True)
class Command:
    """One command: an accessor method and the operations it runs.

    Attributes
    ----------
    method : str
        The accessor method, e.g. ``"objects.upsert"``.
    operations : tuple of Operation
        The operations the method runs (one, or one per event of a semantic category).
    takes_event : bool
        The method's first argument is an event name (semantic categories).
    options : tuple of Option
        The options, one per keyword argument of the method.
    """

    method: str
    operations: tuple[Operation, ...]
    takes_event: bool
    options: tuple[Option, ...]

    @property
    def words(self) -> list[str]:
        """The command as typed, e.g. ``["objects", "upsert"]``."""
        return [part.replace("_", "-") for part in self.method.split(".")]

    @property
    def events(self) -> list[str]:
        """The event names a semantic command takes."""
        return sorted(op.event for op in self.operations if op.event)

    @property
    def summary(self) -> str:
        """One line for the command list."""
        if self.takes_event:
            category = self.words[-1]
            return f"send {category} semantic events ({len(self.operations)} event names)"
        text = self.operations[0].summary or f"run df.cio.{self.method}()"
        return text[0].lower() + text[1:].rstrip(".")


def flag_of(keyword: str) -> str:
    """The flag of a library keyword: ``user_id`` is ``--user-id``."""
    return "--" + keyword.replace("_", "-")


def _roles(operations: Sequence[Operation]) -> dict[str, list[Role]]:
    roles: dict[str, list[Role]] = {}
    for op in operations:
        for role in op.roles:
            roles.setdefault(role.arg, []).append(role)
    return roles


def _lowered(text: str) -> str:
    """``The id`` reads ``the id`` after a flag; ``IP address`` stays."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


_COLUMNS_HELP = " (comma-separated; col=key renames)"


def _option(name: str, method: str, operations: Sequence[Operation]) -> Option:
    """Decide how one keyword argument of an accessor method is typed on the command line.

    A role says what it is; the payload argument (``traits``, ``properties``)
    says where its columns go; any other argument is declared in
    :data:`~pandas_cio.accessor.options.METHOD_ARGUMENTS`.
    """
    own = _roles(operations).get(name, [])
    # A method may take an argument none of its own operations uses (the
    # device token of semantic.customerio); the same role elsewhere in the
    # table says what it is.
    found = own or _roles(list(OPERATIONS.values())).get(name, [])
    payloads = sorted({".".join(op.payload or ()) for op in operations if op.payload_arg == name})
    extra = {a.name: a for a in METHOD_ARGUMENTS.get(method, ())}.get(name)
    kind: OptionKind
    if payloads:
        kind = "columns"
        text = (
            f"columns sent as {' or '.join(payloads)}; default: every column no other "
            f"option names{_COLUMNS_HELP}"
        )
    elif extra is not None:
        kind = extra.kind
        text = extra.flag_help + (_COLUMNS_HELP if kind == "columns" else "")
    elif found:
        description = next((r.description for r in found if r.description), "")
        text = _lowered((description.rstrip(".") or name.replace("_", " ")).split("; ")[0])
        if all(KINDS[r.kind].nested for r in found):
            kind = "json"
        elif any(r.constant for r in found):
            kind = "value"
        else:
            kind = "column"
    else:
        raise AssertionError(
            f"df.cio.{method}() takes {name}=, which is neither a role of its operations nor "
            "declared in pandas_cio.accessor.options.METHOD_ARGUMENTS"
        )
    required = bool(own) and len(own) == len(operations) and all(r.required for r in own)
    id_column = bool(found) and all(r.kind == "id" for r in found)
    return Option(name, kind, text, required, id_column)


def resolve(target: Any, method: str) -> Any:
    """The accessor method ``method`` (``"objects.upsert"``) of ``target``."""
    for part in method.split("."):
        target = getattr(target, part)
    return target


@cache
def commands() -> tuple[Command, ...]:
    """Return the commands, one per accessor method of the operations table.

    Operations whose accessor method does not exist are left out, so the
    command line never offers what the library cannot do. The method's
    signature gives the options' names and order (what the command passes on);
    the table gives everything else.
    """
    by_method: dict[str, list[Operation]] = {}
    for op in OPERATIONS.values():
        by_method.setdefault(op.method or op.name, []).append(op)
    accessor = pd.DataFrame().cio
    found = []
    for method, operations in sorted(by_method.items()):
        try:
            function = resolve(accessor, method)
        except AttributeError:
            logger.debug("no accessor method %s; no command for it", method)
            continue
        parameters = list(inspect.signature(function).parameters.values())
        takes_event = method.startswith("semantic.") or len(operations) > 1
        if takes_event:
            parameters = parameters[1:]  # the event name, a positional of the command
        options = tuple(
            _option(p.name, method, operations)
            for p in parameters
            if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name not in _SEND_OPTIONS
        )
        found.append(Command(method, tuple(operations), takes_event, options))
    return tuple(found)


def argument(option: Option, text: str) -> Any:
    """Turn an option's text into the accessor argument it stands for."""
    if option.kind == "columns":
        names = [part.strip() for part in text.split(",") if part.strip()]
        if any("=" in name for name in names):
            pairs = [name.split("=", 1) if "=" in name else [name, name] for name in names]
            return {column.strip(): key.strip() for column, key in pairs}
        return names
    if option.kind == "json" and text.lstrip()[:1] in ("{", "["):
        try:
            return lit(json.loads(text))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{option.flag}: not valid JSON ({exc})") from exc
    return text


def limit(flag: str, text: str) -> int | float:
    """A limit's text: a count ("10"), a fraction ("0.01") or a percentage ("1%")."""
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text) if "." in text else int(text)
    except ValueError:
        raise UsageError(
            f"{flag} {text!r}: expected a count (10), a fraction (0.01) or a percentage (1%)"
        ) from None


_HINTS = typing.get_type_hints(SendOptions)


def _types(option: SendOption) -> tuple[Any, ...]:
    """The types a send option's hint allows, None left out (``bool | None``: bool)."""
    hint = _HINTS[option.name]
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(t for t in allowed if t is not type(None))


def is_limit(option: SendOption) -> bool:
    """The option is a count or a fraction (``--max-invalid 1%``), read by :func:`limit`."""
    return set(_types(option)) == {int, float}


def send_flag(option: SendOption) -> dict[str, Any]:
    """The ``add_argument`` keywords of a send option's flag, from its type and default.

    A switch that is off by default is ``--flag``; one that is on (or
    undecided, None) is ``--flag/--no-flag``; a Literal is a choice; every
    other flag takes a value and is passed on only when given.
    """
    kinds = _types(option)
    if kinds == (bool,):
        if option.default is False:
            return {"action": "store_true", "help": option.flag_help}
        return {
            "action": argparse.BooleanOptionalAction,
            "default": option.default,
            "help": option.flag_help,
        }
    if len(kinds) == 1 and typing.get_origin(kinds[0]) is Literal:
        return {
            "choices": list(typing.get_args(kinds[0])),
            "default": option.default,
            "help": option.flag_help,
        }
    if kinds == (int,):
        return {"type": int, "metavar": option.metavar, "help": option.flag_help}
    return {"metavar": option.metavar, "help": option.flag_help}
