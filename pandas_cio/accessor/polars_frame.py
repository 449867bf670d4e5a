"""The ``polars.DataFrame.cio`` namespace, made from the pandas accessor.

Importing this module registers ``cio`` on polars frames; ``import pandas_cio``
does so by itself when polars is imported, before or after it (see
:func:`pandas_cio.outcome.frames.register_polars_when_imported`). Every method and
namespace of the pandas accessor (:mod:`pandas_cio.accessor.frame`, the one
definition of every argument and docstring) is here with the same name,
arguments and documentation; each converts the frame through Arrow, runs the
pandas method, and returns its result as a polars frame::

    import polars as pl
    import pandas_cio

    result = people.cio.identify(user_id="id")      # a polars DataFrame
    result["status"].value_counts()                 # status: pl.Enum
    result.cio.report()                             # counters of this send
    result.cio.stats                                # the dict pandas keeps in attrs["cio"]

``merge_retry`` is left out: it matches rows by index label, and polars
frames have none.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import polars as pl

from ..outcome.frames import stats_of
from .frame import CioAccessor
from .functions import INDEX_METHODS, call, namespace_class, public_members, returned_annotation

__all__ = ["PolarsCio"]


class _PolarsNamespace:
    """Base of the generated classes: holds the polars frame, as the pandas side does."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame


def _method(cls: type, name: str) -> Any:
    method = getattr(cls, name)

    @functools.wraps(method)
    def polars_method(self: _PolarsNamespace, *args: Any, **kwargs: Any) -> Any:
        return call(cls, name, self._frame, args, kwargs)

    signature = inspect.signature(method)
    polars_method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=returned_annotation(signature, "pl.DataFrame")
    )
    return polars_method


def _namespace(member: property, sub: type) -> property:
    def get(self: _PolarsNamespace) -> Any:
        return sub(self._frame)

    return property(get, doc=member.__doc__)


def polars_class(cls: type, name: str) -> type:
    """Make the polars counterpart of a pandas accessor class, member by member."""
    doc = (
        f"The polars counterpart of :class:`pandas_cio.accessor.frame.{cls.__name__}`: the same "
        "methods and arguments; results are polars frames (see "
        ":mod:`pandas_cio.accessor.polars_frame`).\n\n" + inspect.cleandoc(cls.__doc__ or "")
    )
    members: dict[str, Any] = {"__doc__": doc}
    for attr, member in public_members(cls):
        if isinstance(member, property):
            inner = namespace_class(member)
            if inner is not None:
                members[attr] = _namespace(member, polars_class(inner, f"Polars{inner.__name__}"))
        elif attr not in INDEX_METHODS:
            members[attr] = _method(cls, attr)
    return type(name, (_PolarsNamespace,), members)


def _stats(self: _PolarsNamespace) -> dict[str, Any]:
    """The send's counters (``result.attrs["cio"]`` on the pandas side).

    Empty unless this frame is the very object a send returned: a filtered
    or joined frame is a new one (the report then derives its counters).
    """
    return stats_of(self._frame)


PolarsCio = polars_class(CioAccessor, "PolarsCio")
PolarsCio.stats = property(_stats)  # type: ignore[attr-defined]
pl.api.register_dataframe_namespace("cio")(PolarsCio)
