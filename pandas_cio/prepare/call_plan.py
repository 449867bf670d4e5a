"""What a call plan is: :class:`CallPlan`, its :class:`Source` values, and row reasons.

A plan is the one description of "which value of which column goes where in
the call" that validation and encoding both read;
:func:`pandas_cio.prepare.plan.make_plan` resolves one from an accessor
call's arguments.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..catalogue.events import PropertySpec
from ..catalogue.operation import Kind, Operation

__all__ = [
    "CONSTANT",
    "PERSON_ARGS",
    "CallPlan",
    "Missing",
    "Source",
    "describe_column",
    "row_reason",
]

Missing = Literal["omit", "null"]
PERSON_ARGS = ("user_id", "anonymous_id")


class _Constant:
    """Marks a :class:`Source` whose value is a constant rather than a column."""

    def __repr__(self) -> str:
        return "CONSTANT"


CONSTANT: Final = _Constant()


@dataclass(frozen=True)
class Source:
    """Where one value of the call comes from.

    Attributes
    ----------
    path : tuple of str
        Where it lands in the call.
    kind : Kind
        What the values must be.
    label : str
        The argument or payload key, used in error reasons.
    column : hashable
        The source column, or :data:`CONSTANT` for a constant (not None:
        None is a legal column label).
    value : Any
        The constant when ``column`` is :data:`CONSTANT`.
    nullable : bool
        Whether a row may lack the value.
    choices : tuple of str
        Allowed values (an enum role, or a documented payload key with an enum).
    spec : PropertySpec or None
        Documented type and constraints of a payload key (semantic events),
        checked by validation.
    needed : str
        When not empty, every row needs a value because Customer.io Journeys
        does (the reason, for the row's error); set only with ``journeys=True``.
    max_bytes : int or None
        Journeys refuses longer values (UTF-8 bytes of a string).
    attribute : bool
        A payload column that becomes a Journeys attribute: its name and
        values are held to Journeys' attribute limits.
    reserved : bool
        The values are event names; names Journeys routes to another action
        (:data:`~pandas_cio.catalogue.events.JOURNEYS_ROUTED`) are refused.
    beneath : tuple of (path, label)
        For a whole-object column (``context=``): the members other
        arguments place beneath it, relative to it, with their arguments.
        A row whose object sets one of them is refused, as for a constant.
    in_payload : bool
        A payload column (``label`` is its key), not an argument's.
    """

    path: tuple[str, ...]
    kind: Kind
    label: str
    column: Hashable = CONSTANT
    value: Any = None
    nullable: bool = True
    choices: tuple[str, ...] = ()
    spec: PropertySpec | None = None
    needed: str = ""
    max_bytes: int | None = None
    attribute: bool = False
    reserved: bool = False
    beneath: tuple[tuple[tuple[str, ...], str], ...] = ()
    in_payload: bool = False

    @property
    def is_constant(self) -> bool:
        """Whether the value is one constant for every row."""
        return self.column is CONSTANT

    def describe(self) -> str:
        """The source as a row's reason names it (see :func:`describe_column`)."""
        if self.is_constant:
            return f"{self.label}="
        return describe_column(self.column, self.label, in_payload=self.in_payload)

    def reason(self, text: str) -> str:
        """A row's reason about this source's value (see :func:`row_reason`)."""
        return row_reason(self.describe(), text)


def describe_column(column: Hashable, name: str, *, in_payload: bool = False) -> str:
    """Name a column in a row's reason: the column, then what reads it.

    Parameters
    ----------
    column : hashable
        The column label, as the frame has it.
    name : str
        The argument that names the column (``timestamp``), or the payload
        key it is sent as.
    in_payload : bool
        Whether ``name`` is a payload key rather than an argument.

    Returns
    -------
    str
        ``"signup_at (timestamp=)"``, ``"price_usd (sent as price)"``, or just
        the column when it is called like its argument or key.

    Examples
    --------
    >>> describe_column("signup_at", "timestamp")
    'signup_at (timestamp=)'
    >>> describe_column("platform", "platform")
    'platform'
    """
    shown = str(column)
    if shown == name:
        return shown
    return f"{shown} (sent as {name})" if in_payload else f"{shown} ({name}=)"


def row_reason(described: str, text: str) -> str:
    """Compose a row's reason: what is wrong (``text``) with which column.

    The one place the shape of a row's reason is decided; validation and
    encoding both call it.

    Examples
    --------
    >>> row_reason(describe_column("os", "platform"), "must be one of android, ios")
    'os (platform=): must be one of android, ios'
    """
    return f"{described}: {text}"


@dataclass(frozen=True)
class CallPlan:
    """Everything needed to validate and encode a frame for one operation.

    Attributes
    ----------
    operation : Operation
        The table row.
    sources : tuple of Source
        The call's values in the order they are written.
    message_id : hashable or None
        The column that holds messageIds, or None to derive them from content.
    identity : tuple of hashable
        Columns of which each row needs at least one non-missing value.
    missing : {"omit", "null"}
        What a missing payload value becomes.
    journeys : bool
        Whether the checks that only Customer.io Journeys needs apply.
    """

    operation: Operation
    sources: tuple[Source, ...]
    message_id: Hashable | None
    identity: tuple[Hashable, ...]
    missing: Missing = "omit"
    journeys: bool = True

    @property
    def identity_reason(self) -> str:
        """The reason of a row with no value in any identity column.

        Composed like every other row's reason (:func:`row_reason`): the
        column and the argument that reads it, then the check.

        Examples
        --------
        ``id (user_id=): is missing`` for one identity column, and
        ``uid (user_id=) or anon (anonymous_id=): one of them needs a value``
        for two.
        """
        described: list[str] = []
        for column in dict.fromkeys(self.identity):
            # The argument that named the column (user_id or anonymous_id).
            args = [
                s.label
                for s in self.sources
                if not s.is_constant and s.column == column and s.label in PERSON_ARGS
            ]
            described.extend(describe_column(column, arg) for arg in args or [str(column)])
        if len(described) == 1:
            return row_reason(described[0], "is missing")
        return row_reason(" or ".join(described), "one of them needs a value")

    @property
    def columns(self) -> list[Hashable]:
        """Every column the plan reads, each once, in call order."""
        seen: dict[Hashable, None] = {}
        for source in self.sources:
            if not source.is_constant:
                seen.setdefault(source.column, None)
        if self.message_id is not None:
            seen.setdefault(self.message_id, None)
        return list(seen)
