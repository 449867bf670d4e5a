"""The ``pandas-cio`` command: send a CSV, Parquet or JSON Lines file from a shell or cron.

The commands are generated from the operations table
(:data:`pandas_cio.catalogue.operations.OPERATIONS`) and the accessor methods that run
them, so every operation the library has is a command with the same argument
names: ``df.cio.objects.upsert(object_id="id")`` is
``pandas-cio objects upsert FILE --object-id id``, and
``df.cio.semantic.ecommerce("Order Completed", ...)`` is
``pandas-cio semantic ecommerce "Order Completed" FILE ...``.

The API key comes only from ``CIO_API_KEY``: a key given as an argument would
end up in shell history and in every process listing.

Exit statuses (see ``EXIT_STATUSES``): 0 every row was sent (or, in a dry
run, is ready to send); 1 some rows were not sent; 2 bad usage or
configuration (unknown option, missing column, unreadable file, no key, a key
the service refused); 3 the ledger failed; 4 the service looked down; 5 a
quality gate (``--max-invalid``, ``--max-too-large``) or the mirror guard
stopped the send before any request; 130
interrupted (Ctrl-C); 143 terminated (SIGTERM). Whenever a send started, the
report is printed and ``--out`` and ``--rejects`` are written, however it ended.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import io
import json
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, NoReturn, cast

import pandas as pd

from .._version import __version__
from ..catalogue.kinds import KINDS
from ..catalogue.operations import OPERATIONS, Operation, Role
from ..delivery.client import DEFAULT_TIMEOUT, Client
from ..delivery.transport import RateLimit
from ..errors import (
    AuthenticationError,
    CioError,
    InterruptedSendError,
    LedgerSendError,
    QualityGateError,
    SchemaError,
    SendError,
    ServiceUnavailableError,
    TerminatedSendError,
)
from ..outcome.report import SendReport
from ..outcome.results import Status
from ..prepare.roles import lit
from ..suggest import close_names
from ..testing._announce import add_fake_parser

__all__ = [
    "REJECTS_COLUMNS",
    "build_parser",
    "cli_spelling",
    "drop_rejects_columns",
    "main",
    "read_frame",
    "typed_columns",
    "write_frame",
    "write_rejects",
]

logger = logging.getLogger("pandas_cio.cli.main")

# Exit statuses: cron, CI and shell scripts branch on them.
EXIT_OK = 0
EXIT_NOT_ALL_SENT = 1
EXIT_USAGE = 2
EXIT_LEDGER = 3
EXIT_SERVICE_DOWN = 4
EXIT_QUALITY_GATE = 5  # --max-invalid, --max-too-large, the --mirror guard: nothing sent
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report a killed job

# How a send that ended early ends the command: exit status and the line on
# stderr, per SendError subclass (checked in this order; SendError last).
EXIT_STATUSES: tuple[tuple[type[SendError], int, str], ...] = (
    (
        AuthenticationError,
        EXIT_USAGE,
        "the service refused the key in CIO_API_KEY; sending stopped",
    ),
    (
        InterruptedSendError,
        EXIT_INTERRUPTED,
        "interrupted; the report shows the rows confirmed before the stop",
    ),
    (
        TerminatedSendError,
        EXIT_TERMINATED,
        "terminated (SIGTERM); the report shows the rows confirmed before the stop",
    ),
    (LedgerSendError, EXIT_LEDGER, "sending stopped, the ledger failed: {cause}"),
    # The breaker's reason says the send stopped, and how to resume.
    (ServiceUnavailableError, EXIT_SERVICE_DOWN, "{cause}"),
    # The message says "nothing was sent" itself (see _refused).
    (QualityGateError, EXIT_QUALITY_GATE, "{cause}"),
    (SendError, EXIT_NOT_ALL_SENT, "sending stopped: {cause}"),
)

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
# Keyword options of every accessor method; the command has its own flags for them.
_SEND_OPTIONS = {
    "client",
    "dry_run",
    "errors",
    "missing",
    "progress",
    "chunk_rows",
    "ledger",
    "full_refresh",
    "max_split_requests",
    "journeys",
}
# Rows that need nothing more stay out of --rejects.
_KEEP = tuple(status.value for status in Status if status.ok)

OptionKind = Literal["value", "column", "columns", "json", "flag", "text"]


class UsageError(Exception):
    """A problem with the command's arguments or inputs; exit status 2."""


