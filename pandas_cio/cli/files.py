"""The command's files: reading a CSV, Parquet or JSON Lines file into a frame, writing results.

A CSV keeps its text as text unless a whole column is canonical numbers or
booleans (:func:`typed_columns`), so ids such as ``02134`` arrive as sent;
``--rejects`` files carry three columns of their own, which reading drops
again (:func:`drop_rejects_columns`).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..outcome.columns import ERROR, STATUS
from ..outcome.results import Status
from .errors import UsageError

__all__ = [
    "FORMATS",
    "REJECTS_COLUMNS",
    "Format",
    "check_output",
    "drop_rejects_columns",
    "file_format",
    "read_frame",
    "typed_columns",
    "write_frame",
    "write_rejects",
]

Format = Literal["csv", "parquet", "jsonl"]
FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
# pandas reads and writes these compressions by extension; the format is the suffix before.
_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zip"}
# Rows that need nothing more stay out of --rejects.
_KEEP = tuple(status.value for status in Status if status.ok)


def _format_of(path: str) -> Format | None:
    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes.pop()
    return FORMATS.get(suffixes[-1]) if suffixes else None


def file_format(path: str, override: str | None = None) -> Format:
    """Return the format of a data file from ``--format`` or its extension.

    Parameters
    ----------
    path : str
        The file name (``-`` is standard input, which needs ``override``).
    override : str, optional
        The format given with ``--format``.

    Returns
    -------
    str
        ``"csv"``, ``"parquet"`` or ``"jsonl"``.
    """
    if override:
        return FORMATS["." + override]
    found = _format_of(path)
    if found is not None:
        return found
    known = ", ".join(sorted(FORMATS))
    raise UsageError(
        f"cannot tell the format of {path!r} from its extension ({known}); use --format"
    )


def read_frame(path: str, fmt: Format, id_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a data file into a frame, keeping text as text.

    Parameters
    ----------
    path : str
        The file, or ``-`` for standard input.
    fmt : {"csv", "parquet", "jsonl"}
        Its format.
    id_columns : sequence of str
        Columns of ids: a CSV's are always read as strings.

    Returns
    -------
    pandas.DataFrame
        A CSV's cells are strings and only an empty cell is missing
        (``NA``, ``None`` and ``null`` are text); a column becomes numbers or
        booleans only when every non-empty cell is one written canonically
        (see :func:`typed_columns`), so ``02134`` and ``+15551234`` stay text.
        JSON Lines keep the types the JSON has (``"02134"`` a string, ``7``
        a number); nothing is read as a date. Parquet keeps its schema; its
        list and struct columns are Arrow-backed.
    """
    source: Any = sys.stdin.buffer if path == "-" else path
    # Nullable dtypes keep an integer column with gaps as integers (36, not 36.0)
    # and a boolean column with gaps as booleans.
    nullable: Any = "numpy_nullable"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if path == "-":  # Parquet is read from its end: the pipe must be buffered
                source = io.BytesIO(source.read())
            # pd.read_parquet's own types_mapper leaves no room for ours.
            table: pd.DataFrame = pq.read_table(source).to_pandas(types_mapper=_nested_as_arrow)
            return table
        if fmt == "jsonl":
            # dtype=False: the JSON's own types, no guessing (no dates from
            # column names, no numbers from strings).
            return pd.read_json(
                source, lines=True, dtype=False, dtype_backend=nullable, precise_float=True
            )
        separator = "\t" if Path(path).suffixes[:1] == [".tsv"] else ","
        text = pd.read_csv(
            source,
            dtype="string",
            sep=separator,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=False,
        )
        return typed_columns(text, keep=id_columns)
    except ImportError as exc:
        raise UsageError(f"reading {fmt} needs an extra package: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path} as {fmt}: {exc}") from exc


