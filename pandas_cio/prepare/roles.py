"""How an accessor argument names a column or gives a constant.

Every operation takes *column roles*: ``user_id="id"`` says that column ``id``
holds each row's user id. Some roles may also be one value for every row, such
as ``event="Signed Up"``. The rule that keeps this unambiguous:

- :func:`col` always names a column and :func:`lit` always gives a constant.
- A bare value for a role that only takes columns (``user_id``, ``timestamp``,
  ``traits``...) must name a column, or :class:`~pandas_cio.errors.ColumnError`
  is raised naming it.
- A bare string for a role that also takes constants (``event``, ``name``,
  ``object_type_id``...) names a column when the frame has a column of exactly
  that name, and is a constant otherwise. A constant that is a near miss of a
  column name (``"evnt_name"`` beside column ``event_name``, ``"nmae"`` beside
  ``name``, ``"Name"`` beside ``name``) raises, because it is far more likely a
  typo than an event name; pass ``lit("evnt_name")`` to mean it. So does a
  constant that names the frame's index.

Near misses are judged by :mod:`pandas_cio.suggest` (case-insensitive, a swap
of two letters is one edit, short names count too); a name that is the
frame's index (after ``set_index``) gets a pointer to ``reset_index()``.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ColumnError
from ..suggest import close_names, is_near_miss

__all__ = ["Col", "Lit", "col", "lit", "resolve_column", "resolve_value"]


@dataclass(frozen=True)
class Col:
    """A reference to a frame column, made with :func:`col`."""

    name: Hashable


@dataclass(frozen=True)
class Lit:
    """A constant used for every row, made with :func:`lit`."""

    value: Any


def col(name: Hashable) -> Col:
    """Name a column explicitly.

    Parameters
    ----------
    name : hashable
        The column label.

    Returns
    -------
    Col

    Examples
    --------
    >>> import pandas_cio
    >>> pandas_cio.col("Signed Up")
    Col(name='Signed Up')
    """
    return Col(name)


def lit(value: Any) -> Lit:
    """Give a constant for every row, even when a column has the same name.

    Parameters
    ----------
    value : Any
        The constant; it must be JSON-encodable.

    Returns
    -------
    Lit

    Examples
    --------
    >>> import pandas_cio
    >>> pandas_cio.lit("event_name")
    Lit(value='event_name')
    """
    return Lit(value)


def _columns_hint(columns: pd.Index) -> str:
    shown = ", ".join(repr(c) for c in list(columns)[:20])
    more = "" if len(columns) <= 20 else f" and {len(columns) - 20} more"
    return f"the frame has columns {shown}{more}" if len(columns) else "the frame has no columns"


def _index_names(frame: pd.DataFrame) -> list[Hashable]:
    return [name for name in frame.index.names if name is not None]


def _in_index(frame: pd.DataFrame, label: Any) -> bool:
    try:
        return label in _index_names(frame)
    except TypeError:
        return False


def _index_hint(role: str, label: Any) -> str:
    return (
        f"{role}={label!r} is the frame's index, not a column; the index is never sent: "
        f"make it a column again with df.reset_index()"
    )


def _missing_column_hint(frame: pd.DataFrame, label: Any) -> str:
    """What to say about a column name the frame lacks: the near misses, or the columns."""
    columns = [str(c) for c in frame.columns]
    close = close_names(str(label), columns, loose=True)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}?"
    index = [str(n) for n in _index_names(frame)]
    near_index = close_names(str(label), index, loose=True)
    if near_index:
        return (
            f"{near_index[0]!r} is the frame's index, not a column: "
            "make it a column again with df.reset_index()"
        )
    return _columns_hint(frame.columns)


def resolve_column(frame: pd.DataFrame, role: str, value: Any) -> Hashable:
    """Return the column label a column-only role names, or raise ColumnError.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input frame.
    role : str
        The argument name, used in the message.
    value : Any
        A column label or a :class:`Col`.

    Returns
    -------
    hashable
        The column label.
    """
    if isinstance(value, Lit):
        raise ColumnError(f"{role}= takes a column, not a constant ({value!r})")
    label = value.name if isinstance(value, Col) else value
    try:
        present = label in frame.columns
    except TypeError:  # unhashable values such as lists
        present = False
    if not present:
        if _in_index(frame, label):
            raise ColumnError(_index_hint(role, label))
        hint = _missing_column_hint(frame, label)
        raise ColumnError(f"{role}={label!r} is not a column of the frame; {hint}")
    return label


def resolve_value(frame: pd.DataFrame, role: str, value: Any) -> Col | Lit:
    """Decide whether a role that accepts constants names a column or a constant.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input frame.
    role : str
        The argument name, used in messages.
    value : Any
        A column label, a constant, :class:`Col` or :class:`Lit`.

    Returns
    -------
    Col or Lit
    """
    if isinstance(value, Lit):
        return value
    if isinstance(value, Col):
        return Col(resolve_column(frame, role, value))
    if isinstance(value, Hashable) and not isinstance(value, bool):
        try:
            if value in frame.columns:
                return Col(value)
        except TypeError:
            pass
    if isinstance(value, str):
        if _in_index(frame, value):
            raise ColumnError(
                f"{_index_hint(role, value)}, or pass lit({value!r}) for the constant"
            )
        close = [c for c in map(str, frame.columns) if is_near_miss(value, c)][:1]
        if close:
            raise ColumnError(
                f"{role}={value!r} is not a column, but close to column {close[0]!r}; "
                f"pass col({close[0]!r}) for the column or lit({value!r}) for the constant"
            )
    return Lit(value)