# The commands, generated from the operations table and the accessor


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
        ``json`` a JSON object constant or a column name, ``flag`` a switch,
        ``text`` plain text.
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
        return "--" + self.param.replace("_", "-")

    @property
    def metavar(self) -> str | None:
        """What the option's value is, for ``--help``."""
        return {
            "column": "COLUMN",
            "value": "COLUMN|VALUE",
            "columns": "COLUMNS",
            "json": "JSON|COLUMN",
            "flag": None,
            "text": "TEXT",
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


def _plain(text: str) -> str:
    """Drop reStructuredText markup from a docstring line."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"\1()", text)
    return text.replace("``", "")


def _parameter_docs(function: Callable[..., Any]) -> dict[str, tuple[str, str]]:
    """Type and first sentence of each parameter of a numpydoc docstring."""
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    start = lines.index("Parameters") + 2 if "Parameters" in lines else len(lines)
    entries: list[tuple[list[str], str, list[str]]] = []
    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and lines[i + 1].startswith("---"):
            break  # the next section's title
        if line and not line.startswith(" "):
            head, _, kind = line.partition(":")
            entries.append(([n.strip() for n in head.split(",")], kind.strip(), []))
        elif line.strip() and entries:
            entries[-1][2].append(line.strip())
    docs: dict[str, tuple[str, str]] = {}
    for names, kind, text in entries:
        sentence = _plain(" ".join(text)).split(". ")[0].rstrip(".")
        docs.update({name: (kind, sentence) for name in names})
    return docs


def _roles(operations: Sequence[Operation]) -> dict[str, list[Role]]:
    roles: dict[str, list[Role]] = {}
    for op in operations:
        for role in op.roles:
            roles.setdefault(role.arg, []).append(role)
    return roles


def _option(
    param: inspect.Parameter,
    operations: Sequence[Operation],
    roles: Mapping[str, Sequence[Role]],
    docs: Mapping[str, tuple[str, str]],
) -> Option:
    """Decide how one keyword argument of an accessor method is typed on the command line.

    The operations table says what a role is; arguments that are not roles
    (``group_by``, ``products``) are read from the method's docstring type.
    """
    name = param.name
    own = roles.get(name, [])
    # A method may take an argument none of its own operations uses (the
    # device token of semantic.customerio); the same role elsewhere in the
    # table says what it is.
    found = own or _roles(list(OPERATIONS.values())).get(name, [])
    payload_args = {op.payload_arg for op in operations if op.payload_arg}
    doc_type, doc_text = docs.get(name, ("", ""))
    description = next((r.description for r in found if r.description), "")
    text = (description.rstrip(".") or doc_text or name.replace("_", " ")).split("; ")[0]
    if text[:2] != text[:2].upper():  # "The id" reads "the id"; "IP address" stays
        text = text[:1].lower() + text[1:]
    kind: OptionKind
    if name in payload_args or "list of columns" in doc_type:
        kind = "columns"
        if name in payload_args:
            text += "; default: every column no other option names"
        text += " (comma-separated; col=key renames)"
    elif found and all(KINDS[r.kind].nested for r in found):
        kind = "json"
    elif found and any(r.constant for r in found):
        kind = "value"
    elif found or doc_type.startswith("column"):
        kind = "column"
    elif doc_type.startswith("bool"):
        kind = "flag"
    else:
        kind = "text"
    required = bool(own) and len(own) == len(operations) and all(r.required for r in own)
    id_column = bool(found) and all(r.kind == "id" for r in found)
    return Option(name, kind, text, required, id_column)


def _resolve(target: Any, method: str) -> Any:
    for part in method.split("."):
        target = getattr(target, part)
    return target


@cache
def commands() -> tuple[Command, ...]:
    """Return the commands, one per accessor method of the operations table.

    Operations whose accessor method does not exist are left out, so the
    command line never offers what the library cannot do.
    """
    by_method: dict[str, list[Operation]] = {}
    for op in OPERATIONS.values():
        by_method.setdefault(op.method or op.name, []).append(op)
    accessor = pd.DataFrame().cio
    found = []
    for method, operations in sorted(by_method.items()):
        try:
            function = _resolve(accessor, method)
        except AttributeError:
            logger.debug("no accessor method %s; no command for it", method)
            continue
        parameters = list(inspect.signature(function).parameters.values())
        takes_event = method.startswith("semantic.") or len(operations) > 1
        if takes_event:
            parameters = parameters[1:]  # the event name, a positional of the command
        roles, docs = _roles(operations), _parameter_docs(function)
        options = tuple(
            _option(p, operations, roles, docs)
            for p in parameters
            if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name not in _SEND_OPTIONS
        )
        found.append(Command(method, tuple(operations), takes_event, options))
    return tuple(found)


# Files in and out


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
    fmt = file_format(path)
    unnamed = frame.index.nlevels == 1 and frame.index.name is None
    table = frame.reset_index(names="row") if unnamed else frame.reset_index()
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
    rejected = ~result["status"].isin(_KEEP).to_numpy()
    rows = frame.loc[rejected]
    table = pd.DataFrame(
        {
            REJECTS_ROW: rows.index.to_numpy(),
            REJECTS_STATUS: result.loc[rejected, "status"].astype("string").to_numpy(),
            REJECTS_ERROR: result.loc[rejected, "error"].to_numpy(),
        }
    )
    table = pd.concat([table, rows.reset_index(drop=True)], axis=1)
    fmt = file_format(path)
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "jsonl":
        table.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        table.to_csv(path, index=False, sep="\t" if path.endswith(".tsv") else ",")


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


def _check_output(path: str | None) -> None:
    """Refuse an output the command could not write, before anything is sent."""
    if path is None:
        return
    if _format_of(path) is None:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"cannot write {path}: name it with one of the extensions {known}")
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")


# The parser


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and suggest the closest spelling.

    argparse prints the whole usage before an error, which buries the line
    that says what is wrong; this prints the error, the near misses of an
    unknown option or command, and where to find the rest (``--help``).
    """

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            choices = re.findall(r"'([^']*)'", choice.group(2))
            close = close_names(choice.group(1), choices, loose=True)
            if close:
                message += f"; did you mean {' or '.join(close)}?"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nsee '{self.prog} --help'\n")

    def unknown(self, extras: Sequence[str]) -> NoReturn:
        """Stop on arguments no option took, suggesting the options meant."""
        flags = [o for o in self._option_string_actions if o.startswith("--")]
        problems = []
        rest = list(extras)
        while rest:
            extra = rest.pop(0)
            name, sep, value = extra.partition("=")
            if extra.startswith("-") and not sep and rest and not rest[0].startswith("-"):
                # An unknown option leaves its value behind as another extra.
                sep, value = " ", rest.pop(0)
            if not extra.startswith("-") and not sep:
                problems.append(f"unexpected argument {extra!r}")
                continue
            typed = name.lstrip("-")
            if typed.replace("_", "-").lower() in ("api-key", "apikey", "key", "cio-api-key"):
                problems.append(
                    f"unknown option {name}: the key comes only from the CIO_API_KEY "
                    "environment variable (an option would leave it in shell history)"
                )
                continue
            close = close_names(typed.replace("_", "-"), [f[2:] for f in flags], loose=True)
            shown = name if extra.startswith("-") else f"{extra!r}"
            if close:
                shell = f" {shlex.quote(value)}" if sep else ""
                spelled = " or ".join(f"--{c}{shell}" for c in close)
                problems.append(f"unknown option {shown}; did you mean {spelled}?")
            elif extra.startswith("-"):
                problems.append(f"unknown option {shown}")
            else:
                problems.append(f"unexpected argument {shown}")
        self.error("; ".join(problems))


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _add_shared_options(shared: argparse.ArgumentParser) -> None:
    """Add the options of every sending command (send, connection and file options)."""
    send = shared.add_argument_group("sending")
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, encode and batch, report sizes, send nothing (needs no key)",
    )
    send.add_argument(
        "--errors",
        choices=["mark", "raise"],
        default="mark",
        help="mark: send the valid rows and report the rest (default); "
        "raise: send nothing when any row is invalid",
    )
    send.add_argument(
        "--missing",
        choices=["omit", "null"],
        default="omit",
        help="leave empty cells out of the call (default) or send them as null",
    )
    send.add_argument(
        "--ledger",
        metavar="PATH",
        help="remember delivered calls in this SQLite file: rows it records as delivered "
        "are 'unchanged' and not sent again (incremental runs, resuming after a crash)",
    )
    send.add_argument(
        "--full-refresh",
        action="store_true",
        help="with --ledger: send every row even if recorded as delivered, and record it",
    )
    send.add_argument(
        "--mirror",
        metavar="ACTION",
        help="with --ledger: delete what the ledger holds and the file lacks (identify: "
        "delete or suppress; objects upsert, devices register: delete; objects relate: "
        "unrelate)",
    )
    send.add_argument(
        "--mirror-max-deletes",
        metavar="LIMIT",
        help="with --mirror: the most keys it may delete, a count (100), a fraction (0.25) "
        "or a percentage (25%%) of the keys the ledger holds (default 0.25, at least 10)",
    )
    send.add_argument(
        "--max-invalid",
        metavar="LIMIT",
        help="send nothing (exit 5) when more rows than this are invalid: a count (10), a "
        "fraction (0.01) or a percentage (1%%) of the rows",
    )
    send.add_argument(
        "--max-too-large",
        metavar="LIMIT",
        help="send nothing (exit 5) when more rows than this are over the size limit",
    )
    send.add_argument(
        "--max-split-requests",
        type=int,
        metavar="N",
        help="extra requests allowed to isolate calls the service refuses, which become "
        "'rejected' (default 2000; 0: fail a refused batch's rows instead)",
    )
    send.add_argument(
        "--journeys",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check what Customer.io Journeys needs (default); --no-journeys when the "
        "workspace sends to other destinations only",
    )
    send.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: for large sends in a terminal)",
    )
    connection = shared.add_argument_group("connection (the key comes from CIO_API_KEY only)")
    connection.add_argument(
        "--region",
        choices=["us", "eu"],
        help="data centre (default: from the key's prefix, then CIO_REGION, then us)",
    )
    connection.add_argument(
        "--base-url",
        metavar="URL",
        help="send to this endpoint instead (https, or http on loopback; default: CIO_BASE_URL)",
    )
    connection.add_argument(
        "--rate-limit",
        metavar="N/SECONDS",
        help="requests allowed per window, retries included (default 3000/3)",
    )
    connection.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="most requests in flight (default 32; tuned below it)",
    )
    connection.add_argument(
        "--retries", type=int, metavar="N", help="retries per request (default 6)"
    )
    connection.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="read timeout per attempt (default 30)"
    )
    connection.add_argument("--gzip", action="store_true", help="compress request bodies")
    files = shared.add_argument_group("input and output")
    files.add_argument(
        "--format",
        choices=["csv", "parquet", "jsonl"],
        help="format of FILE (default: from its extension; needed when FILE is -)",
    )
    files.add_argument(
        "--out",
        metavar="PATH",
        help="write the result frame (status, error, message_id... per input row) "
        "to PATH (.csv, .parquet or .jsonl)",
    )
    files.add_argument(
        "--rejects",
        metavar="PATH",
        help="write the input rows that were not sent to PATH, after columns _cio_row, "
        "_cio_status and _cio_error; fix them and send that file again (those three "
        "columns are not sent)",
    )
    files.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")


