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
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pandas as pd

from ..delivery.client import DEFAULT_TIMEOUT, Client
from ..delivery.transport import RateLimit
from ..errors import CioError, QualityGateError, SchemaError, SendError
from ..outcome.columns import ACTION, SEND_ACTION
from ..outcome.report import SendReport
from ..outcome.results import Status
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_LEDGER,
    EXIT_NOT_ALL_SENT,
    EXIT_OK,
    EXIT_QUALITY_GATE,
    EXIT_SERVICE_DOWN,
    EXIT_STATUSES,
    EXIT_TERMINATED,
    EXIT_USAGE,
    UsageError,
    stopped,
)
from .files import (
    REJECTS_COLUMNS,
    check_output,
    drop_rejects_columns,
    file_format,
    read_frame,
    typed_columns,
    write_frame,
    write_rejects,
)
from .options import FLAGGED, Command, argument, commands, flag_of, is_limit, limit, resolve
from .parser import Parser, build_parser
from .spelling import cli_spelling

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_LEDGER",
    "EXIT_NOT_ALL_SENT",
    "EXIT_OK",
    "EXIT_QUALITY_GATE",
    "EXIT_SERVICE_DOWN",
    "EXIT_STATUSES",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "REJECTS_COLUMNS",
    "UsageError",
    "build_parser",
    "cli_spelling",
    "commands",
    "drop_rejects_columns",
    "file_format",
    "main",
    "read_frame",
    "typed_columns",
    "write_frame",
    "write_rejects",
]

logger = logging.getLogger("pandas_cio.cli.main")


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
    if ACTION in result.columns:
        # --mirror: deletion rows ("mirror:0"...) follow the input's; --out gets
        # every row (row numbers as text, one type with the labels), --rejects
        # only input rows (a failed deletion is retried by the next run).
        inputs = result[(result[ACTION] == SEND_ACTION).to_numpy()]
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
        if text is None:
            continue
        arguments[option.param] = argument(option, text)
        if option.id_column:
            id_columns.append(text)
    if args.full_refresh and not args.ledger:
        raise UsageError("--full-refresh only means something with --ledger")
    if args.mirror and not args.ledger:
        raise UsageError("--mirror needs --ledger: the ledger says what was delivered before")
    # Every send option with a flag is passed on as given; unset flags keep the
    # library's defaults (and the switches' defaults are the library's).
    for send_option in FLAGGED:
        flag, value = flag_of(send_option.name), getattr(args, send_option.name)
        if value is None:
            continue
        if is_limit(send_option):
            value = limit(flag, value)
        elif type(value) is int and value < 0:
            raise UsageError(f"{flag} must be 0 or more")
        arguments[send_option.name] = value
    if args.file == "-" and not args.format:
        raise UsageError("reading standard input needs --format")
    fmt = file_format(args.file, args.format)
    check_output(args.out)
    check_output(args.rejects)
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
        method = resolve(frame.cio, command.method)
        positional = (args.event_name,) if command.takes_event else ()
        try:
            result = method(
                *positional,
                **arguments,
                client=client,
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
            status, message = stopped(exc)
            _error(args, message)
            return status
    report = _finish(args, frame, result)
    return EXIT_OK if report.ok else EXIT_NOT_ALL_SENT


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
        cast(Parser, where if isinstance(where, Parser) else parser).unknown(extras)
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
