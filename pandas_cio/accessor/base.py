"""What every accessor namespace shares: the frame, the send options, the call of the pipeline.

A sending method names its operation and hands over its arguments
(``return self._send("identify", locals())``); the operations table says
which of them is the payload argument. It writes out only its own roles:
the common ones (``timestamp=``...) and the send options come through
``**options`` (:class:`~pandas_cio.accessor.options.CallOptions`).
:func:`sending` gives each such method the common roles in its signature,
their and the send options' docstring section, and refuses keywords it does
not take, naming the method as the caller typed it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar, cast

import pandas as pd

from ..catalogue.operation import Operation
from ..catalogue.operations import get_operation
from ..errors import UnknownArgumentError
from ..pipeline.send import SendOptions, run
from ..suggest import unknown_keywords_message
from .options import COMMON_ARGUMENTS, SEND_OPTIONS, options_section

__all__ = ["Columns", "Namespace", "call_arguments", "given", "sending", "split_options"]

Columns = Sequence[Hashable] | Mapping[Hashable, str] | None

_OPTIONS: tuple[str, ...] = tuple(sorted(o.name for o in SEND_OPTIONS))
_Method = TypeVar("_Method", bound=Callable[..., Any])
# Names of a sending method's locals() that are no argument of its operation.
_NOT_ARGUMENTS = frozenset({"self", "options"})
# Where the send options' section goes: before Examples, numpydoc's last section.
_EXAMPLES = re.compile(r"^Examples\n--------$", re.MULTILINE)


def given(**args: Any) -> dict[str, Any]:
    """Keep the arguments the caller gave; None means "not given" for every role."""
    return {name: value for name, value in args.items() if value is not None}


def split_options(arguments: Mapping[str, Any]) -> tuple[dict[str, Any], SendOptions]:
    """Split keywords into an operation's arguments and the send options."""
    options = {k: v for k, v in arguments.items() if k in _OPTIONS}
    rest = {k: v for k, v in arguments.items() if k not in _OPTIONS}
    return rest, cast(SendOptions, options)


def call_arguments(
    operation: Operation, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any], Columns, SendOptions]:
    """Sort a sending method's ``locals()`` into roles, payload columns and send options.

    Of its arguments and its ``options`` (the common roles and the send
    options), the send options go to the pipeline as such, the operation's
    payload argument (``traits``, ``properties``...) names the payload
    columns, and every other argument given is a role.
    """
    named = {k: v for k, v in arguments.items() if k not in _NOT_ARGUMENTS}
    roles, options = split_options({**named, **arguments.get("options", {})})
    payload = roles.pop(operation.payload_arg, None) if operation.payload_arg else None
    return given(**roles), payload, options


def _documented(doc: str | None) -> str:
    """The docstring with the common roles' and send options' section in its numpydoc place."""
    text = inspect.cleandoc(doc or "")
    section = options_section()
    found = _EXAMPLES.search(text)
    if found is None:
        return f"{text}\n\n{section}"
    return f"{text[: found.start()]}{section}\n\n{text[found.start() :]}"


def _with_common(signature: inspect.Signature) -> inspect.Signature:
    """The signature with the common roles as keywords, ``**options`` the send options.

    So ``help()``, the functions and polars methods copied from it, and the
    command line built from it show every argument the method takes.
    """
    *named, options = signature.parameters.values()
    keyword = inspect.Parameter.KEYWORD_ONLY
    common = [
        inspect.Parameter(a.name, keyword, default=None, annotation="Any") for a in COMMON_ARGUMENTS
    ]
    return signature.replace(
        parameters=[*named, *common, options.replace(annotation="Unpack[SendOptions]")]
    )


def sending(method: _Method) -> _Method:
    """Document the common roles and send options on ``method``; refuse other keywords.

    Without the check an unknown keyword falls into ``**options`` and Python's
    own error names :func:`pandas_cio.pipeline.send.run`, which the caller never
    called.
    """
    signature = _with_common(inspect.signature(method))
    accepted = [
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    known = frozenset(accepted) | frozenset(_OPTIONS)

    @functools.wraps(method)
    def checked(self: Namespace, *args: Any, **kwargs: Any) -> Any:
        unknown = [name for name in kwargs if name not in known]
        if unknown:
            where = f"{self._prefix}{method.__name__}()"
            raise UnknownArgumentError(
                unknown_keywords_message(where, unknown, [*accepted, *_OPTIONS])
            )
        return method(self, *args, **kwargs)

    checked.__doc__ = _documented(method.__doc__)
    checked.__signature__ = signature  # type: ignore[attr-defined]
    return cast(_Method, checked)


class Namespace:
    """Base of the accessor and its namespaces: holds the frame, runs operations."""

    _prefix = "df.cio."
    """How the caller reaches this namespace's methods, for messages."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every public method that takes the send options is a sending method.
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            kinds = [p.kind for p in inspect.signature(member).parameters.values()]
            if inspect.Parameter.VAR_KEYWORD in kinds:
                setattr(cls, name, sending(member))

    def _send(self, operation: str, arguments: Mapping[str, Any]) -> pd.DataFrame:
        """Run ``operation`` with a sending method's ``locals()``.

        See :func:`call_arguments` for what becomes of each argument.
        """
        op = get_operation(operation)
        roles, payload, options = call_arguments(op, arguments)
        return run(self._frame, op.name, roles, payload, **options)