def _nested_as_arrow(arrow_type: Any) -> Any:
    """Arrow-backed dtypes for Parquet's list, struct and map columns; pandas' own for the rest.

    Arrow-backed, a column of lists reaches the encoder as Arrow's Python
    values: no numpy arrays, and zoned timestamps inside stay right even
    when PYARROW_IGNORE_TIMEZONE is set (pyspark.pandas sets it).
    """
    import pyarrow.types as types

    if types.is_nested(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


# Canonical text of numbers and booleans: what a CSV writer produces from a
# number, and nothing that is more likely an identifier (a leading zero or
# '+', as zip codes and phone numbers have) or odd spacing.
_INTEGER = r"-?(?:0|[1-9][0-9]*)"
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_BOOLEANS = {"true": True, "false": False, "True": True, "False": False}
_TRUE_FALSE = pd.Series(list(_BOOLEANS), dtype="string")


def typed_columns(frame: pd.DataFrame, keep: Sequence[Hashable] = ()) -> pd.DataFrame:
    """Turn columns of text into numbers or booleans where every non-empty cell is one.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of strings (``string`` dtype, missing where a cell was empty).
    keep : sequence of hashable
        Columns left as text whatever they hold (ids).

    Returns
    -------
    pandas.DataFrame
        ``Int64`` where every value is a canonical integer within 64 bits
        (``-12``, ``0``, ``36``; not ``012``, ``+3`` or `` 3``), ``Float64``
        where every value is a canonical number (``9.5``, ``-1e-3``),
        ``boolean`` where every value is ``true``/``false`` (either
        capitalisation pandas or Python writes); text otherwise.
    """
    out = {}
    for column in frame.columns:
        values = frame[column]
        present = values.dropna()
        if column in keep or present.empty:
            out[column] = values
        elif present.str.fullmatch(_INTEGER).all():
            try:
                out[column] = values.astype("Int64")
            except (OverflowError, ValueError, TypeError):  # beyond 64 bits: keep the text
                out[column] = values
        elif present.str.fullmatch(_NUMBER).all():
            out[column] = values.astype("Float64")
        elif present.isin(_TRUE_FALSE).all():
            out[column] = values.map(_BOOLEANS).astype("boolean")
        else:
            out[column] = values
    return pd.DataFrame(out, index=frame.index)


def write_frame(frame: pd.DataFrame, path: str) -> None:
    """Write a frame to CSV, Parquet or JSON Lines, chosen by the file's extension.

    The index is written as a column (``row`` when unnamed), so the result
    lines up with the input file's rows.
    """
    unnamed = frame.index.nlevels == 1 and frame.index.name is None
    _write_table(frame.reset_index(names="row") if unnamed else frame.reset_index(), path)


def _write_table(table: pd.DataFrame, path: str) -> None:
    """Write ``table`` without its index, in the format ``path``'s extension names."""
    fmt = file_format(path)
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "jsonl":
        table.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        table.to_csv(path, index=False, sep="\t" if path.endswith(".tsv") else ",")


#: Columns a rejects file adds to the input's: the row's number in the input
#: file, its status and its error. The prefix keeps them apart from the
#: user's columns, and reading a file that has them drops them again.
REJECTS_ROW, REJECTS_STATUS, REJECTS_ERROR = "_cio_row", "_cio_status", "_cio_error"
REJECTS_COLUMNS = (REJECTS_ROW, REJECTS_STATUS, REJECTS_ERROR)


def write_rejects(frame: pd.DataFrame, result: pd.DataFrame, path: str) -> None:
    """Write the input rows that were not sent, with why, so they can be fixed and sent again.

    The file has the input's columns as read, after ``_cio_row`` (the row's
    number in the input file), ``_cio_status`` and ``_cio_error``. Sending
    that file again sends only the input's columns (see :func:`drop_rejects_columns`).
    """
    rejected = ~result[STATUS].isin(_KEEP).to_numpy()
    rows = frame.loc[rejected]
    table = pd.DataFrame(
        {
            REJECTS_ROW: rows.index.to_numpy(),
            REJECTS_STATUS: result.loc[rejected, STATUS].astype("string").to_numpy(),
            REJECTS_ERROR: result.loc[rejected, ERROR].to_numpy(),
        }
    )
    _write_table(pd.concat([table, rows.reset_index(drop=True)], axis=1), path)


def drop_rejects_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop the columns a rejects file added; return the frame and the columns dropped.

    The rows keep their numbers in the original input file (``_cio_row``
    becomes the index), so a result or rejects file written from them
    refers to the original rows.
    """
    found = [c for c in REJECTS_COLUMNS if c in frame.columns]
    if not found:
        return frame, []
    out = frame.drop(columns=found)
    if REJECTS_ROW in found:
        rows = pd.to_numeric(frame[REJECTS_ROW], errors="coerce")
        if rows.notna().all() and rows.is_unique:
            out.index = pd.Index(rows.astype("int64").to_numpy())
    return out, found


def check_output(path: str | None) -> None:
    """Refuse an output the command could not write, before anything is sent."""
    if path is None:
        return
    if _format_of(path) is None:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"cannot write {path}: name it with one of the extensions {known}")
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