_DESCRIPTION = """\
Send the rows of a CSV, Parquet or JSON Lines file to Customer.io's Data
Pipelines API, one call per row, and print a report of what happened.
"""

_EPILOG = """\
examples:
  pandas-cio identify people.parquet --user-id id
  pandas-cio track events.csv --user-id uid --event name --timestamp ts
  pandas-cio track signups.csv --user-id uid --event "Signed Up" --dry-run
  pandas-cio semantic ecommerce "Order Completed" orders.csv --user-id customer_id
  pandas-cio demo

An option that takes COLUMN|VALUE reads the column of that name when the file
has one, and is one constant for every row otherwise.

environment:
  CIO_API_KEY   the API key (never an option: it would leak into shell history and ps)
  CIO_REGION    us or eu, when the key does not say
  CIO_BASE_URL  the endpoint, when --base-url is not given (such as the local fake)

exit status (once sending started, the report is printed and --out and
--rejects are written whatever the status):
  0   every row was sent (or, with --dry-run, is ready to send)
  1   some rows were not sent (see the report and --out / --rejects)
  2   bad usage or configuration: unknown option, missing column, unreadable
      file, no CIO_API_KEY (nothing sent), or a key the service refused
  3   the ledger failed (could not be opened, read or written); rows sent
      before are in --out as sent
  4   the service looked down, so sending stopped; re-send the failed rows later
  130 interrupted (Ctrl-C)
  143 terminated (SIGTERM)
"""


