"""Plain functions for pipeline code: ``pandas_cio.identify(frame, user_id="id")``.

Every accessor method is also a function of the frame, named by the same
path, for a pandas or a polars frame, returning the kind of frame it was
given (as pandas-gbq's ``to_gbq(df, ...)`` does)::

    pandas_cio.identify(people, user_id="id")           # people.cio.identify(user_id="id")
    pandas_cio.objects.relate(members, user_id="uid", object_id="account", object_type_id=1)
    pandas_cio.semantic.ecommerce(orders, "Order Completed", user_id="customer")
    pandas_cio.report(result)                           # result.cio.report()
    pandas_cio.send(orders, "Order Completed", user_id="customer")   # by name, from config

The functions are made from the accessor's own methods (:mod:`pandas_cio.accessor.frame`
and its namespaces are the one definition of every argument and docstring), so
they cannot drift apart: a function calls the method on the frame, converting a polars frame
through Arrow on the way in and its result on the way out (see
:mod:`pandas_cio.outcome.frames`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import CioError, SchemaError
from ..outcome.frames import (
    is_lazy_polars,
    is_polars,
    polars_failures,
    polars_result,
    result_to_pandas,
    to_pandas,
)
from ..prepare import schemas
from ..prepare.schemas import resolve_operation
from .frame import CioAccessor, DevicesNamespace, ObjectsNamespace, SemanticNamespace

if TYPE_CHECKING:
    import pandera.pandas as pa

# pandas_cio.__all__ re-exports this list, so the names are written once, here.
__all__ = [
    "alias",
    "delete",
    "devices",
    "identify",
    "merge_retry",
    "objects",
    "page",
    "report",
    "schema",
    "screen",
    "semantic",
    "send",
    "suppress",
    "track",
    "unsuppress",
]

#: Methods whose frame is a result frame, not an input.
RESULT_METHODS = frozenset({"report"})
#: Methods that match rows by index label, which polars frames do not have.
INDEX_METHODS = frozenset({"merge_retry"})


def public_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and namespace properties a pandas accessor class defines."""
    for name, member in vars(cls).items():
        if not name.startswith("_") and (callable(member) or isinstance(member, property)):
            yield name, member


def namespace_class(member: property) -> type | None:
    """The namespace class a property returns (``objects`` -> ObjectsNamespace), if any."""
    returned = typing.get_type_hints(member.fget).get("return") if member.fget else None
    return returned if isinstance(returned, type) else None


def call(
    cls: type,
    name: str,
    frame: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str = "",
) -> Any:
    """Call ``cls(frame).name(*args, **kwargs)``, converting a polars frame both ways.

    ``path`` names the call in errors (``"pandas_cio.objects.upsert()"``);
    default ``name()``.

    For a polars input, the result (and the ``.result`` of a
    :class:`~pandas_cio.SendError`) is a polars frame, and a
    :class:`~pandas_cio.SchemaError`'s ``failures`` a polars frame whose
    ``row`` column gives each failing row's position.
    """
    method = getattr(cls, name)
    if isinstance(frame, pd.DataFrame):
        return method(cls(frame), *args, **kwargs)
    called = path or f"{name}()"
    if is_polars(frame):
        if name in INDEX_METHODS:
            raise TypeError(
                f"{called} matches rows by index label, and polars frames have no index; "
                "re-send the failed rows and join the two results on a key column of yours"
            )
        if name in RESULT_METHODS:
            return method(cls(result_to_pandas(frame)), *args, **kwargs)
        try:
            out = method(cls(to_pandas(frame)), *args, **kwargs)
        except CioError as exc:
            # The rows as far as the send got (a SendError's, or any error's
            # that carries a result), in the kind of frame the caller has.
            result = getattr(exc, "result", None)
            if isinstance(result, pd.DataFrame):
                exc.result = polars_result(result)  # type: ignore[attr-defined]
            if isinstance(exc, SchemaError):
                exc.failures = polars_failures(exc.failures)
            raise
        return polars_result(out) if isinstance(out, pd.DataFrame) else out
    if is_lazy_polars(frame):
        raise TypeError(
            f"{called} takes a polars DataFrame; call .collect() on the LazyFrame first"
        )
    raise TypeError(
        f"{called} takes a pandas or polars DataFrame as its first argument, "
        f"not {type(frame).__name__}"
    )


def returned_annotation(signature: inspect.Signature, frames: str) -> Any:
    """The return annotation with "the kind of frame given" for a result frame."""
    returned = signature.return_annotation
    return frames if returned in ("pd.DataFrame", pd.DataFrame) else returned


