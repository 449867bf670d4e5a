"""Frames of other libraries through the pandas pipeline, and their results back.

A polars frame is sent by handing its Arrow data to pandas: strings, lists,
structs and categories as Arrow-backed columns (``pd.ArrowDtype``, wrapped,
not copied, but for polars' string views, rewritten once as Arrow strings),
date-times and numbers as the numpy and nullable columns the pipeline reads
fastest (see ``benchmarks/polars_conversion.py`` for the cost). The pipeline, the
statuses and the guarantees are then exactly the pandas ones, and the result
comes back as a polars frame whose ``status`` is a ``pl.Enum`` of
:class:`~pandas_cio.Status` values.

polars frames have no ``attrs``, so a send's counters (``result.attrs["cio"]``
for pandas) are kept beside the polars result they belong to, for as long as
that very object lives: ``result.cio.stats`` and ``result.cio.report()`` read
them. A frame derived from it (a filter, a join) is another object, and the
report then derives what it can from the frame, as it does for a filtered
pandas result.

Nothing here imports polars: a frame is a polars frame only when polars has
already been imported by whoever made it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import types
import weakref
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from .columns import STATUS
from .results import RESULT_DTYPES, Status

__all__ = [
    "attrs_of",
    "is_lazy_polars",
    "is_polars",
    "polars_failures",
    "polars_result",
    "register_polars_when_imported",
    "result_to_pandas",
    "stats_of",
    "status_enum",
    "to_pandas",
]

logger = logging.getLogger("pandas_cio")

# The attrs of polars results (the counters are attrs["cio"]), by id() of the
# frame; an entry goes when its frame is collected (weakref.finalize runs
# before the id can be reused).
_ATTRS: dict[int, dict[Any, Any]] = {}


def is_polars(frame: object) -> bool:
    """Whether ``frame`` is a ``polars.DataFrame`` (without importing polars)."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(frame, pl.DataFrame)


def is_lazy_polars(frame: object) -> bool:
    """Whether ``frame`` is a ``polars.LazyFrame``, which must be collected first."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(frame, pl.LazyFrame)


def to_pandas(frame: Any) -> pd.DataFrame:
    """Return a polars frame as the pandas frame the pipeline sends, through Arrow.

    Parameters
    ----------
    frame : polars.DataFrame
        The input. Its rows become positions 0..n-1 (polars has no index).

    Returns
    -------
    pandas.DataFrame
        List, Struct, String, Categorical, Date and Decimal columns as
        ``pd.ArrowDtype`` over the same Arrow buffers; Datetime columns (time
        zone kept) and floats as numpy columns, integers and booleans as
        pandas' nullable ones (see :func:`_pandas_dtype`). Nulls stay
        missing values; a float NaN is one too, as pandas reads it.
    """
    converted: pd.DataFrame = frame.to_arrow().to_pandas(
        types_mapper=_pandas_dtype, split_blocks=True
    )
    return converted


def _pandas_dtype(arrow_type: Any) -> Any:
    """The pandas dtype of a polars column in the pipeline; None: numpy's.

    Strings, lists, structs, categories, dates and decimals stay Arrow
    (``pd.ArrowDtype`` wraps the buffers). Date-times and floats become numpy
    columns and integers and booleans pandas' nullable ones, because the
    pipeline reads those natively: a zoned Arrow date-time column encoded four
    times slower (0.6 s against 0.15 s per 100,000 rows), numbers a third
    slower. Floats are numpy's for one more reason: null and NaN both become
    NaN, a missing value, as pandas reads it; polars keeps NaN apart from
    null, and a NaN sent as null would clear an attribute in Journeys.
    """
    if pa.types.is_timestamp(arrow_type) or pa.types.is_floating(arrow_type):
        return None
    nullable = _NULLABLE.get(str(arrow_type))
    return pd.api.types.pandas_dtype(nullable) if nullable else pd.ArrowDtype(arrow_type)


# Arrow integer and boolean types, by name, and pandas' nullable dtypes for them.
_NULLABLE = {
    **{f"int{bits}": f"Int{bits}" for bits in (8, 16, 32, 64)},
    **{f"uint{bits}": f"UInt{bits}" for bits in (8, 16, 32, 64)},
    "bool": "boolean",
}


def polars_result(result: pd.DataFrame) -> Any:
    """Return a pandas result frame as a polars frame with the same columns.

    Parameters
    ----------
    result : pandas.DataFrame
        A result frame (see :mod:`pandas_cio.outcome.results`).

    Returns
    -------
    polars.DataFrame
        The same rows in the same order; ``status`` a ``pl.Enum`` of the
        :class:`~pandas_cio.Status` values, ``error`` and ``message_id``
        strings, ``batch`` and ``http_status`` nullable integers. The send's
        counters are kept for :func:`stats_of`.
    """
    import polars as pl

    # A result's index is the input's positions (polars has no index) unless
    # a stage added rows of its own; then the labels are kept, as a column.
    # Labels of mixed types (a polars column has one) are kept as their text.
    if result.index.equals(pd.RangeIndex(len(result))):
        flat = result.reset_index(drop=True)
    else:
        flat = result.reset_index()
        labels = flat.columns[: result.index.nlevels]
        mixed = [c for c in labels if flat[c].dtype == object]
        flat = flat.astype(dict.fromkeys(mixed, "string"))
    frame = pl.from_pandas(flat)
    if STATUS in frame.columns:
        frame = frame.with_columns(pl.col(STATUS).cast(pl.String).cast(status_enum()))
    if result.attrs:
        key = id(frame)
        _ATTRS[key] = dict(result.attrs)
        weakref.finalize(frame, _ATTRS.pop, key, None)
    return frame


def status_enum() -> Any:
    """The polars dtype of a result's ``status``: a ``pl.Enum`` in Status order."""
    import polars as pl

    return pl.Enum([s.value for s in Status])