def _command_parser(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], command: Command
) -> None:
    leaf = command.words[-1]
    typed = " ".join(["pandas-cio", *command.words])
    what = command.operations[0].summary if len(command.operations) == 1 else command.summary
    epilog = None
    if command.takes_event:
        epilog = "event names:\n" + "\n".join(f"  {name}" for name in command.events)
    parser = parent.add_parser(
        leaf,
        # The Python spelling works too: semantic ab_test as well as ab-test.
        aliases=[alias] if (alias := command.method.split(".")[-1]) != leaf else [],
        help=command.summary,
        description=f"{what[:1].upper()}{what[1:].rstrip('.')}.\n\nRuns "
        f"df.cio.{command.method}() on the rows of FILE and prints the send report.",
        epilog=epilog,
        formatter_class=_formatter,
        usage=f"{typed} {'EVENT ' if command.takes_event else ''}FILE [options]",
    )
    if command.takes_event:
        parser.add_argument("event_name", metavar="EVENT", help="the event name (listed below)")
    parser.add_argument("file", metavar="FILE", help="the data file (.csv, .parquet, .jsonl) or -")
    group = parser.add_argument_group("columns")
    for option in command.options:
        if option.kind == "flag":
            group.add_argument(
                option.flag, dest=option.param, action="store_true", help=option.help
            )
        else:
            group.add_argument(
                option.flag,
                dest=option.param,
                metavar=option.metavar,
                required=option.required,
                help=option.help,
            )
    _add_shared_options(parser)
    parser.set_defaults(command=command, parser=parser)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``pandas-cio`` command."""
    parser = _Parser(
        prog="pandas-cio",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action="version", version=f"pandas-cio {__version__}")
    # Subparsers are made of the parser's own class (_Parser) at run time; typed
    # as plain parsers so that other modules can add commands of their own.
    top = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True),
    )
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in commands():
        *path, _ = command.words
        target = top
        for word in path:
            if word not in groups:
                members = [c.words[-1] for c in commands() if c.words[:-1] == [word]]
                group = top.add_parser(
                    word,
                    help=f"{word} commands: {', '.join(members)}",
                    description=f"The {word} commands; run one with --help for its options.",
                    formatter_class=_formatter,
                )
                groups[word] = group.add_subparsers(
                    dest=f"{word}_command", metavar="COMMAND", required=True
                )
            target = groups[word]
        _command_parser(target, command)
    demo = top.add_parser(
        "demo",
        help="send sample data to a local fake of the service (no credentials needed)",
        description="Send sample people and events to a local fake of the service and "
        "print the send reports. Needs no credentials and no network.",
        formatter_class=_formatter,
    )
    demo.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    demo.set_defaults(command=None, parser=demo)
    add_fake_parser(top)
    runs = top.add_parser(
        "runs",
        help="print the sync history a ledger keeps (one row per send)",
        description="Print the sync history kept in a ledger file: one row per send with "
        "its operation, start, outcome, rows per status, requests and the top reasons.",
        formatter_class=_formatter,
    )
    runs.add_argument("--ledger", metavar="PATH", required=True, help="the ledger file")
    runs.add_argument("--operation", metavar="NAME", help="only this operation's sends")
    runs.add_argument("--last", type=int, metavar="N", help="only the last N sends")
    runs.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    runs.set_defaults(command=None, parser=runs)
    return parser


# Running a command


def _argument(option: Option, text: str) -> Any:
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


def _client(args: argparse.Namespace) -> Client:
    if not os.environ.get("CIO_API_KEY", "").strip():
        raise UsageError("no API key: set the CIO_API_KEY environment variable (or use --dry-run)")
    options: dict[str, Any] = {"region": args.region, "base_url": args.base_url, "gzip": args.gzip}
    if args.rate_limit:
        try:
            requests, seconds = args.rate_limit.split("/")
            options["rate_limit"] = RateLimit(int(requests), float(seconds))
        except ValueError as exc:
            raise UsageError(
                f"--rate-limit {args.rate_limit!r}: expected N/SECONDS, like 3000/3"
            ) from exc
    if args.workers is not None:
        options["workers"] = args.workers
    if args.retries is not None:
        options["retry"] = args.retries
    if args.timeout is not None:
        options["timeout"] = (DEFAULT_TIMEOUT[0], args.timeout)
    return Client(**options)


def _finish(args: argparse.Namespace, frame: pd.DataFrame, result: pd.DataFrame) -> SendReport:
    inputs = result
    if "action" in result.columns:
        # --mirror: deletion rows ("mirror:0"...) follow the input's; --out gets
        # every row (row numbers as text, one type with the labels), --rejects
        # only input rows (a failed deletion is retried by the next run).
        inputs = result[(result["action"] == "send").to_numpy()]
        result = result.set_axis(result.index.astype(str))
    if args.out:
        write_frame(result, args.out)
    if args.rejects:
        write_rejects(frame, inputs, args.rejects)
    report: SendReport = result.cio.report()
    # The rows' reasons are the library's (``signup_at (timestamp=): ...``), and
    # stay so in --out; the printed report says them in the command's words.
    spoken = tuple(
        replace(reason, text=cli_spelling(reason.text, args.command)) for reason in report.reasons
    )
    print(replace(report, reasons=spoken))
    return report


def _send(args: argparse.Namespace) -> int:
    command: Command = args.command
    arguments: dict[str, Any] = {}
    id_columns: list[str] = []
    for option in command.options:
        text = getattr(args, option.param)
        if text is None or text is False:
            continue
        arguments[option.param] = True if text is True else _argument(option, text)
        if option.id_column:
            id_columns.append(text)
    if args.full_refresh and not args.ledger:
        raise UsageError("--full-refresh only means something with --ledger")
    if args.ledger:
        arguments.update(ledger=args.ledger, full_refresh=args.full_refresh)
    if args.mirror and not args.ledger:
        raise UsageError("--mirror needs --ledger: the ledger says what was delivered before")
    if args.mirror:
        arguments["mirror"] = args.mirror
    for flag, name in (
        ("--mirror-max-deletes", "mirror_max_deletes"),
        ("--max-invalid", "max_invalid"),
        ("--max-too-large", "max_too_large"),
    ):
        if getattr(args, name) is not None:
            arguments[name] = _limit(flag, getattr(args, name))
    if args.max_split_requests is not None:
        if args.max_split_requests < 0:
            raise UsageError("--max-split-requests must be 0 or more")
        arguments["max_split_requests"] = args.max_split_requests
    if args.file == "-" and not args.format:
        raise UsageError("reading standard input needs --format")
    fmt = file_format(args.file, args.format)
    _check_output(args.out)
    _check_output(args.rejects)
    # The client first: a missing key should not wait for a large file to load.
    client = None if args.dry_run else _client(args)
    with client or contextlib.nullcontext():
        frame, dropped = drop_rejects_columns(read_frame(args.file, fmt, id_columns))
        if dropped:
            print(
                f"pandas-cio: {args.file} is a rejects file: its {', '.join(dropped)} "
                f"columns are not sent",
                file=sys.stderr,
            )
        logger.debug("read %d rows and %d columns from %s", len(frame), frame.shape[1], args.file)
        method = _resolve(frame.cio, command.method)
        positional = (args.event_name,) if command.takes_event else ()
        try:
            result = method(
                *positional,
                **arguments,
                client=client,
                dry_run=args.dry_run,
                errors=args.errors,
                missing=args.missing,
                progress=args.progress,
                journeys=args.journeys,
            )
        except SchemaError as exc:
            _error(args, f"nothing sent: {cli_spelling(str(exc), command)}")
            return EXIT_NOT_ALL_SENT
        except QualityGateError as exc:
            _finish(args, frame, exc.result)
            _error(args, _refused(exc, args))
            return EXIT_QUALITY_GATE
        except SendError as exc:
            _finish(args, frame, exc.result)
            status, message = _stopped(exc)
            _error(args, message)
            return status
    report = _finish(args, frame, result)
    return EXIT_OK if report.ok else EXIT_NOT_ALL_SENT


def _limit(flag: str, text: str) -> int | float:
    """A limit's text: a count ("10"), a fraction ("0.01") or a percentage ("1%")."""
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text) if "." in text else int(text)
    except ValueError:
        raise UsageError(
            f"{flag} {text!r}: expected a count (10), a fraction (0.01) or a percentage (1%)"
        ) from None