def _function(cls: type, name: str, path: str) -> Callable[..., Any]:
    method = getattr(cls, name)

    def function(frame: Any, /, *args: Any, **kwargs: Any) -> Any:
        return call(cls, name, frame, args, kwargs, f"pandas_cio.{path}()")

    function.__name__ = name
    function.__qualname__ = path
    function.__module__ = "pandas_cio"
    # The method's own signature, with the frame in place of self.
    signature = inspect.signature(method)
    frame = inspect.Parameter("frame", inspect.Parameter.POSITIONAL_ONLY)
    function.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[frame, *list(signature.parameters.values())[1:]],
        return_annotation=returned_annotation(signature, "pd.DataFrame | pl.DataFrame"),
    )
    note = (
        f"``pandas_cio.{path}(frame, ...)`` is ``frame.cio.{path}(...)`` for a pandas or a "
        "polars frame; it returns the kind of frame it was given."
    )
    function.__doc__ = f"{note}\n\n{inspect.cleandoc(method.__doc__ or '')}"
    return function


def _namespace(cls: type, path: str) -> Any:
    members = {
        name: staticmethod(_function(cls, name, f"{path}.{name}"))
        for name, member in public_members(cls)
        if not isinstance(member, property)
    }
    doc = f"``pandas_cio.{path}``: the functions of ``frame.cio.{path}``, frame first."
    return type(f"{cls.__name__}Functions", (), {"__doc__": doc, **members})()


identify = _function(CioAccessor, "identify", "identify")
track = _function(CioAccessor, "track", "track")
page = _function(CioAccessor, "page", "page")
screen = _function(CioAccessor, "screen", "screen")
alias = _function(CioAccessor, "alias", "alias")
suppress = _function(CioAccessor, "suppress", "suppress")
unsuppress = _function(CioAccessor, "unsuppress", "unsuppress")
delete = _function(CioAccessor, "delete", "delete")
report = _function(CioAccessor, "report", "report")
merge_retry = _function(CioAccessor, "merge_retry", "merge_retry")
objects = _namespace(ObjectsNamespace, "objects")
devices = _namespace(DevicesNamespace, "devices")
semantic = _namespace(SemanticNamespace, "semantic")


def schema(
    operation: str, frame: Any = None, /, *, journeys: bool = True, **arguments: Any
) -> pa.DataFrameSchema:
    """Return the pandera schema rows of ``operation`` must satisfy.

    :func:`pandas_cio.prepare.schemas.schema` (see it for every argument), where
    ``frame`` may also be a polars frame: its columns and their types are
    read as the polars accessor reads them, and no row is converted. The
    schema checks pandas frames; to check a polars frame with it, validate
    ``pandas_cio.outcome.frames.to_pandas(frame)``.

    Examples
    --------
    >>> import polars as pl, pandas_cio
    >>> frame = pl.DataFrame({"uid": ["u1"], "plan": ["pro"]})
    >>> sorted(pandas_cio.schema("identify", frame, user_id="uid").columns)
    ['plan', 'uid']
    """
    if is_polars(frame):
        frame = to_pandas(frame.head(0))
    return schemas.schema(operation, frame, journeys=journeys, **arguments)


def send(frame: Any, operation: str, /, **arguments: Any) -> Any:
    """Send ``frame`` as the operation or semantic event called ``operation``.

    For pipeline code that reads the operation from configuration:
    ``send(frame, "identify", user_id="id")`` is ``identify(frame, user_id="id")``,
    ``send(frame, "objects.relate", ...)`` is ``objects.relate(frame, ...)``, and
    ``send(frame, "Order Completed", ...)`` (or ``"semantic:Order Completed"``,
    the operation's name, as ``pandas_cio.spark.send`` takes it) is
    ``semantic.ecommerce(frame, "Order Completed", ...)``.

    Parameters
    ----------
    frame : pandas.DataFrame or polars.DataFrame
        The rows to send.
    operation : str
        An operation name (``"identify"``, ``"devices.register"``...) or a
        semantic event name exactly as the API spells it.
    **arguments
        The method's keyword arguments.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        The result frame, of the kind ``frame`` is.

    Raises
    ------
    UnknownEventError
        ``operation`` is neither an operation nor a semantic event name.

    Examples
    --------
    >>> import pandas as pd, pandas_cio
    >>> people = pd.DataFrame({"id": ["u1"]})
    >>> pandas_cio.send(people, "identify", user_id="id", dry_run=True)["status"].tolist()
    ['dry_run']
    """
    op = resolve_operation(operation.removeprefix("semantic:"))
    # The operations table names the accessor call that runs each operation.
    *space, name = op.method.split(".")
    owner = namespace_class(vars(CioAccessor)[space[0]]) if space else CioAccessor
    assert owner is not None, op.method
    event = (op.event,) if owner is SemanticNamespace else ()
    return call(owner, name, frame, event, arguments, f"pandas_cio.send(frame, {operation!r})")