def attrs_of(frame: Any) -> dict[Any, Any]:
    """Return the pandas ``attrs`` of the result ``frame`` was made from (empty when unknown)."""
    return dict(_ATTRS.get(id(frame), {}))


def stats_of(frame: Any) -> dict[str, Any]:
    """Return the counters of the send that returned ``frame`` (empty when unknown)."""
    stats = attrs_of(frame).get("cio")
    return dict(stats) if isinstance(stats, Mapping) else {}


def polars_failures(failures: pd.DataFrame) -> Any:
    """Return a :class:`~pandas_cio.SchemaError`'s failures with the row positions as ``row``."""
    import polars as pl

    return pl.from_pandas(failures.rename_axis("row").reset_index())


def result_to_pandas(frame: Any) -> pd.DataFrame:
    """Return a polars result frame as the pandas result frame it was made from.

    The dtypes are the pandas result's (status a categorical, nullable
    integers), and ``attrs["cio"]`` holds the send's counters when ``frame`` is
    the very object the send returned (with any other attrs it had).
    """
    result: pd.DataFrame = frame.to_pandas()
    result = result.astype({k: v for k, v in RESULT_DTYPES.items() if k in result.columns})
    result.attrs = attrs_of(frame)
    return result


def register_polars_when_imported() -> None:
    """Register ``polars.DataFrame.cio`` now if polars is imported, else once it is.

    Importing polars costs about 0.1 s, which ``import pandas_cio`` should not
    pay for users who never touch it, so polars is never imported here: when
    it is already in ``sys.modules`` the namespace is registered at once;
    otherwise a finder waits on ``sys.meta_path`` for ``import polars`` and
    registers the namespace as soon as polars has finished importing, then
    takes itself off the path. Either import order gives ``df.cio``.
    """
    if "polars" in sys.modules:
        _register()
    elif not any(isinstance(f, _PolarsFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PolarsFinder())


def _register() -> None:
    # A polars version without the namespace API must not make `import polars`
    # fail in a program that uses pandas_cio for pandas only; the explicit
    # `import pandas_cio.accessor.polars_frame` still raises the real error.
    try:
        importlib.import_module("pandas_cio.accessor.polars_frame")
    except Exception as exc:
        logger.warning("pandas_cio could not register polars.DataFrame.cio: %s", exc)


class _PolarsFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps polars' loader so that registration follows its import."""

    def find_spec(
        self,
        fullname: str,
        path: Any = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "polars":
            return None
        # One shot, and out of the way of the search for the real spec below.
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    """Runs the real loader, puts it back on the module, then registers ``cio``."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        created: types.ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        # No trace of the wrapper stays on polars.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        _register()

    def __getattr__(self, name: str) -> Any:
        # get_resource_reader, is_package...: whatever the real loader offers.
        return getattr(self._loader, name)