def _runs(args: argparse.Namespace) -> int:
    """Print a ledger's sync history (``pandas-cio runs --ledger FILE``)."""
    from ..ledger.store import SqliteLedger

    if not Path(args.ledger).is_file():
        raise UsageError(f"--ledger {args.ledger!r}: no such file")
    with SqliteLedger(args.ledger) as ledger:
        history = ledger.runs(args.operation)
    if args.last is not None:
        history = history.tail(args.last)
    if history.empty:
        print("no sends recorded in this ledger yet")
        return EXIT_OK
    statuses = [s.value for s in Status if history[s.value].any()]
    columns = ["operation", "started", "outcome", "rows", *statuses, "deleted", "requests"]
    columns += ["retries", "fingerprint", "reasons"]
    shown = history[columns].assign(started=history["started"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    print(shown.to_string(index=False))
    return EXIT_OK


def _refused(exc: QualityGateError, args: argparse.Namespace) -> str:
    """A quality gate's or the mirror guard's message in the command line's words.

    The library's finding is said with the options (``--max-invalid 0``); its
    advice about the exception's ``.result`` becomes where this command put
    the dry-run result (``--out``, ``--rejects``).
    """
    from ..ledger.mirror import EMPTY_ADVICE, GUARD_ADVICE
    from ..outcome.gates import GATE_ADVICE, split

    finding, not_done, advice = split(str(exc))
    command: Command = args.command
    if args.out:
        where = f"See {args.out} (--out) for the dry-run result"
    elif args.rejects:
        where = f"See {args.rejects} (--rejects) for the rows not sent"
    else:
        where = "Pass --out FILE for the dry-run result"
    if advice == GATE_ADVICE:
        advice = f"{where}: fix the rows it lists or raise the limit"
    elif advice == GUARD_ADVICE:
        advice = (
            "Check that the export is whole, or pass a larger --mirror-max-deletes "
            f"(100% allows every deletion). {where}, the planned deletions included"
        )
    elif advice == EMPTY_ADVICE:
        advice = (
            "An empty export is taken for a broken one: to delete everyone, send the "
            f"deletions yourself (pandas-cio {_deletion_command(command, args.mirror)})"
        )
    else:
        advice = cli_spelling(advice, command)
    return f"{cli_spelling(finding, command)}; {not_done}. {advice}"


def _deletion_command(command: Command, action: str | None) -> str:
    """The command that sends the deletions of ``--mirror action`` (``objects delete``)."""
    from ..ledger.mirror import MIRRORS

    target = MIRRORS.get(command.method, {}).get(action or "", "delete")
    return " ".join(part.replace("_", "-") for part in target.split("."))


def _stopped(exc: SendError) -> tuple[int, str]:
    """The exit status and message of a send that ended early (see EXIT_STATUSES)."""
    for kind, status, message in EXIT_STATUSES:
        if isinstance(exc, kind):
            # The cause is the library's own words about the failure (a
            # LedgerError, the breaker's reason), without the advice on .result.
            return status, message.format(cause=exc.__cause__ or exc)
    raise AssertionError("EXIT_STATUSES ends with SendError")  # pragma: no cover


# Library messages in the command line's words

# Send and connection options: the library's keyword and the command's option.
_SHARED_FLAGS = {
    name: "--" + name.replace("_", "-")
    for name in (
        *_SEND_OPTIONS - {"client", "chunk_rows"},
        "region",
        "base_url",
        "workers",
        "timeout",
        "gzip",
        # Options the methods take through **options.
        "mirror",
        "mirror_max_deletes",
        "max_invalid",
        "max_too_large",
    )
}
# A method or call in a message: df.cio.identify(), track(event=...), objects.upsert().
_CALL = re.compile(r"(?:df\.cio\.)?\b([a-z_][a-z_.]*)\(([^()]*)\)")
# A keyword with an optional Python value: user_id='ID', dry_run=True, traits=['a'], timestamp=.
_KEYWORD = re.compile(
    r"\b([a-z][a-z_]*)=(\[[^\]]*\]|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|True|False|None|-?\d+(?:\.\d+)?)?"
)
_NEAR_CONSTANT = re.compile(
    r"(\w+)=('(?:[^'\\]|\\.)*') is not a column, but close to column ('(?:[^'\\]|\\.)*'); "
    r"pass col\(.*?\) for the column or lit\(.*?\) for the constant"
)


def _flags(command: Command | None) -> dict[str, str]:
    """Every keyword the messages may name, with the option that gives it."""
    flags = dict(_SHARED_FLAGS)
    # Every command spells a keyword the same way; the command's own come last
    # only so that they win should that ever change.
    for each in (*commands(), *((command,) if command is not None else ())):
        flags.update({option.param: option.flag for option in each.options})
    return flags


def _commands_by_name() -> dict[str, Command]:
    """Commands by the names messages give them: the method and each operation."""
    names: dict[str, Command] = {}
    for each in commands():
        names[each.method] = each
        for operation in each.operations:
            names.setdefault(operation.name, each)
    return names


def _shell_word(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return shlex.quote(str(value))


def _keyword(flags: Mapping[str, str], match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    flag = flags.get(name)
    if flag is None:
        return match.group(0)
    if value is None:
        return flag
    if value == "[...]":
        return f"{flag} ..."
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return f"{flag} {value}"
    if literal is True:
        return flag
    if literal is False:
        return f"--no-{flag[2:]}"
    if literal is None:
        return flag
    return f"{flag} {_shell_word(literal)}"


def _call(flags: Mapping[str, str], names: Mapping[str, Command], match: re.Match[str]) -> str:
    target = names.get(match.group(1))
    if target is None:
        return match.group(0)
    words = ["pandas-cio", *target.words]
    for part in (p.strip() for p in match.group(2).split(",") if p.strip()):
        if part == "...":
            words.append("...")
        elif "=" in part:
            name, _, value = part.partition("=")
            flag = flags.get(name, "--" + name.replace("_", "-"))
            keyword = _KEYWORD.match(part)
            plain = value in ("", "...") or keyword is None
            words.append(flag if plain or keyword is None else _keyword(flags, keyword))
        else:
            try:
                words.append(_shell_word(ast.literal_eval(part)))
            except (ValueError, SyntaxError):
                words.append(part)
    return " ".join(words)


def cli_spelling(message: str, command: Command | None = None) -> str:
    """Say a library message in the command line's words.

    ``user_id='ID' is not a column`` becomes ``--user-id ID is not a column``,
    ``identify() needs user_id=`` becomes ``needs --user-id`` (the command
    is named before the message already), ``journeys=False`` becomes
    ``--no-journeys`` and ``df.cio.suppress(...)`` ``pandas-cio suppress ...``.

    Parameters
    ----------
    message : str
        The library's message.
    command : Command, optional
        The command that ran; None reads every command's options.

    Returns
    -------
    str

    Examples
    --------
    >>> cli_spelling("user_id='ID' is not a column of the frame; did you mean 'id'?")
    "--user-id ID is not a column of the frame; did you mean 'id'?"
    """
    flags = _flags(command)
    names = _commands_by_name()
    message = _NEAR_CONSTANT.sub(
        lambda m: (
            f"{m.group(1)}={m.group(2)} is not a column, but close to column {m.group(3)}; "
            f"pass {m.group(1)}={m.group(3)} for the column (the command line cannot send "
            f"a constant this close to a column name: rename the column)"
        ),
        message,
    )
    # The command is named before the message, so a leading "identify(): " goes.
    leading = re.match(r"([a-z_][a-z_.]*)\(\)(?::)? ", message)
    if leading and leading.group(1) in names:
        message = message[leading.end() :]
    message = re.sub(
        r"df\.drop\(columns=('(?:[^'\\]|\\.)*')\)", r"remove column \1 from the file", message
    )
    message = message.replace("{column: key}", "column=key,...")
    message = _CALL.sub(lambda m: _call(flags, names, m), message)
    return _KEYWORD.sub(lambda m: _keyword(flags, m), message)


def _error(args: argparse.Namespace, message: str) -> None:
    words = [args.command_name] if args.command is None else args.command.words
    print(f"pandas-cio {' '.join(words)}: error: {message}", file=sys.stderr)


def _configure_logging(verbose: bool) -> None:
    # A command owns its process, so it may configure the root logger (the
    # library never does). Warnings (duplicate rows...) show; -v adds debug.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@contextlib.contextmanager
def _quiet_broken_pipe() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of the send.
        # Point stdout at devnull so that the interpreter's final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 every row was sent (or is ready to send, in a dry run), 1 some
        were not, 2 bad usage or configuration (or a refused key), 3 the
        ledger failed, 4 the service looked down, 5 a quality gate or the
        mirror guard stopped the send, 130 interrupted, 143
        terminated (see ``EXIT_STATUSES``).
    """
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        where = getattr(args, "parser", parser)
        cast(_Parser, where if isinstance(where, _Parser) else parser).unknown(extras)
    _configure_logging(args.verbose)
    with _quiet_broken_pipe():
        if getattr(args, "run", None) is not None:  # pandas-cio fake
            return int(args.run(args))
        if args.command is None and args.command_name == "demo":
            from .demo import run_demo

            return run_demo(sys.stdout)
        try:
            return _runs(args) if args.command is None else _send(args)
        except (UsageError, CioError, ValueError) as exc:
            # CioError here is a ColumnError, ConfigurationError or UnknownEventError
            # (all also ValueErrors): raised before anything is sent, so fixing the
            # command is the way on. -v keeps the traceback for a bug report.
            logger.debug("stopped before sending", exc_info=True)
            _error(args, cli_spelling(str(exc), args.command))
            return EXIT_USAGE
        except KeyboardInterrupt:
            # Ctrl-C while reading the file, before any row was sent.
            _error(args, "interrupted before sending")
            return EXIT_INTERRUPTED
    return EXIT_OK
