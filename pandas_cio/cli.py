"""The ``pandas-cio`` command: send a CSV, Parquet or JSON Lines file from a shell or cron.

Run ``pandas-cio --help`` for the commands and ``pandas-cio demo`` for a send
against the built-in fake service.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__

__all__ = ["main"]

# Exit statuses: cron and CI read them.
EXIT_OK = 0
EXIT_NOT_ALL_SENT = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``pandas-cio`` command."""
    parser = argparse.ArgumentParser(
        prog="pandas-cio",
        description="Send the rows of a data file to Customer.io's Data Pipelines API.",
    )
    parser.add_argument("--version", action="version", version=f"pandas-cio {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser(
        "demo",
        help="send sample data to a local fake of the service (no credentials needed)",
        description="Send sample people and events to a local fake of the service and "
        "print the send reports. Needs no credentials and no network.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 when every row was sent (or a dry run found none invalid), 1 when
        some were not, 2 on bad usage.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(sys.stdout)
        parser.error(f"unknown command {args.command!r}")
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of the send.
        # Point stdout at devnull so that the interpreter's final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK
