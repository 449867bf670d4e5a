"""The ``pandas-cio`` argument parser: one subcommand per command, one-line errors.

The commands and their options are :func:`pandas_cio.cli.options.commands`;
the options every sending command shares are the send options' flags
(:data:`pandas_cio.cli.options.FLAGGED`) and the connection and file options
below, which belong to the command line alone.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Sequence
from typing import NoReturn, cast

from .._version import __version__
from ..suggest import close_names
from ..testing._announce import add_fake_parser
from .errors import EXIT_USAGE
from .options import FLAGGED, Command, commands, flag_of, send_flag

__all__ = ["Parser", "build_parser"]


class Parser(argparse.ArgumentParser):
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
    for option in FLAGGED:
        send.add_argument(flag_of(option.name), **send_flag(option))
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
    parser = Parser(
        prog="pandas-cio",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action="version", version=f"pandas-cio {__version__}")
    # Subparsers are made of the parser's own class (Parser) at run time; typed
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
